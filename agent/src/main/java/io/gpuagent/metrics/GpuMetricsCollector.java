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
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The per-GPU families besides the DCGM ones, each built from what it depends on, so that the
 * endpoint shares those that change rarely between scrapes: health states (keyed by the states),
 * {@code gpu_agent_gpu_simulated} and {@code gpu_agent_gpu_stale} (keyed by which GPUs are fresh at
 * the scrape's time); written fresh at every scrape are the sample ages (they move with the
 * scrape's time) and the XID counts.
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

    /** Which GPUs are fresh (by inventory position): the key of {@link #simulatedAndStale}. */
    static BitSet freshGpus(GpuView view) {
        BitSet fresh = new BitSet(view.devices.size());
        for (int i = 0; i < view.devices.size(); i++) {
            fresh.set(i, view.freshSample(i) != null);
        }
        return fresh;
    }

    /** {@code gpu_agent_gpu_simulated} (constant) and {@code gpu_agent_gpu_stale}: adjacent names, one group. */
    MetricSnapshots simulatedAndStale(BitSet fresh) {
        List<GaugeSnapshot.GaugeDataPointSnapshot> stale = new ArrayList<>(shortLabels.length);
        for (int i = 0; i < shortLabels.length; i++) {
            stale.add(gauge(fresh.get(i) ? 0 : 1, shortLabels[i]));
        }
        return MetricSnapshots.of(simulated, new GaugeSnapshot(new MetricMetadata("gpu_agent_gpu_stale",
                "1 when the GPU's latest sample is older than two ticks (hung or lost GPU): its DCGM values are "
                        + "withheld rather than frozen."), stale));
    }

    /** The families that change with every scrape: sample ages, and the XID counts (rare, small). */
    List<MetricSnapshot> perScrape(GpuView view) {
        List<GaugeSnapshot.GaugeDataPointSnapshot> age = new ArrayList<>(shortLabels.length);
        for (int i = 0; i < shortLabels.length; i++) {
            GpuSample s = view.freshSample(i);
            if (s != null) {
                age.add(gauge((view.now - s.monotonicNanos()) / 1e9, shortLabels[i]));
            }
        }
        List<MetricSnapshot> out = new ArrayList<>(2);
        if (!age.isEmpty()) {
            out.add(new GaugeSnapshot(new MetricMetadata("gpu_agent_gpu_sample_age_seconds",
                    "Age of the GPU's latest telemetry sample."), age));
        }
        CounterSnapshot xids = xidCounter();
        if (xids != null) {
            out.add(xids);
        }
        return out;
    }

    /** {@code gpu_agent_gpu_health_state} for the given states (the key: they are immutable values). */
    MetricSnapshots healthStates(List<GpuHealthState> states) {
        List<GaugeSnapshot.GaugeDataPointSnapshot> points = new ArrayList<>(states.size() * GpuHealth.values().length);
        for (GpuHealthState h : states) {
            Labels[] byState = healthLabels.get(h.uuid());
            if (byState == null) {
                throw new IllegalStateException("health state of a GPU not in the inventory: " + h.uuid());
            }
            for (GpuHealth state : GpuHealth.values()) {
                points.add(gauge(h.health() == state ? 1 : 0, byState[state.ordinal()]));
            }
        }
        return MetricSnapshots.of(new GaugeSnapshot(new MetricMetadata("gpu_agent_gpu_health_state",
                "1 for the GPU's current health state (only HEALTHY GPUs are offered to renters)."), points));
    }

    /**
     * {@code gpu_agent_mig_instance_health_state}: each MIG instance's own health (an XID scoped to
     * it marks it alone; its GPU's health is in {@code gpu_agent_gpu_health_state}), labelled like
     * {@code gpu_agent_mig_instance}. Empty without MIG instances.
     */
    MetricSnapshots instanceHealthStates(List<GpuHealthState> states) {
        if (states.isEmpty()) {
            return MetricSnapshots.of();
        }
        java.util.Map<String, io.gpuagent.gpu.MigInstance> byUuid = new java.util.HashMap<>();
        gpus.migStates().values().forEach(st -> st.instances().forEach(m -> byUuid.put(m.uuid(), m)));
        List<GaugeSnapshot.GaugeDataPointSnapshot> points = new ArrayList<>(states.size() * GpuHealth.values().length);
        for (GpuHealthState h : states) {
            io.gpuagent.gpu.MigInstance m = byUuid.get(h.uuid());
            if (m == null) {
                continue; // destroyed since the registry was told
            }
            for (GpuHealth state : GpuHealth.values()) {
                points.add(gauge(h.health() == state ? 1 : 0, Labels.of("gpu", Integer.toString(m.parentIndex()),
                        "UUID", m.parentUuid(), "GPU_I_ID", Integer.toString(m.gpuInstanceId()), "mig_uuid", m.uuid(),
                        "state", state.name())));
            }
        }
        return points.isEmpty() ? MetricSnapshots.of() : MetricSnapshots.of(new GaugeSnapshot(new MetricMetadata(
                "gpu_agent_mig_instance_health_state", "1 for the MIG instance's own health state (an XID scoped to "
                        + "it marks it alone; only HEALTHY instances on HEALTHY GPUs are offered)."), points));
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
