package io.gpuagent.gpu;

import io.gpuagent.util.LatencyHistogram;
import java.util.concurrent.atomic.LongAdder;

/**
 * Latency and timeouts of guarded GPU driver calls, for the metrics endpoint. Buckets are
 * cumulative-ready upper bounds in seconds, as Prometheus histograms want them.
 */
public final class GpuCallStats {
    /** Upper bounds of the latency buckets, seconds. */
    public static final double[] BUCKETS = LatencyHistogram.BUCKETS;

    private final LatencyHistogram latency = new LatencyHistogram();
    private final LongAdder timeouts = new LongAdder();
    private final LongAdder skippedWhileHung = new LongAdder();

    void recordLatency(long nanos) {
        latency.record(nanos);
    }

    public LatencyHistogram latency() {
        return latency;
    }

    void recordTimeout() {
        timeouts.increment();
    }

    void recordSkipped() {
        skippedWhileHung.increment();
    }

    public long count() {
        return latency.count();
    }

    public double sumSeconds() {
        return latency.sumSeconds();
    }

    /** Non-cumulative count of bucket {@code i} ({@code BUCKETS.length} is +Inf). */
    public long bucket(int i) {
        return latency.bucket(i);
    }

    public long timeouts() {
        return timeouts.sum();
    }

    /** Calls not even started because the device's previous call was still hung. */
    public long skippedWhileHung() {
        return skippedWhileHung.sum();
    }
}
