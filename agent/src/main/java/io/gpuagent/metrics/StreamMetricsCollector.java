package io.gpuagent.metrics;

import io.gpuagent.market.StreamLinkStats;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.List;
import java.util.Map;

/** The streams' families: {@code gpu_agent_streams_*} (docs/metrics.md). */
final class StreamMetricsCollector implements MultiCollector {
    private static final List<String> KINDS = List.of("exec", "tunnel", "logs");
    private final StreamLinkStats stats;

    StreamMetricsCollector(StreamLinkStats stats) {
        this.stats = stats;
    }

    @Override
    public MetricSnapshots collect() {
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        GaugeSnapshot.Builder open = GaugeSnapshot.builder().name("gpu_agent_streams_open")
                .help("Streams into sessions open now, by kind (exec, tunnel, logs)");
        Map<String, Long> now = stats.open();
        for (String kind : KINDS) {
            open.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(Labels.of("kind", kind))
                    .value(now.getOrDefault(kind, 0L)).build());
        }
        out.metricSnapshot(open.build());
        out.metricSnapshot(counter("gpu_agent_streams_opened", "Streams opened, by kind", Labels.EMPTY, "kind",
                withKinds(stats.opened())));
        out.metricSnapshot(counter("gpu_agent_streams_refused", "Stream opens refused, by error code", Labels.EMPTY, "code",
                stats.refused()));
        out.metricSnapshot(counter("gpu_agent_streams_closed", "Streams ended, by reason", Labels.EMPTY, "reason",
                stats.closedByReason()));
        CounterSnapshot.Builder bytes = CounterSnapshot.builder().name("gpu_agent_streams_bytes")
                .help("Data bytes carried by streams, by kind and direction (in: scheduler to container)");
        add(bytes, "in", withKinds(stats.bytesIn()));
        add(bytes, "out", withKinds(stats.bytesOut()));
        out.metricSnapshot(bytes.build());
        return out.build();
    }

    private static Map<String, Long> withKinds(Map<String, Long> m) {
        Map<String, Long> all = new java.util.TreeMap<>(m);
        KINDS.forEach(k -> all.putIfAbsent(k, 0L));
        return all;
    }

    private static void add(CounterSnapshot.Builder b, String direction, Map<String, Long> values) {
        values.forEach((kind, v) -> b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                .labels(Labels.of("direction", direction, "kind", kind)).value(v).build()));
    }

    private static CounterSnapshot counter(String name, String help, Labels base, String label, Map<String, Long> values) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
        values.forEach((k, v) -> b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                .labels(base.add(label, k)).value(v).build()));
        return b.build();
    }
}
