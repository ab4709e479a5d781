package io.gpuagent.util;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * A lock-free latency histogram with fixed buckets (upper bounds in seconds, as Prometheus
 * histograms want them), shared by every latency the agent reports: NVML calls, journal fsyncs.
 */
public final class LatencyHistogram {
    /** Upper bounds of the buckets, seconds; a last, implicit bucket is +Inf. */
    public static final double[] BUCKETS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
            0.1, 0.25, 0.5, 1, 2.5, 5};

    private final AtomicLongArray buckets = new AtomicLongArray(BUCKETS.length + 1);
    private final LongAdder count = new LongAdder();
    private final LongAdder sumNanos = new LongAdder();

    public void record(long nanos) {
        count.increment();
        sumNanos.add(nanos);
        double seconds = nanos / 1e9;
        int i = 0;
        while (i < BUCKETS.length && seconds > BUCKETS[i]) {
            i++;
        }
        buckets.incrementAndGet(i);
    }

    public long count() {
        return count.sum();
    }

    public double sumSeconds() {
        return sumNanos.sum() / 1e9;
    }

    /** Non-cumulative count of bucket {@code i} ({@code BUCKETS.length} is +Inf). */
    public long bucket(int i) {
        return buckets.get(i);
    }
}
