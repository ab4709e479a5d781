package io.gpuagent.metrics;

import io.gpuagent.journal.JournalStats;
import io.gpuagent.session.ReadOnlySessions;
import io.gpuagent.session.SessionState;
import io.gpuagent.session.SessionView;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** Sessions and the journal: {@code gpu_agent_sessions{state}}, billed seconds, fsync latency, draining. */
final class SessionMetricsCollector implements MultiCollector {
    private final ReadOnlySessions sessions;
    private final JournalStats journal;

    SessionMetricsCollector(ReadOnlySessions sessions, JournalStats journal) {
        this.sessions = sessions;
        this.journal = journal;
    }

    @Override
    public MetricSnapshots collect() {
        Map<SessionState, Integer> byState = new EnumMap<>(SessionState.class);
        for (SessionState s : SessionState.values()) {
            byState.put(s, 0);
        }
        double billed = 0;
        for (SessionView v : sessions.list()) {
            byState.merge(v.state(), 1, Integer::sum);
            billed += v.billedSeconds();
        }
        List<GaugeSnapshot.GaugeDataPointSnapshot> states = new ArrayList<>();
        byState.forEach((s, n) -> states.add(new GaugeSnapshot.GaugeDataPointSnapshot(n, Labels.of("state", s.name()),
                null)));
        JournalStats js = journal;
        List<CounterSnapshot.CounterDataPointSnapshot> launched = new ArrayList<>();
        sessions.launchCounts().forEach((result, n) -> launched.add(new CounterSnapshot.CounterDataPointSnapshot(n,
                Labels.of("result", result), null, 0)));
        List<CounterSnapshot.CounterDataPointSnapshot> failed = new ArrayList<>();
        sessions.failureCounts().forEach((cause, n) -> failed.add(new CounterSnapshot.CounterDataPointSnapshot(n,
                Labels.of("cause", cause), null, 0)));
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        if (!launched.isEmpty()) {
            out.metricSnapshot(new CounterSnapshot(new MetricMetadata("gpu_agent_session_launches",
                    "Launch requests by result: accepted, or the stable code of the refusal."), launched));
        }
        if (!failed.isEmpty()) {
            out.metricSnapshot(new CounterSnapshot(new MetricMetadata("gpu_agent_session_failures",
                    "Sessions that ended FAILED, by cause."), failed));
        }
        MetricSnapshots base = MetricSnapshots.of(
                new GaugeSnapshot(new MetricMetadata("gpu_agent_sessions",
                        "Sessions known to the agent by state (ended ones since the last journal compaction)."), states),
                new CounterSnapshot(new MetricMetadata("gpu_agent_billed_seconds",
                        "Billed seconds over all sessions, from the engine's own start and finish times."),
                        List.of(new CounterSnapshot.CounterDataPointSnapshot(billed, Labels.EMPTY, null, 0))),
                Histograms.seconds("gpu_agent_journal_fsync_duration_seconds",
                        "Duration of the journal's fdatasync (one per group commit).", js.fsyncLatency()),
                new GaugeSnapshot(new MetricMetadata("gpu_agent_journal_degraded",
                        "1 while the journal cannot write (disk full): new sessions are refused."),
                        List.of(new GaugeSnapshot.GaugeDataPointSnapshot(js.degraded() ? 1 : 0, Labels.EMPTY, null))),
                new GaugeSnapshot(new MetricMetadata("gpu_agent_draining",
                        "1 while the host takes no new sessions (gpu-agent drain)."),
                        List.of(new GaugeSnapshot.GaugeDataPointSnapshot(sessions.draining() ? 1 : 0, Labels.EMPTY,
                                null))));
        base.forEach(out::metricSnapshot);
        return out.build();
    }
}
