package io.gpuagent.journal;

import java.util.concurrent.atomic.AtomicLong;
import io.gpuagent.util.LatencyHistogram;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of a {@link Journal} for the metrics endpoint: commits, records and bytes made
 * durable, the fsync latency histogram (upper bounds in seconds, as Prometheus histograms want
 * them, the same buckets as the GPU call latency), what is buffered and not yet durable, and the
 * degraded (disk full) state. Read from any thread.
 */
public final class JournalStats {
    /** Upper bounds of the fsync latency buckets, seconds. */
    public static final double[] BUCKETS = LatencyHistogram.BUCKETS;

    private final LatencyHistogram fsync = new LatencyHistogram();
    private final LongAdder commits = new LongAdder();
    private final LongAdder records = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private final LongAdder noSpaceFailures = new LongAdder();
    private final AtomicLong pendingRecords = new AtomicLong();
    private final AtomicLong pendingBytes = new AtomicLong();
    private final AtomicLong segments = new AtomicLong();
    private volatile String degradedReason;

    void recordFsync(long nanos) {
        fsync.record(nanos);
    }

    /** The fsync latency histogram. */
    public LatencyHistogram fsyncLatency() {
        return fsync;
    }

    void recordAppend(int encodedBytes) {
        pendingRecords.incrementAndGet();
        pendingBytes.addAndGet(encodedBytes);
    }

    void recordCommit(int recordCount, long byteCount) {
        commits.increment();
        records.add(recordCount);
        bytes.add(byteCount);
        pendingRecords.addAndGet(-recordCount);
        pendingBytes.addAndGet(-byteCount);
    }

    void recordDropped(int recordCount, long byteCount) {
        pendingRecords.addAndGet(-recordCount);
        pendingBytes.addAndGet(-byteCount);
    }

    void recordNoSpace(String reason) {
        noSpaceFailures.increment();
        degradedReason = reason;
    }

    void clearDegraded() {
        degradedReason = null;
    }

    void segments(long count) {
        segments.set(count);
    }

    /** Group commits that made at least one record durable (one write and one fsync each). */
    public long commits() {
        return commits.sum();
    }

    /** Records made durable. */
    public long records() {
        return records.sum();
    }

    /** Record bytes made durable (segment headers not counted). */
    public long bytes() {
        return bytes.sum();
    }

    /** fdatasyncs of segment files (commits and new segment headers); directory fsyncs not counted. */
    public long fsyncCount() {
        return fsync.count();
    }

    public double fsyncSumSeconds() {
        return fsync.sumSeconds();
    }

    /** Non-cumulative count of fsync latency bucket {@code i} ({@code BUCKETS.length} is +Inf). */
    public long fsyncBucket(int i) {
        return fsync.bucket(i);
    }

    /** Commits that found the disk full. */
    public long noSpaceFailures() {
        return noSpaceFailures.sum();
    }

    /** Records appended and not yet durable (buffered in memory). */
    public long pendingRecords() {
        return pendingRecords.get();
    }

    /** Bytes appended and not yet durable. */
    public long pendingBytes() {
        return pendingBytes.get();
    }

    /** Segment files in the directory. */
    public long segments() {
        return segments.get();
    }

    /** Whether the last commit found the disk full (records are held in memory). */
    public boolean degraded() {
        return degradedReason != null;
    }

    /** Why the journal is degraded, or null. */
    public String degradedReason() {
        return degradedReason;
    }
}
