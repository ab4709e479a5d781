package io.gpuagent.metrics;

import io.gpuagent.util.LatencyHistogram;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.Unit;

import java.util.List;

/** Exposes the agent's {@link LatencyHistogram}s as Prometheus classic histograms. */
final class Histograms {
    private Histograms() {
    }

    static HistogramSnapshot seconds(String name, String help, LatencyHistogram h) {
        double[] bounds = new double[LatencyHistogram.BUCKETS.length + 1];
        long[] counts = new long[bounds.length];
        for (int i = 0; i < bounds.length; i++) {
            bounds[i] = i < LatencyHistogram.BUCKETS.length ? LatencyHistogram.BUCKETS[i] : Double.POSITIVE_INFINITY;
            counts[i] = h.bucket(i);
        }
        return new HistogramSnapshot(new MetricMetadata(name, help, Unit.SECONDS),
                List.of(new HistogramSnapshot.HistogramDataPointSnapshot(ClassicHistogramBuckets.of(bounds, counts),
                        h.sumSeconds(), Labels.EMPTY, null, 0)));
    }
}
