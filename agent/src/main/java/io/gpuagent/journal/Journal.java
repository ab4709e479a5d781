package io.gpuagent.journal;

import io.gpuagent.util.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The agent's write-ahead journal of metering and session records: the single source of truth
 * for what was launched and what is billed. Records are opaque to it: a type chosen by the caller
 * and a payload. Nothing is acknowledged before it is on stable storage.
 *
 * <h2>On-disk format (version 1)</h2>
 * A directory of segment files named {@code journal-<first sequence, 20 decimal digits, zero-padded>.wal},
 * for example {@code journal-00000000000000000001.wal}; the names sort in journal order. All
 * integers are unsigned and big-endian; CRC32C is the Castagnoli CRC ({@code java.util.zip.CRC32C},
 * iSCSI / ext4's, check value {@code E3069283} for "123456789").
 * <pre>
 * segment  = header record*
 * header   (32 bytes, at offset 0)
 *   0  8  magic            "GPUAJRNL" (47 50 55 41 4A 52 4E 4C)
 *   8  2  version          u16 = 1
 *  10  2  flags            u16 = 0; a reader rejects flags it does not know
 *  12  8  first sequence   u64 >= 1, equal to the number in the file name
 *  20  8  created          u64 epoch milliseconds, wall clock, informational
 *  28  4  header CRC       CRC32C of bytes 0..27
 * record   (starting at offset 32, back to back, no padding)
 *   0  4  length           u32 = 9 + payload bytes (what follows the CRC field)
 *   4  4  CRC              CRC32C of the next {@code length} bytes (type, sequence, payload)
 *   8  1  type             u8: 0 = snapshot (reserved for the journal), 1..255 = the caller's
 *   9  8  sequence         u64, starts at 1, +1 per record across all segments
 *  17  n  payload          n = length - 9, at most 16 MiB
 * </pre>
 * The first record of a segment has the header's first sequence. A snapshot record (type 0) only
 * ever appears as the first record of a segment. A segment holds no trailing bytes after its last
 * record, except a torn tail in the last segment after a crash.
 *
 * <h2>Durability and group commit</h2>
 * {@link #append} only encodes the record and buffers it; its future completes with the record's
 * sequence number after a {@link #commit()} has written it and {@code fdatasync}ed it. One commit
 * writes everything buffered with one write and one {@code force(false)}: the agent commits once
 * per 1 Hz tick for all sessions. {@link #appendDurably} is append, commit and wait, for rare
 * records (launch intent). A segment that has reached {@link JournalOptions#segmentBytes()} gets
 * no more commits: the next one starts a new segment (header fsynced, then the directory).
 *
 * <h2>Snapshots and compaction</h2>
 * {@link #snapshot(byte[])} writes a type 0 record as the first record of a new segment, makes it
 * durable, deletes every older segment and fsyncs the directory. Recovery replays from the newest
 * segment that starts with a snapshot (or from the first segment), and finishes an interrupted
 * compaction by deleting what is older.
 *
 * <h2>Recovery ({@link #open})</h2>
 * Every header, CRC and sequence number is checked. Bad bytes at the end of the last segment
 * (an incomplete or CRC-bad last record, with no intact record after it) are a torn tail: a write
 * the crash interrupted, never acknowledged; they are truncated and logged with their size. A last
 * segment shorter than its header (a crash while creating it) is deleted. Anything else (a bad
 * header, a CRC failure or a sequence gap anywhere else) is a {@link JournalCorruptException}
 * naming the file and offset; nothing is skipped silently.
 *
 * <h2>Failures</h2>
 * A failed fsync, or a write that failed for any reason but a full disk, is fatal
 * ({@link JournalFatalException}): from then on the journal refuses everything and the daemon exits
 * with code 6. A full disk is not fatal: the records stay buffered in order, their futures stay
 * incomplete, {@link #isDegraded()} turns true with a reason, the partial write is truncated, and
 * every later commit retries; when space returns, everything is written once, in order.
 *
 * <h2>Threading</h2>
 * {@code append}, {@code appendDurably} and {@code snapshot} may be called from any thread; commits
 * are meant for one thread (the metering tick) but are serialized by a lock, so the synchronous
 * methods can commit from others. Appends are never blocked by an fsync in progress: they take only
 * the intake lock, which a commit holds just long enough to take the buffered records. Futures are
 * completed by the committing thread after it releases its locks; callbacks must not block.
 *
 * <p>Why this class is longer than 400 lines: a fifth of it is the on-disk format above, and
 * intake, group commit, rotation, snapshots and the full-disk backlog all hang on the two locks
 * described under Threading, whose protocol is easier to check in one file; the byte-level parts
 * live apart ({@link ActiveSegment}, {@link JournalScanner}, {@link SegmentHeader}, {@link JournalFormat}).
 */
public final class Journal implements AutoCloseable {
    /** Type of snapshot records; callers use 1..255. */
    public static final int SNAPSHOT = 0;

    private static final Logger log = LoggerFactory.getLogger(Journal.class);
    /** Larger backlogs (after a full disk) are written in several write + fsync rounds of about this size. */
    private static final int MAX_RUN_BYTES = 8 << 20;
    private static final int BATCH_BUFFER_BYTES = 64 << 10;

    private final JournalFiles files;
    private final JournalOptions options;
    private final Clock clock;
    private final JournalStats stats = new JournalStats();
    private final JournalScanner.Result recovery;

    private final ReentrantLock intakeLock = new ReentrantLock();
    /** Appended, not yet taken by a commit; guarded by intakeLock. */
    private List<Pending> pending = new ArrayList<>();
    private long nextSeq;
    /** Set once: why appends are refused (fatal failure or closed); guarded by intakeLock. */
    private JournalException refusal;

    private final ReentrantLock commitLock = new ReentrantLock();
    /** Taken by a commit and not yet durable (the disk was full), in sequence order; guarded by commitLock. */
    private final ArrayDeque<Pending> unwritten = new ArrayDeque<>();
    /** Segments before the active one, oldest first; guarded by commitLock. */
    private final List<String> olderSegments = new ArrayList<>();
    private ActiveSegment active;
    private ByteBuffer batch = ByteBuffer.allocateDirect(BATCH_BUFFER_BYTES);

    private static final class Pending {
        final long seq;
        final boolean snapshot;
        final byte[] bytes;
        final CompletableFuture<Long> future = new CompletableFuture<>();
        /** Set under commitLock once written and fsynced; the future completes a moment later. */
        volatile boolean durable;

        Pending(long seq, boolean snapshot, byte[] bytes) {
            this.seq = seq;
            this.snapshot = snapshot;
            this.bytes = bytes;
        }
    }

    private Journal(JournalFiles files, JournalOptions options, Clock clock, JournalScanner.Result recovery) {
        this.files = files;
        this.options = options;
        this.clock = clock;
        this.recovery = recovery;
        this.nextSeq = recovery.nextSeq();
    }

    /** Opens (creating it if needed) the journal in {@code dir} with default options; see {@link #open(JournalFiles, JournalOptions, Clock, Consumer)}. */
    public static Journal open(Path dir, Clock clock, Consumer<JournalRecord> replay) throws IOException {
        return open(DiskJournalFiles.open(dir, true), JournalOptions.DEFAULTS, clock, replay);
    }

    /**
     * Recovers the journal and opens it for appending. {@code replay} receives every record from the
     * newest snapshot on (the snapshot first), in order, before this returns. If this throws, discard
     * whatever {@code replay} built.
     *
     * @throws JournalCorruptException when the journal is damaged other than by a torn tail
     * @throws IOException             when the directory cannot be read or repaired
     */
    public static Journal open(JournalFiles files, JournalOptions options, Clock clock, Consumer<JournalRecord> replay)
            throws IOException {
        JournalScanner.Result r = JournalScanner.scan(files, JournalScanner.Mode.RECOVER, e -> replay.accept(e.record()));
        Journal j = new Journal(files, options, clock, r);
        j.repairAndOpen();
        return j;
    }

    private void repairAndOpen() throws IOException {
        boolean directoryChanged = false;
        for (String s : recovery.superseded()) {
            files.delete(s);
            log.info("journal: deleted {}, superseded by the snapshot in {} (compaction finished)", files.describe(s),
                    recovery.segments().get(0).name());
            directoryChanged = true;
        }
        if (recovery.tornCreation().isPresent()) {
            String n = recovery.tornCreation().get();
            files.delete(n);
            log.warn("journal: deleted {}: shorter than a segment header, left by a crash while it was being created", files.describe(n));
            directoryChanged = true;
        }
        if (directoryChanged) {
            files.syncDirectory();
        }
        recovery.tornTail().ifPresent(t -> log.warn("journal: truncating a torn tail of {} bytes at offset {} of {} ({});"
                + " it was never acknowledged. Appending continues at record {}", t.bytes(), t.offset(),
                files.describe(t.segment()), t.problem(), recovery.nextSeq()));
        List<JournalScanner.SegmentState> segments = recovery.segments();
        if (segments.isEmpty()) {
            try {
                active = ActiveSegment.create(files, nextSeq, clock, stats, options);
            } catch (ActiveSegment.NoSpaceException e) {
                throw new IOException("cannot create the first journal segment: " + e.getMessage(), e.getCause());
            }
        } else {
            for (int i = 0; i < segments.size() - 1; i++) {
                olderSegments.add(segments.get(i).name());
            }
            active = ActiveSegment.reopen(files, segments.get(segments.size() - 1), clock, stats, options);
        }
        stats.segments(olderSegments.size() + 1);
        log.info("journal: recovered {} records from {} segments{}; next record is {}", recovery.records(),
                segments.size(), recovery.snapshotSeq().isPresent() ? " starting at snapshot " + recovery.snapshotSeq().getAsLong() : "",
                nextSeq);
    }

    /**
     * Buffers a record. Its future completes with its sequence number once it is durable (after a
     * commit), exceptionally with {@link JournalFatalException} or {@link JournalClosedException}
     * if it never will be.
     *
     * @param type    1..255, the caller's record type
     * @param payload at most 16 MiB; copied, so the caller may reuse the array
     * @throws JournalException when the journal refuses records (after a fatal failure, or closed)
     */
    public CompletableFuture<Long> append(int type, byte[] payload) throws JournalException {
        checkType(type);
        return enqueue(type, payload).future;
    }

    /**
     * Appends a record and commits it: returns its sequence number once it is durable.
     *
     * @throws JournalDegradedException when the disk is full: the record stays buffered and is written later
     * @throws JournalFatalException    when an fsync failed
     */
    public long appendDurably(int type, byte[] payload) throws JournalException {
        checkType(type);
        return commitOne(enqueue(type, payload));
    }

    /**
     * Writes {@code state} as a snapshot record at the start of a new segment, makes it durable and
     * then deletes all older segments. {@code state} must reflect every record appended before this
     * call: the caller serializes snapshot against its own appends (the metering tick does both).
     *
     * @return the snapshot's sequence number
     * @throws JournalDegradedException when the disk is full: the snapshot is written, and compaction
     *                                  done, by the first commit after space returns
     */
    public long snapshot(byte[] state) throws JournalException {
        return commitOne(enqueue(SNAPSHOT, state));
    }

    private long commitOne(Pending p) throws JournalException {
        commit();
        if (!p.durable) {
            throw new JournalDegradedException(p.seq, degradedReason().orElse("the disk is full"));
        }
        return p.seq;
    }

    /**
     * Group commit: writes every buffered record with one write and one fdatasync (several for a
     * backlog over 8 MiB or around a snapshot), then completes their futures.
     *
     * @return how many records became durable; 0 when nothing was buffered or the disk is still full
     * @throws JournalFatalException when a write or fsync failed other than for space; final
     * @throws JournalClosedException when the journal was closed
     */
    public int commit() throws JournalException {
        List<Pending> done = new ArrayList<>();
        List<Pending> failed = List.of();
        JournalFatalException failure = null;
        commitLock.lock();
        try {
            intakeLock.lock();
            try {
                if (refusal != null) {
                    throw refused();
                }
                unwritten.addAll(pending);
                pending = new ArrayList<>();
            } finally {
                intakeLock.unlock();
            }
            if (unwritten.isEmpty()) {
                return 0;
            }
            try {
                writeUnwritten(done);
                if (stats.degraded()) {
                    stats.clearDegraded();
                    log.info("journal: writable again; the records held in memory are durable now (last {})", done.get(done.size() - 1).seq);
                }
            } catch (ActiveSegment.NoSpaceException e) {
                enterDegraded(e);
            } catch (JournalFatalException e) {
                failure = e;
                failed = refuseAll(e);
            }
        } finally {
            commitLock.unlock();
        }
        done.forEach(p -> p.future.complete(p.seq));
        for (Pending p : failed) {
            p.future.completeExceptionally(failure);
        }
        if (failure != null) {
            throw failure;
        }
        return done.size();
    }

    private void writeUnwritten(List<Pending> done) throws ActiveSegment.NoSpaceException, JournalFatalException {
        while (!unwritten.isEmpty()) {
            Pending head = unwritten.peekFirst();
            boolean newSegment = head.snapshot
                    ? !(active.records() == 0 && active.firstSeq() == head.seq)
                    : active.records() > 0 && active.size() >= options.segmentBytes();
            if (newSegment) {
                rotate(head.seq);
            }
            if (active.firstSeq() + active.records() != head.seq) {
                throw new IllegalStateException("journal bug: segment " + active.name() + " expects record "
                        + (active.firstSeq() + active.records()) + " but the next buffered one is " + head.seq);
            }
            int count = 0;
            long bytes = 0;
            for (Pending p : unwritten) {
                if (count > 0 && (p.snapshot || bytes + p.bytes.length > MAX_RUN_BYTES)) {
                    break;
                }
                count++;
                bytes += p.bytes.length;
            }
            ByteBuffer buf = batchBuffer((int) bytes);
            int i = 0;
            for (Pending p : unwritten) {
                if (i++ == count) {
                    break;
                }
                buf.put(p.bytes);
            }
            buf.flip();
            active.append(buf, count);
            for (int k = 0; k < count; k++) {
                Pending p = unwritten.pollFirst();
                p.durable = true;
                done.add(p);
            }
            stats.recordCommit(count, bytes);
            if (head.snapshot) {
                compact();
            }
        }
        if (batch.capacity() > BATCH_BUFFER_BYTES * 16) {
            batch = ByteBuffer.allocateDirect(BATCH_BUFFER_BYTES); // after a backlog, give the memory back
        }
    }

    private ByteBuffer batchBuffer(int bytes) {
        if (batch.capacity() < bytes) {
            batch = ByteBuffer.allocateDirect(Math.max(bytes, batch.capacity() * 2));
        }
        batch.clear();
        return batch;
    }

    private void rotate(long firstSeq) throws ActiveSegment.NoSpaceException, JournalFatalException {
        ActiveSegment next = ActiveSegment.create(files, firstSeq, clock, stats, options);
        ActiveSegment previous = active;
        olderSegments.add(previous.name());
        active = next;
        previous.close();
        stats.segments(olderSegments.size() + 1);
        log.info("journal: started segment {} after {} ({} bytes, {} records)", next.name(), previous.name(),
                previous.size(), previous.records());
    }

    /** Deletes the segments before the active one, whose first record is a durable snapshot. */
    private void compact() throws JournalFatalException {
        int deleted = 0;
        while (!olderSegments.isEmpty()) {
            String name = olderSegments.get(0);
            try {
                files.delete(name);
            } catch (NoSuchFileException e) {
                // already gone: nothing to do
            } catch (IOException e) {
                // oldest first, stop at the first failure: the rest stays a contiguous chain, and open deletes it
                log.warn("journal: could not delete {}, superseded by snapshot segment {}: {}; retried at the next"
                        + " snapshot or start", files.describe(name), active.name(), e.toString());
                break;
            }
            olderSegments.remove(0);
            deleted++;
        }
        if (deleted > 0) {
            try {
                files.syncDirectory();
            } catch (IOException e) {
                throw ActiveSegment.fatal("fsync of the journal directory after compaction", files.describe(active.name()), e);
            }
            log.info("journal: snapshot in {}; deleted {} older segments", active.name(), deleted);
        }
        stats.segments(olderSegments.size() + 1);
    }

    private void enterDegraded(ActiveSegment.NoSpaceException e) {
        long bytes = 0;
        for (Pending p : unwritten) {
            bytes += p.bytes.length;
        }
        String reason = e.getMessage() + "; " + unwritten.size() + " records (" + bytes + " bytes) held in memory,"
                + " retried at every commit";
        if (!stats.degraded()) {
            log.warn("journal degraded: {}. New launches are refused until space returns; running sessions keep being metered", reason);
        } else {
            log.debug("journal still degraded: {}", reason);
        }
        stats.recordNoSpace(reason);
    }

    private List<Pending> refuseAll(JournalFatalException e) {
        List<Pending> failed = new ArrayList<>(unwritten);
        unwritten.clear();
        intakeLock.lock();
        try {
            refusal = e;
            failed.addAll(pending);
            pending = new ArrayList<>();
        } finally {
            intakeLock.unlock();
        }
        stats.recordDropped(failed.size(), failed.stream().mapToLong(p -> p.bytes.length).sum());
        log.error("{} ({} records not durable are failed)", e.getMessage(), failed.size());
        return failed;
    }

    private Pending enqueue(int type, byte[] payload) throws JournalException {
        Objects.requireNonNull(payload, "payload");
        if (payload.length > JournalFormat.MAX_PAYLOAD) {
            throw new IllegalArgumentException("journal payload of " + payload.length + " bytes is over the "
                    + JournalFormat.MAX_PAYLOAD + "-byte limit");
        }
        intakeLock.lock();
        try {
            if (refusal != null) {
                throw refused();
            }
            long seq = nextSeq++;
            Pending p = new Pending(seq, type == SNAPSHOT, JournalFormat.encodeRecord(type, seq, payload));
            pending.add(p);
            stats.recordAppend(p.bytes.length);
            return p;
        } finally {
            intakeLock.unlock();
        }
    }

    /** A fresh exception (with the first as cause), so that each caller gets its own stack trace. */
    private JournalException refused() {
        if (refusal instanceof JournalFatalException f) {
            return new JournalFatalException("journal refuses records after a fatal failure: " + f.getMessage(), f);
        }
        return new JournalClosedException("journal is closed");
    }

    private static void checkType(int type) {
        if (type < 1 || type > 255) {
            throw new IllegalArgumentException("journal record type must be 1..255 (0 is the snapshot), got " + type);
        }
    }

    /** Whether the disk was full at the last commit: records are held in memory, new launches must be refused. */
    public boolean isDegraded() {
        return stats.degraded();
    }

    /** Why the journal is degraded, when it is. */
    public Optional<String> degradedReason() {
        return Optional.ofNullable(stats.degradedReason());
    }

    /** Counters for the metrics endpoint. */
    public JournalStats stats() {
        return stats;
    }

    /** What recovery found when the journal was opened. */
    public JournalScanner.Result recovery() {
        return recovery;
    }

    /**
     * Commits what is buffered, then refuses further records and closes the active segment. Records
     * that could not be written (disk still full) are failed with {@link JournalClosedException}
     * and logged: only their in-memory copy existed.
     */
    @Override
    public void close() {
        intakeLock.lock();
        try {
            if (refusal instanceof JournalClosedException) {
                return;
            }
        } finally {
            intakeLock.unlock();
        }
        try {
            commit();
        } catch (JournalException e) {
            log.warn("journal: final commit at close: {}", e.getMessage());
        }
        List<Pending> dropped = new ArrayList<>();
        commitLock.lock();
        try {
            intakeLock.lock();
            try {
                if (refusal == null) {
                    refusal = new JournalClosedException("journal is closed");
                }
                dropped.addAll(unwritten);
                dropped.addAll(pending);
                pending = new ArrayList<>();
                unwritten.clear();
            } finally {
                intakeLock.unlock();
            }
            active.close();
        } finally {
            commitLock.unlock();
        }
        if (!dropped.isEmpty()) {
            stats.recordDropped(dropped.size(), dropped.stream().mapToLong(p -> p.bytes.length).sum());
            log.error("journal closed with {} records not durable ({} to {}): {}", dropped.size(), dropped.get(0).seq,
                    dropped.get(dropped.size() - 1).seq, degradedReason().orElse("appended after the final commit"));
            JournalClosedException e = new JournalClosedException("journal closed before the record was durable");
            dropped.forEach(p -> p.future.completeExceptionally(e));
        }
    }
}
