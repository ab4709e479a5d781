package io.gpuagent.metrics;

import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuHealth;
import io.gpuagent.gpu.GpuHealthState;
import io.gpuagent.gpu.GpuReadings;
import io.gpuagent.gpu.GpuSample;
import io.gpuagent.gpu.TelemetrySampler;
import io.gpuagent.gpu.XidPolicy;
import io.gpuagent.util.Clock;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The per-GPU families, computed at scrape time from the sampler's latest snapshot.
 *
 * <p>{@code DCGM_FI_*} families carry dcgm-exporter's names, units and labels ({@code gpu},
 * {@code UUID}, {@code pci_bus_id}, {@code device}, {@code modelName}, {@code Hostname},
 * {@code DCGM_FI_DRIVER_VERSION}) so that Grafana dashboard 12239 works unchanged. They are all
 * exposed as gauges: client_java would append {@code _total} to a counter's name and break the
 * match. A family the card does not support is absent for that card, never a zero; a GPU whose
 * latest sample is older than two ticks (hung, lost) has no DCGM values at all and
 * {@code gpu_agent_gpu_stale} 1 instead, so a dashboard never shows a frozen value as live.
 */
final class GpuMetricsCollector implements MultiCollector {
    private static final double MIB = 1024.0 * 1024.0;

    /** One dcgm-exporter family: its name, help and how to read it from a sample. */
    private record Family(String name, String help, Function<GpuSample, Number> read) {
    }

    private static final List<Family> DCGM = List.of(
            new Family("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", GpuSample::gpuUtilPercent),
            new Family("DCGM_FI_DEV_MEM_COPY_UTIL", "Memory utilization (in %).", GpuSample::memUtilPercent),
            // dashboard 12239's "GPU Utilization" panel reads this DCGM profiling field; NVML has no
            // profiling counters, so it is NVML's utilization as a ratio (same meaning, coarser)
            new Family("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "Ratio of time the graphics engine is active (from NVML "
                    + "utilization).", s -> s.gpuUtilPercent() == null ? null : s.gpuUtilPercent() / 100.0),
            new Family("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", s -> mib(s.memoryUsedBytes())),
            new Family("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", s -> mib(s.memoryFreeBytes())),
            new Family("DCGM_FI_DEV_FB_RESERVED", "Framebuffer memory reserved (in MiB).",
                    s -> mib(s.memoryReservedBytes())),
            new Family("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", GpuSample::temperatureC),
            new Family("DCGM_FI_DEV_MEMORY_TEMP", "Memory temperature (in C).", GpuSample::memoryTemperatureC),
            new Family("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).",
                    s -> s.powerMilliwatts() == null ? null : s.powerMilliwatts() / 1000.0),
            new Family("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "Total energy consumption since boot (in mJ).",
                    GpuSample::energyMillijoules),
            new Family("DCGM_FI_DEV_SM_CLOCK", "SM clock frequency (in MHz).", GpuSample::smClockMhz),
            new Family("DCGM_FI_DEV_MEM_CLOCK", "Memory clock frequency (in MHz).", GpuSample::memClockMhz),
            new Family("DCGM_FI_DEV_FAN_SPEED", "Fan speed (in %).", GpuSample::fanPercent),
            new Family("DCGM_FI_DEV_PCIE_TX_THROUGHPUT", "PCIe transmit throughput (in KB/s).",
                    GpuSample::pcieTxKilobytesPerSecond),
            new Family("DCGM_FI_DEV_PCIE_RX_THROUGHPUT", "PCIe receive throughput (in KB/s).",
                    GpuSample::pcieRxKilobytesPerSecond),
            new Family("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "Total number of PCIe retries.", GpuSample::pcieReplayCounter),
            new Family("DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", "Current clock throttle reasons (bitmask).",
                    GpuSample::clockEventReasons),
            new Family("DCGM_FI_DEV_PSTATE", "Performance state (P-state) 0-15, 0 the highest.",
                    GpuSample::performanceState),
            new Family("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "Total number of single-bit volatile ECC errors.",
                    GpuSample::eccCorrectedVolatile),
            new Family("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "Total number of double-bit volatile ECC errors.",
                    GpuSample::eccUncorrectedVolatile),
            new Family("DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", "Total number of single-bit persistent ECC errors.",
                    GpuSample::eccCorrectedAggregate),
            new Family("DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", "Total number of double-bit persistent ECC errors.",
                    GpuSample::eccUncorrectedAggregate),
            new Family("DCGM_FI_DEV_RETIRED_SBE", "Total number of retired pages due to single-bit errors.",
                    GpuSample::retiredPagesSingleBit),
            new Family("DCGM_FI_DEV_RETIRED_DBE", "Total number of retired pages due to double-bit errors.",
                    GpuSample::retiredPagesDoubleBit),
            new Family("DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", "Number of remapped rows for correctable errors.",
                    GpuSample::remappedRowsCorrectable),
            new Family("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "Number of remapped rows for uncorrectable errors.",
                    GpuSample::remappedRowsUncorrectable),
            new Family("DCGM_FI_DEV_ROW_REMAP_FAILURE", "Whether remapping of rows has failed.",
                    s -> s.remapFailure() == null ? null : (s.remapFailure() ? 1 : 0)));

    private final GpuReadings gpus;
    private final Clock clock;
    private final String hostname;
    private final Map<String, Labels> dcgmLabels = new LinkedHashMap<>();
    private final Map<String, Labels> shortLabels = new LinkedHashMap<>();

    GpuMetricsCollector(GpuReadings gpus, Clock clock, String hostname) {
        this.gpus = gpus;
        this.clock = clock;
        this.hostname = hostname;
        String driver = nullToEmpty(gpus.inventory().driver().driverVersion());
        for (GpuDevice d : gpus.inventory().gpus()) {
            // the labels of a GPU never change while the agent runs: built once
            dcgmLabels.put(d.uuid(), Labels.of("gpu", Integer.toString(d.index()), "UUID", d.uuid(),
                    "pci_bus_id", nullToEmpty(d.pciBusId()), "device", d.deviceNode(), "modelName", d.name(),
                    "Hostname", hostname, "DCGM_FI_DRIVER_VERSION", driver));
            shortLabels.put(d.uuid(), Labels.of("gpu", Integer.toString(d.index()), "UUID", d.uuid()));
        }
    }

    @Override
    public MetricSnapshots collect() {
        TelemetrySampler.Snapshot snap = gpus.samples();
        long now = clock.monotonicNanos();
        long maxAge = 2 * gpus.sampleInterval().toNanos();
        List<GpuSample> fresh = new ArrayList<>();
        List<GaugeSnapshot.GaugeDataPointSnapshot> stale = new ArrayList<>();
        List<GaugeSnapshot.GaugeDataPointSnapshot> age = new ArrayList<>();
        for (GpuDevice d : gpus.inventory().gpus()) {
            GpuSample s = snap.samples().get(d.uuid());
            boolean isFresh = s != null && now - s.monotonicNanos() <= maxAge;
            if (isFresh) {
                fresh.add(s);
                age.add(gauge((now - s.monotonicNanos()) / 1e9, shortLabels.get(d.uuid())));
            }
            stale.add(gauge(isFresh ? 0 : 1, shortLabels.get(d.uuid())));
        }
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        for (Family f : DCGM) {
            List<GaugeSnapshot.GaugeDataPointSnapshot> points = new ArrayList<>(fresh.size());
            for (GpuSample s : fresh) {
                Number v = f.read().apply(s);
                if (v != null) {
                    points.add(gauge(v.doubleValue(), dcgmLabels.get(s.uuid())));
                }
            }
            if (!points.isEmpty()) {
                out.metricSnapshot(new GaugeSnapshot(new MetricMetadata(f.name(), f.help()), points));
            }
        }
        out.metricSnapshot(xidLast(fresh));
        out.metricSnapshot(new GaugeSnapshot(new MetricMetadata("gpu_agent_gpu_stale",
                "1 when the GPU's latest sample is older than two ticks (hung or lost GPU): its DCGM values are "
                        + "withheld rather than frozen."), stale));
        if (!age.isEmpty()) {
            out.metricSnapshot(new GaugeSnapshot(new MetricMetadata("gpu_agent_gpu_sample_age_seconds",
                    "Age of the GPU's latest telemetry sample."), age));
        }
        out.metricSnapshot(healthStates());
        out.metricSnapshot(simulated());
        MetricSnapshot xids = xidCounter();
        if (xids != null) {
            out.metricSnapshot(xids);
        }
        return out.build();
    }

    /** dcgm-exporter's DCGM_FI_DEV_XID_ERRORS: the value of the last XID seen (0: none). */
    private GaugeSnapshot xidLast(List<GpuSample> fresh) {
        List<GaugeSnapshot.GaugeDataPointSnapshot> points = new ArrayList<>();
        for (GpuSample s : fresh) {
            GpuHealthState h = gpus.healthOf(s.uuid());
            points.add(gauge(h == null || h.lastXid() == null ? 0 : h.lastXid(), dcgmLabels.get(s.uuid())));
        }
        return new GaugeSnapshot(new MetricMetadata("DCGM_FI_DEV_XID_ERRORS",
                "Value of the last XID error encountered."), points);
    }

    private GaugeSnapshot healthStates() {
        List<GaugeSnapshot.GaugeDataPointSnapshot> points = new ArrayList<>();
        for (GpuHealthState h : gpus.healthStates()) {
            GpuDevice d = gpus.inventory().byUuid(h.uuid()).orElseThrow();
            for (GpuHealth state : GpuHealth.values()) {
                points.add(gauge(h.health() == state ? 1 : 0, Labels.of("gpu", Integer.toString(d.index()),
                        "UUID", d.uuid(), "modelName", d.name(), "state", state.name())));
            }
        }
        return new GaugeSnapshot(new MetricMetadata("gpu_agent_gpu_health_state",
                "1 for the GPU's current health state (only HEALTHY GPUs are offered to renters)."), points);
    }

    private GaugeSnapshot simulated() {
        double v = gpus.inventory().driver().simulated() ? 1 : 0;
        List<GaugeSnapshot.GaugeDataPointSnapshot> points = new ArrayList<>();
        for (GpuDevice d : gpus.inventory().gpus()) {
            points.add(gauge(v, shortLabels.get(d.uuid())));
        }
        return new GaugeSnapshot(new MetricMetadata("gpu_agent_gpu_simulated",
                "1 when the GPU comes from gpu-agent's simulated NVML (never sold as real)."), points);
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

    private static Double mib(Long bytes) {
        return bytes == null ? null : Math.floor(bytes / MIB);
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    String hostname() {
        return hostname;
    }
}
