package io.gpuagent.metrics;

import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuHealth;
import io.gpuagent.gpu.GpuHealthState;
import io.gpuagent.gpu.GpuReadings;
import io.gpuagent.gpu.GpuSample;
import io.gpuagent.gpu.XidPolicy;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The per-GPU families written fresh at every scrape: {@code gpu_agent_gpu_stale} and the sample
 * ages (they depend on the scrape's time), health states and XID counts (they change whenever the
 * health watcher hears of something), and {@code gpu_agent_gpu_simulated}. Small next to the
 * {@link DcgmFamilies}, which are shared between the scrapes of one tick.
 *
 * <p>A GPU whose latest sample is older than two ticks (hung, lost) has {@code gpu_agent_gpu_stale}
 * 1 and no DCGM values, by the same {@link GpuView} the DCGM families are keyed by.
 */
final class GpuMetricsCollector {
    private final GpuReadings gpus;
    private final Labels[] shortLabels;
    /** Per UUID, the labels of each {@link GpuHealth} state in declaration order. */
    private final Map<String, Labels[]> healthLabels = new HashMap<>();
    private final GaugeSnapshot simulated;

    GpuMetricsCollector(GpuReadings gpus) {
        this.gpus = gpus;
        List<GpuDevice> devices = gpus.inventory().gpus();
        shortLabels = new Labels[devices.size()];
        GpuHealth[] states = GpuHealth.values();
        double sim = gpus.inventory().driver().simulated() ? 1 : 0;
        List<GaugeSnapshot.GaugeDataPointSnapshot> simPoints = new ArrayList<>();
        for (int i = 0; i < shortLabels.length; i++) {
            // the labels of a GPU never change while the agent runs: built once
            GpuDevice d = devices.get(i);
            shortLabels[i] = Labels.of("gpu", Integer.toString(d.index()), "UUID", d.uuid());
            Labels[] byState = new Labels[states.length];
            for (GpuHealth state : states) {
                byState[state.ordinal()] = Labels.of("gpu", Integer.toString(d.index()), "UUID", d.uuid(),
                        "modelName", d.name(), "state", state.name());
            }
            healthLabels.put(d.uuid(), byState);
            simPoints.add(gauge(sim, shortLabels[i]));
        }
        simulated = new GaugeSnapshot(new MetricMetadata("gpu_agent_gpu_simulated",
                "1 when the GPU comes from gpu-agent's simulated NVML (never sold as real)."), simPoints);
    }

    List<MetricSnapshot> collect(GpuView view) {
        List<GaugeSnapshot.GaugeDataPointSnapshot> stale = new ArrayList<>(shortLabels.length);
        List<GaugeSnapshot.GaugeDataPointSnapshot> age = new ArrayList<>(shortLabels.length);
        for (int i = 0; i < shortLabels.length; i++) {
            GpuSample s = view.freshSample(i);
            if (s != null) {
                age.add(gauge((view.now - s.monotonicNanos()) / 1e9, shortLabels[i]));
            }
            stale.add(gauge(s != null ? 0 : 1, shortLabels[i]));
        }
        List<MetricSnapshot> out = new ArrayList<>(5);
        out.add(new GaugeSnapshot(new MetricMetadata("gpu_agent_gpu_stale",
                "1 when the GPU's latest sample is older than two ticks (hung or lost GPU): its DCGM values are "
                        + "withheld rather than frozen."), stale));
        if (!age.isEmpty()) {
            out.add(new GaugeSnapshot(new MetricMetadata("gpu_agent_gpu_sample_age_seconds",
                    "Age of the GPU's latest telemetry sample."), age));
        }
        out.add(healthStates());
        out.add(simulated);
        CounterSnapshot xids = xidCounter();
        if (xids != null) {
            out.add(xids);
        }
        return out;
    }

    private GaugeSnapshot healthStates() {
        List<GaugeSnapshot.GaugeDataPointSnapshot> points = new ArrayList<>();
        for (GpuHealthState h : gpus.healthStates()) {
            Labels[] byState = healthLabels.get(h.uuid());
            if (byState == null) {
                throw new IllegalStateException("health state of a GPU not in the inventory: " + h.uuid());
            }
            for (GpuHealth state : GpuHealth.values()) {
                points.add(gauge(h.health() == state ? 1 : 0, byState[state.ordinal()]));
            }
        }
        return new GaugeSnapshot(new MetricMetadata("gpu_agent_gpu_health_state",
                "1 for the GPU's current health state (only HEALTHY GPUs are offered to renters)."), points);
    }

    private CounterSnapshot xidCounter() {
        List<CounterSnapshot.CounterDataPointSnapshot> points = new ArrayList<>();
        gpus.xidCounts().forEach((uuid, byXid) -> {
            GpuDevice d = gpus.inventory().byUuid(uuid).orElse(null);
            if (d == null) {
                return;
            }
            byXid.forEach((xid, n) -> points.add(new CounterSnapshot.CounterDataPointSnapshot(n,
                    Labels.of("gpu", Integer.toString(d.index()), "UUID", uuid, "xid", Long.toString(xid),
                            "critical", Boolean.toString(XidPolicy.isCritical(xid))), null, 0)));
        });
        return points.isEmpty() ? null : new CounterSnapshot(new MetricMetadata("gpu_agent_xid_errors",
                "XID errors reported by the driver, by GPU and XID; critical ones make the GPU UNHEALTHY."), points);
    }

    private static GaugeSnapshot.GaugeDataPointSnapshot gauge(double v, Labels labels) {
        return new GaugeSnapshot.GaugeDataPointSnapshot(v, labels, null);
    }
}
