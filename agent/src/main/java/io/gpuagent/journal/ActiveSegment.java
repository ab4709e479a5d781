package io.gpuagent.journal;

import io.gpuagent.util.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The segment the journal appends to, owned by the committing thread. Tracks the durable size:
 * every write goes at that position, and a write cut short by a full disk is truncated back to it,
 * so a retry never leaves half a batch in the middle of the file.
 */
final class ActiveSegment implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ActiveSegment.class);

    /** A write found the filesystem full; the segment is back at its durable size. */
    static final class NoSpaceException extends Exception {
        NoSpaceException(String message, IOException cause) {
            super(message, cause);
        }
    }

    private final JournalFiles.SegmentFile file;
    private final String name;
    private final String path;
    private final long firstSeq;
    private final Clock clock;
    private final JournalStats stats;
    private final long warnNanos;
    private long durableSize;
    private long records;

    private ActiveSegment(JournalFiles files, JournalFiles.SegmentFile file, String name, long firstSeq, long durableSize,
                          long records, Clock clock, JournalStats stats, JournalOptions options) {
        this.file = file;
        this.name = name;
        this.path = files.describe(name);
        this.firstSeq = firstSeq;
        this.durableSize = durableSize;
        this.records = records;
        this.clock = clock;
        this.stats = stats;
        this.warnNanos = options.fsyncWarnAfter().toNanos();
    }

    /**
     * Creates segment {@code journal-<firstSeq>.wal}: header written and fsynced, then the directory
     * fsynced, so that the file exists after a crash before any record goes into it.
     */
    static ActiveSegment create(JournalFiles files, long firstSeq, Clock clock, JournalStats stats, JournalOptions options)
            throws NoSpaceException, JournalFatalException {
        String name = JournalFormat.segmentName(firstSeq);
        JournalFiles.SegmentFile f;
        try {
            f = files.create(name);
        } catch (IOException e) {
            throw classify("creating the segment", files.describe(name), e);
        }
        ActiveSegment s = new ActiveSegment(files, f, name, firstSeq, 0, 0, clock, stats, options);
        ByteBuffer header = SegmentHeader.forNewSegment(firstSeq, clock.wallTime()).encode();
        try {
            writeFully(f, header, 0);
        } catch (IOException e) {
            s.close();
            try {
                files.delete(name);
            } catch (IOException d) {
                e.addSuppressed(d); // recovery removes a segment shorter than its header
            }
            throw classify("writing the segment header", s.path, e);
        }
        s.force(SegmentHeader.SIZE);
        s.durableSize = SegmentHeader.SIZE;
        try {
            files.syncDirectory();
        } catch (IOException e) {
            s.close();
            throw fatal("fsync of the journal directory after creating " + name, s.path, e);
        }
        return s;
    }

    /** Reopens the last segment found by recovery, cutting a torn tail off first. */
    static ActiveSegment reopen(JournalFiles files, JournalScanner.SegmentState state, Clock clock, JournalStats stats,
                                JournalOptions options) throws IOException {
        JournalFiles.SegmentFile f = files.open(state.name(), true);
        ActiveSegment s = new ActiveSegment(files, f, state.name(), state.header().firstSeq(), state.validEnd(),
                state.records(), clock, stats, options);
        if (f.size() > state.validEnd()) {
            s.cutBack();
        }
        return s;
    }

    String name() {
        return name;
    }

    long firstSeq() {
        return firstSeq;
    }

    /** Bytes durable in this segment, header included. */
    long size() {
        return durableSize;
    }

    long records() {
        return records;
    }

    /** Writes {@code batch} (whole records) after the durable end with one write and one fdatasync. */
    void append(ByteBuffer batch, int recordCount) throws NoSpaceException, JournalFatalException {
        int bytes = batch.remaining();
        try {
            writeFully(file, batch, durableSize);
        } catch (IOException e) {
            if (!OutOfSpace.is(e)) {
                throw fatal("write", path, e);
            }
            cutBack();
            throw new NoSpaceException("the filesystem is full: writing " + bytes + " bytes to " + path + " failed ("
                    + e.getMessage() + ")", e);
        }
        force(bytes);
        durableSize += bytes;
        records += recordCount;
    }

    /** Truncates whatever lies past the durable end (a partial write) and makes that durable. */
    private void cutBack() throws JournalFatalException {
        try {
            file.truncate(durableSize);
        } catch (IOException e) {
            throw fatal("truncating a partial write back to offset " + durableSize, path, e);
        }
        force(0);
    }

    private void force(int bytes) throws JournalFatalException {
        long start = clock.monotonicNanos();
        try {
            file.force();
        } catch (IOException e) {
            throw fatal("fsync (fdatasync)", path, e);
        }
        long nanos = clock.monotonicNanos() - start;
        stats.recordFsync(nanos);
        if (nanos > warnNanos) {
            log.warn("journal fsync of {} bytes to {} took {} ms; a slow disk delays every session's billing", bytes,
                    path, nanos / 1_000_000);
        }
    }

    @Override
    public void close() {
        try {
            file.close();
        } catch (IOException e) {
            log.warn("journal: closing {} failed: {}", path, e.toString());
        }
    }

    private static void writeFully(JournalFiles.SegmentFile f, ByteBuffer src, long position) throws IOException {
        long pos = position;
        while (src.hasRemaining()) {
            pos += f.write(src, pos);
        }
    }

    private static NoSpaceException classify(String what, String path, IOException e) throws JournalFatalException {
        if (OutOfSpace.is(e)) {
            return new NoSpaceException("the filesystem is full: " + what + " " + path + " failed (" + e.getMessage() + ")", e);
        }
        throw fatal(what, path, e);
    }

    static JournalFatalException fatal(String what, String path, IOException e) {
        return new JournalFatalException("journal " + what + " failed on " + path + ": " + e
                + ". The journal cannot promise durability any more and refuses all further records; the agent exits"
                + " (code 6) so that systemd restarts it, and recovery keeps every acknowledged record.", e);
    }
}
