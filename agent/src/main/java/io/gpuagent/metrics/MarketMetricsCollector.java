package io.gpuagent.metrics;

import io.gpuagent.market.SchedulerLinkStats;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.Map;
import java.util.function.IntSupplier;

/** The scheduler link's families: {@code gpu_agent_scheduler_*}. */
final class MarketMetricsCollector implements MultiCollector {
    private final SchedulerLinkStats stats;
    private final IntSupplier welcomed;

    MarketMetricsCollector(SchedulerLinkStats stats, IntSupplier welcomed) {
        this.stats = stats;
        this.welcomed = welcomed;
    }

    @Override
    public MetricSnapshots collect() {
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        GaugeSnapshot.Builder open = GaugeSnapshot.builder().name("gpu_agent_scheduler_connections")
                .help("Scheduler connections open now, by mode (listen: the scheduler connected in; dial: the agent dialed out)");
        for (String mode : new String[] {"listen", "dial"}) {
            open.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(Labels.of("mode", mode))
                    .value(stats.open().getOrDefault(mode, 0)).build());
        }
        out.metricSnapshot(open.build());
        out.metricSnapshot(GaugeSnapshot.builder().name("gpu_agent_scheduler_sessions_welcomed")
                .help("Scheduler connections past hello (receiving events)")
                .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(welcomed.getAsInt()).build()).build());
        out.metricSnapshot(counter("gpu_agent_scheduler_connections_opened", "Scheduler connections opened, by mode", "mode",
                stats.opened()));
        out.metricSnapshot(counter("gpu_agent_scheduler_connections_rejected",
                "Scheduler connections refused (over a cap, failed TLS), by reason", "reason", stats.rejected()));
        out.metricSnapshot(counter("gpu_agent_scheduler_connections_closed",
                "Scheduler connections the agent closed (timeouts, oversized frames, floods), by reason", "reason",
                stats.closed()));
        out.metricSnapshot(counter("gpu_agent_scheduler_messages_received", "Messages received from schedulers, by type",
                "type", stats.received()));
        out.metricSnapshot(counter("gpu_agent_scheduler_messages_sent", "Messages sent to schedulers, by type", "type",
                stats.sent()));
        out.metricSnapshot(counter("gpu_agent_scheduler_errors", "Error responses sent to schedulers, by code", "code",
                stats.errors()));
        out.metricSnapshot(counter("gpu_agent_scheduler_dial_attempts", "Connection attempts of the dial-out link", null,
                Map.of("", stats.dialAttempts())));
        out.metricSnapshot(Histograms.seconds("gpu_agent_scheduler_round_trip_seconds",
                "Round trip of the agent's heartbeats answered by the scheduler", stats.roundTrip()));
        out.metricSnapshot(Histograms.seconds("gpu_agent_scheduler_request_seconds",
                "Time from a scheduler request's arrival to its response being written", stats.requests()));
        return out.build();
    }

    private static CounterSnapshot counter(String name, String help, String label, Map<String, Long> values) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
        values.forEach((k, v) -> b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                .labels(label == null ? Labels.EMPTY : Labels.of(label, k)).value(v).build()));
        return b.build();
    }
}
