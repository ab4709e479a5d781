package io.gpuagent.metrics;

import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuHealthState;
import io.gpuagent.gpu.GpuReadings;
import io.gpuagent.gpu.GpuSample;
import io.gpuagent.gpu.MigSample;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * The dcgm-exporter families ({@code DCGM_FI_*}): by far the largest part of a scrape, and they
 * change only when a GPU's sample does (once per sampler tick), when a GPU goes stale, or when an
 * XID arrives. {@link #key} says which of these a scrape sees; {@link #collect} builds the families
 * for one key, so that {@link SharedFamilies} builds and writes them once per key and format.
 *
 * <p>Names, units and labels ({@code gpu}, {@code UUID}, {@code pci_bus_id}, {@code device},
 * {@code modelName}, {@code Hostname}, {@code DCGM_FI_DRIVER_VERSION}) are dcgm-exporter's, so that
 * Grafana dashboard 12239 works unchanged. They are all exposed as gauges: client_java would append
 * {@code _total} to a counter's name and break the match. A family the card does not support is
 * absent for that card, never a zero; a GPU that is not fresh ({@link GpuView}) has no DCGM values
 * at all, so a dashboard never shows a frozen value as live.
 *
 * <p>MIG instances: as dcgm-exporter does, each instance's figures join the same families with the
 * parent GPU's labels plus {@code GPU_I_PROFILE} ({@code 1g.10gb}) and {@code GPU_I_ID} (the GPU
 * instance id), beside the whole GPU's series, for the fields NVML reads per MIG device (memory:
 * {@code FB_USED}, {@code FB_FREE}). {@code gpu_agent_mig_instance} maps each instance to its
 * {@code MIG-} UUID, the name containers and sessions know it by.
 */
final class DcgmFamilies {
    private static final double MIB = 1024.0 * 1024.0;

    /**
     * One dcgm-exporter family: its name, help and how to read it from a sample, and from a MIG
     * instance's reading when NVML has that field per instance (null when it has not).
     */
    private record Family(String name, String help, Function<GpuSample, Number> read,
                          Function<MigSample, Number> readMig) {
        Family(String name, String help, Function<GpuSample, Number> read) {
            this(name, help, read, null);
        }
    }

    private static final List<Family> DCGM = List.of(
            new Family("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", GpuSample::gpuUtilPercent),
            new Family("DCGM_FI_DEV_MEM_COPY_UTIL", "Memory utilization (in %).", GpuSample::memUtilPercent),
            // dashboard 12239's "GPU Utilization" panel reads this DCGM profiling field; NVML has no
            // profiling counters, so it is NVML's utilization as a ratio (same meaning, coarser)
            new Family("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "Ratio of time the graphics engine is active (from NVML "
                    + "utilization).", s -> s.gpuUtilPercent() == null ? null : s.gpuUtilPercent() / 100.0),
            new Family("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", s -> mib(s.memoryUsedBytes()),
                    m -> mib(m.memoryUsedBytes())),
            new Family("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", s -> mib(s.memoryFreeBytes()),
                    m -> mib(m.memoryFreeBytes())),
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

    /**
     * What the DCGM families of one scrape are made of: each GPU's sample when fresh (null when
     * not), compared by identity (the sampler publishes a new immutable sample each tick), and the
     * last XID of each fresh GPU. Equal keys give byte-equal families.
     */
    static final class Key {
        private final GpuSample[] fresh;
        private final long[] lastXid;

        Key(GpuSample[] fresh, long[] lastXid) {
            this.fresh = fresh;
            this.lastXid = lastXid;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Key k) || k.fresh.length != fresh.length || !Arrays.equals(k.lastXid, lastXid)) {
                return false;
            }
            for (int i = 0; i < fresh.length; i++) {
                if (k.fresh[i] != fresh[i]) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public int hashCode() {
            int h = Arrays.hashCode(lastXid);
            for (GpuSample s : fresh) {
                h = 31 * h + System.identityHashCode(s);
            }
            return h;
        }
    }

    private final GpuReadings gpus;
    private final Labels[] labels;
    private final String hostname;
    private final String driver;

    DcgmFamilies(GpuReadings gpus, String hostname) {
        this.gpus = gpus;
        this.hostname = hostname;
        this.driver = nullToEmpty(gpus.inventory().driver().driverVersion());
        List<GpuDevice> devices = gpus.inventory().gpus();
        labels = new Labels[devices.size()];
        for (int i = 0; i < labels.length; i++) {
            GpuDevice d = devices.get(i);
            // the labels of a GPU never change while the agent runs: built once
            labels[i] = Labels.of("gpu", Integer.toString(d.index()), "UUID", d.uuid(),
                    "pci_bus_id", nullToEmpty(d.pciBusId()), "device", d.deviceNode(), "modelName", d.name(),
                    "Hostname", hostname, "DCGM_FI_DRIVER_VERSION", driver);
        }
    }

    /** The key of what one scrape sees (cheap: a lookup per GPU, no allocation beyond two arrays). */
    Key key(GpuView view) {
        int n = view.devices.size();
        GpuSample[] fresh = new GpuSample[n];
        long[] lastXid = new long[n];
        for (int i = 0; i < n; i++) {
            fresh[i] = view.freshSample(i);
            if (fresh[i] != null) {
                GpuHealthState h = gpus.healthOf(view.devices.get(i).uuid());
                lastXid[i] = h == null || h.lastXid() == null ? 0 : h.lastXid();
            }
        }
        return new Key(fresh, lastXid);
    }

    /** The DCGM families for one key: only the fresh GPUs, only the fields each card supports. */
    MetricSnapshots collect(Key key) {
        List<MetricSnapshot> out = new ArrayList<>(DCGM.size() + 2);
        Labels[][] migLabels = migLabels(key);
        for (Family f : DCGM) {
            List<GaugeSnapshot.GaugeDataPointSnapshot> points = new ArrayList<>(key.fresh.length);
            for (int i = 0; i < key.fresh.length; i++) {
                GpuSample s = key.fresh[i];
                Number v = s == null ? null : f.read().apply(s);
                if (v != null) {
                    points.add(new GaugeSnapshot.GaugeDataPointSnapshot(v.doubleValue(), labels[i], null));
                }
                if (s != null && f.readMig() != null) {
                    List<MigSample> migs = s.migInstances();
                    for (int k = 0; k < migs.size(); k++) {
                        Number mv = f.readMig().apply(migs.get(k));
                        if (mv != null && migLabels[i][k] != null) {
                            points.add(new GaugeSnapshot.GaugeDataPointSnapshot(mv.doubleValue(), migLabels[i][k], null));
                        }
                    }
                }
            }
            if (!points.isEmpty()) {
                out.add(new GaugeSnapshot(new MetricMetadata(f.name(), f.help()), points));
            }
        }
        // dcgm-exporter's DCGM_FI_DEV_XID_ERRORS: the value of the last XID seen (0: none)
        List<GaugeSnapshot.GaugeDataPointSnapshot> xids = new ArrayList<>(key.fresh.length);
        for (int i = 0; i < key.fresh.length; i++) {
            if (key.fresh[i] != null) {
                xids.add(new GaugeSnapshot.GaugeDataPointSnapshot(key.lastXid[i], labels[i], null));
            }
        }
        out.add(new GaugeSnapshot(new MetricMetadata("DCGM_FI_DEV_XID_ERRORS",
                "Value of the last XID error encountered."), xids));
        List<GaugeSnapshot.GaugeDataPointSnapshot> instances = new ArrayList<>();
        for (int i = 0; i < key.fresh.length; i++) {
            GpuSample s = key.fresh[i];
            for (int k = 0; s != null && k < s.migInstances().size(); k++) {
                MigSample m = s.migInstances().get(k);
                instances.add(new GaugeSnapshot.GaugeDataPointSnapshot(1, Labels.of("gpu", Integer.toString(s.index()),
                        "UUID", s.uuid(), "GPU_I_ID", Integer.toString(m.gpuInstanceId()), "GPU_I_PROFILE",
                        nullToEmpty(m.profile()), "mig_uuid", m.uuid(), "compute_instance_id",
                        Integer.toString(m.computeInstanceId())), null));
            }
        }
        if (!instances.isEmpty()) {
            out.add(new GaugeSnapshot(new MetricMetadata("gpu_agent_mig_instance",
                    "1 for each MIG instance: its GPU instance id (GPU_I_ID) and MIG- UUID (mig_uuid)."), instances));
        }
        return new MetricSnapshots(out);
    }

    /**
     * The labels of each fresh GPU's MIG instances, dcgm-exporter's: the GPU's, with GPU_I_PROFILE
     * and GPU_I_ID after modelName. Built per key: instances come and go while the agent runs.
     */
    private Labels[][] migLabels(Key key) {
        Labels[][] out = new Labels[key.fresh.length][];
        List<GpuDevice> devices = gpus.inventory().gpus();
        for (int i = 0; i < key.fresh.length; i++) {
            GpuSample s = key.fresh[i];
            List<MigSample> migs = s == null ? List.of() : s.migInstances();
            out[i] = new Labels[migs.size()];
            GpuDevice d = devices.get(i);
            java.util.Set<Integer> seen = new java.util.HashSet<>();
            for (int k = 0; k < migs.size(); k++) {
                MigSample m = migs.get(k);
                if (!seen.add(m.gpuInstanceId())) {
                    continue; // a second compute instance of one GPU instance: the series would repeat
                }
                out[i][k] = Labels.of("gpu", Integer.toString(d.index()), "UUID", d.uuid(),
                        "pci_bus_id", nullToEmpty(d.pciBusId()), "device", d.deviceNode(), "modelName", d.name(),
                        "GPU_I_PROFILE", nullToEmpty(m.profile()), "GPU_I_ID", Integer.toString(m.gpuInstanceId()),
                        "Hostname", hostname, "DCGM_FI_DRIVER_VERSION", driver);
            }
        }
        return out;
    }

    private static Double mib(Long bytes) {
        return bytes == null ? null : Math.floor(bytes / MIB);
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
