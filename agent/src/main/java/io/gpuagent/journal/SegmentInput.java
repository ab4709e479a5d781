package io.gpuagent.journal;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Buffered positional reads of one segment for recovery and dump: a sliding window, so that
 * replaying a 64 MiB segment neither takes two syscalls per record nor the whole file in memory.
 */
final class SegmentInput {
    private static final int WINDOW = 256 * 1024;

    private final JournalFiles.SegmentFile file;
    private final long size;
    private final ByteBuffer window = ByteBuffer.allocate(WINDOW);
    private long windowStart;
    private int windowLength;

    SegmentInput(JournalFiles.SegmentFile file, long size) {
        this.file = file;
        this.size = size;
    }

    long size() {
        return size;
    }

    /** {@code length} bytes at {@code position}; the caller checks they lie inside the file. */
    byte[] bytes(long position, int length) throws IOException {
        byte[] out = new byte[length];
        if (length > WINDOW) {
            ByteBuffer dst = ByteBuffer.wrap(out);
            while (dst.hasRemaining()) {
                int n = file.read(dst, position + dst.position());
                if (n < 0) {
                    throw new EOFException("segment shrank while being read, at " + (position + dst.position()));
                }
            }
            return out;
        }
        fill(position, length);
        System.arraycopy(window.array(), (int) (position - windowStart), out, 0, length);
        return out;
    }

    int intAt(long position) throws IOException {
        fill(position, 4);
        return window.getInt((int) (position - windowStart));
    }

    long longAt(long position) throws IOException {
        fill(position, 8);
        return window.getLong((int) (position - windowStart));
    }

    private void fill(long position, int length) throws IOException {
        if (position >= windowStart && position + length <= windowStart + windowLength) {
            return;
        }
        window.clear();
        window.limit((int) Math.min(WINDOW, size - position));
        while (window.hasRemaining()) {
            int n = file.read(window, position + window.position());
            if (n < 0) {
                throw new EOFException("segment shrank while being read, at " + (position + window.position()));
            }
        }
        windowStart = position;
        windowLength = window.position();
        if (length > windowLength) {
            throw new EOFException("read of " + length + " bytes at " + position + " past the end (" + size + ")");
        }
    }
}
