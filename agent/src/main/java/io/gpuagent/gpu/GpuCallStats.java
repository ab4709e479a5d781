package io.gpuagent.gpu;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Latency and timeouts of guarded GPU driver calls, for the metrics endpoint. Buckets are
 * cumulative-ready upper bounds in seconds, as Prometheus histograms want them.
 */
public final class GpuCallStats {
    /** Upper bounds of the latency buckets, seconds. */
    public static final double[] BUCKETS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
            0.1, 0.25, 0.5, 1, 2.5, 5};

    private final AtomicLongArray bucketCounts = new AtomicLongArray(BUCKETS.length + 1);
    private final LongAdder count = new LongAdder();
    private final LongAdder sumNanos = new LongAdder();
    private final LongAdder timeouts = new LongAdder();
    private final LongAdder skippedWhileHung = new LongAdder();

    void recordLatency(long nanos) {
        count.increment();
        sumNanos.add(nanos);
        double seconds = nanos / 1e9;
        int i = 0;
        while (i < BUCKETS.length && seconds > BUCKETS[i]) {
            i++;
        }
        bucketCounts.incrementAndGet(i);
    }

    void recordTimeout() {
        timeouts.increment();
    }

    void recordSkipped() {
        skippedWhileHung.increment();
    }

    public long count() {
        return count.sum();
    }

    public double sumSeconds() {
        return sumNanos.sum() / 1e9;
    }

    /** Non-cumulative count of bucket {@code i} ({@code BUCKETS.length} is +Inf). */
    public long bucket(int i) {
        return bucketCounts.get(i);
    }

    public long timeouts() {
        return timeouts.sum();
    }

    /** Calls not even started because the device's previous call was still hung. */
    public long skippedWhileHung() {
        return skippedWhileHung.sum();
    }
}
