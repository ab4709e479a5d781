package io.gpuagent.journal;

import java.io.IOException;
import java.util.List;

/**
 * The journal's directory, as the one seam between {@link Journal} and the filesystem, so that
 * tests can count fsyncs and inject failures (a full disk, a failing fsync) without a real device.
 * {@link DiskJournalFiles} is the real one. Every implementation passes the same contract tests.
 * Names are plain file names inside the directory, never paths.
 */
public interface JournalFiles {

    /** Names of the regular files in the directory, in no particular order. */
    List<String> list() throws IOException;

    /**
     * Creates a new empty file, readable and writable.
     *
     * @throws java.nio.file.FileAlreadyExistsException if it exists
     */
    SegmentFile create(String name) throws IOException;

    /**
     * Opens an existing file.
     *
     * @param writable whether it will be written or truncated; dump opens read-only
     * @throws java.nio.file.NoSuchFileException if it does not exist
     */
    SegmentFile open(String name, boolean writable) throws IOException;

    /** Deletes a file; the deletion is durable only after {@link #syncDirectory()}. */
    void delete(String name) throws IOException;

    /** Makes creations and deletions of files durable (fsync of the directory). */
    void syncDirectory() throws IOException;

    /** How to name a file in messages: its full path. */
    String describe(String name);

    /** One open file of the directory. Positional reads and writes only; no shared position. */
    interface SegmentFile extends AutoCloseable {
        /** Current size in bytes. */
        long size() throws IOException;

        /** Reads into {@code dst} from {@code position}; returns the count, or -1 at the end of the file. */
        int read(java.nio.ByteBuffer dst, long position) throws IOException;

        /**
         * Writes from {@code src} at {@code position}; may write fewer bytes than remain (then the
         * caller calls again, and the next call reports the error, as write(2) does on a full disk).
         */
        int write(java.nio.ByteBuffer src, long position) throws IOException;

        /** Cuts the file to {@code size} bytes. */
        void truncate(long size) throws IOException;

        /** fdatasync: the data written so far, and the size, reach stable storage. */
        void force() throws IOException;

        @Override
        void close() throws IOException;
    }
}
