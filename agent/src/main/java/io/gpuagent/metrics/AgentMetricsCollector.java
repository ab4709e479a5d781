package io.gpuagent.metrics;

import io.gpuagent.gpu.GpuCallStats;
import io.gpuagent.gpu.GpuReadings;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;

import java.util.List;

/**
 * The agent's own families ({@code gpu_agent_*}, snake_case, base units): NVML call latency and
 * timeouts, and the sampler's progress, collected at every scrape; and the build info. Later issues add sessions, billing, claims and
 * the scheduler link through their own collectors on the same registry.
 */
final class AgentMetricsCollector implements MultiCollector {
    private final GpuReadings gpus;

    AgentMetricsCollector(GpuReadings gpus) {
        this.gpus = gpus;
    }

    /** {@code gpu_agent_build_info}: the same for the agent's whole life (the endpoint writes it once). */
    static MetricSnapshots buildInfo(String version) {
        return MetricSnapshots.of(new InfoSnapshot(new MetricMetadata("gpu_agent_build",
                "gpu-agent's version and Java runtime."), List.of(new InfoSnapshot.InfoDataPointSnapshot(
                Labels.of("version", version, "java_version", System.getProperty("java.version"))))));
    }

    @Override
    public MetricSnapshots collect() {
        GpuCallStats stats = gpus.callStats();
        return MetricSnapshots.of(
                Histograms.seconds("gpu_agent_nvml_call_duration_seconds",
                        "Duration of guarded NVML calls (one per GPU per tick: all of a GPU's reads).", stats.latency()),
                counter("gpu_agent_nvml_call_timeouts", "NVML calls that missed their deadline (the GPU became UNKNOWN).",
                        stats.timeouts()),
                counter("gpu_agent_nvml_calls_skipped", "NVML calls not attempted because an earlier call on the "
                        + "same GPU was still hung.", stats.skippedWhileHung()),
                counter("gpu_agent_sampler_ticks", "Telemetry ticks completed.", gpus.sampleTicks()),
                new GaugeSnapshot(new MetricMetadata("gpu_agent_sampler_tick_duration_seconds",
                        "Wall time of the last telemetry tick over all GPUs.", Unit.SECONDS),
                        List.of(new GaugeSnapshot.GaugeDataPointSnapshot(gpus.lastTickDurationNanos() / 1e9,
                                Labels.EMPTY, null))));
    }

    private static CounterSnapshot counter(String name, String help, double value) {
        return new CounterSnapshot(new MetricMetadata(name, help),
                List.of(new CounterSnapshot.CounterDataPointSnapshot(value, Labels.EMPTY, null, 0)));
    }
}
