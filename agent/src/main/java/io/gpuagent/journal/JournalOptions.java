package io.gpuagent.journal;

import java.time.Duration;

/**
 * Tuning of a {@link Journal}.
 *
 * @param segmentBytes      a segment that has reached this size gets no more commits; the next
 *                          commit starts a new segment (one commit is never split, so a segment can
 *                          exceed this by one commit's bytes)
 * @param fsyncWarnAfter    an fsync slower than this is logged as a warning (ZooKeeper's
 *                          {@code fsync.warningthresholdms} idea): at 1 Hz ticks a slow disk delays billing
 */
public record JournalOptions(long segmentBytes, Duration fsyncWarnAfter) {
    /** 64 MiB segments, warn on fsyncs over one second. */
    public static final JournalOptions DEFAULTS = new JournalOptions(64L << 20, Duration.ofSeconds(1));

    public JournalOptions {
        if (segmentBytes < SegmentHeader.SIZE + JournalFormat.RECORD_PREFIX + JournalFormat.MIN_LENGTH) {
            throw new IllegalArgumentException("journal segmentBytes " + segmentBytes + " is too small to hold one record");
        }
        if (fsyncWarnAfter.isNegative()) {
            throw new IllegalArgumentException("journal fsyncWarnAfter must not be negative: " + fsyncWarnAfter);
        }
    }

    /** These options with another segment size. */
    public JournalOptions withSegmentBytes(long bytes) {
        return new JournalOptions(bytes, fsyncWarnAfter);
    }
}
