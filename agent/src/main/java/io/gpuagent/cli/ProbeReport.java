package io.gpuagent.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.gpuagent.gpu.DriverInfo;
import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuHealth;
import io.gpuagent.gpu.GpuSample;
import io.gpuagent.gpu.GpuTopology;
import io.gpuagent.gpu.MigInstance;
import io.gpuagent.gpu.MigProfile;
import io.gpuagent.gpu.MigState;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code gpu-agent probe} prints. The JSON shape is a contract (docs/real-gpu-check.md and
 * scripts compare it with nvidia-smi): fields are never renamed, unsupported values are null. The
 * MIG and topology objects, added later, name their fields in snake_case as the wire protocol does.
 *
 * @param topology      how the GPUs are connected, or null when it could not be read ({@code topologyError})
 */
record ProbeReport(DriverInfo driver, List<Entry> entries, List<String> unanswered, GpuTopology topology,
                   String topologyError) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .registerModule(new com.fasterxml.jackson.databind.module.SimpleModule()
                    .addSerializer(java.time.Instant.class, new com.fasterxml.jackson.databind.ser.std.ToStringSerializer()));

    /**
     * One GPU: its identity, one sample (null when it could not be read), its health, and its MIG
     * state (null when the card has no MIG, or when reading it failed: then {@code migError} says why).
     */
    record Entry(GpuDevice device, GpuSample sample, GpuHealth health, String reason, MigState mig, String migError) {
        Entry(GpuDevice device, GpuSample sample, GpuHealth health, String reason) {
            this(device, sample, health, reason, null, null);
        }
    }

    ProbeReport(DriverInfo driver, List<Entry> entries, List<String> unanswered) {
        this(driver, entries, unanswered, null, null);
    }

    String toJson() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("simulated", driver.simulated());
        root.put("nvmlLibrary", driver.library());
        root.put("driverVersion", driver.driverVersion());
        root.put("nvmlVersion", driver.nvmlVersion());
        root.put("cudaDriverVersion", driver.cudaDriverVersion());
        List<Object> gpus = new ArrayList<>();
        for (Entry e : entries) {
            @SuppressWarnings("unchecked")
            Map<String, Object> g = JSON.convertValue(e.device(), LinkedHashMap.class);
            g.put("health", e.health().name());
            g.put("healthReason", e.reason());
            if (e.sample() != null) {
                @SuppressWarnings("unchecked")
                Map<String, Object> t = JSON.convertValue(e.sample(), LinkedHashMap.class);
                t.remove("uuid");
                t.remove("index");
                t.remove("monotonicNanos");
                t.remove("migInstances"); // under "mig" below
                g.put("telemetry", t);
            } else {
                g.put("telemetry", null);
            }
            g.put("mig", e.mig() == null ? null : ProbeJson.mig(e.mig(), e.sample()));
            g.put("mig_error", e.migError());
            gpus.add(g);
        }
        root.put("gpus", gpus);
        root.put("topology", topology == null ? null : ProbeJson.topology(topology));
        root.put("topology_error", topologyError);
        root.put("unanswered", unanswered);
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    String toTable() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("Driver %s, NVML %s, CUDA %s  (%s)%s%n", orNa(driver.driverVersion()),
                orNa(driver.nvmlVersion()), orNa(driver.cudaDriverVersion()), driver.library(),
                driver.simulated() ? "  SIMULATED GPUs: never sold as real" : ""));
        for (Entry e : entries) {
            sb.append(String.format("GPU %d: %s (UUID: %s)%n", e.device().index(), e.device().name(),
                    e.device().uuid()));
        }
        sb.append('\n');
        String fmt = "%-3s %-22s %-16s %-4s %-6s %-11s %-5s %-5s %-17s %-5s %s%n";
        sb.append(String.format(fmt, "GPU", "MODEL", "BUS ID", "CC", "PCIE", "POWER", "TEMP", "UTIL", "MEMORY",
                "FAN", "HEALTH"));
        for (Entry e : entries) {
            GpuDevice d = e.device();
            GpuSample s = e.sample();
            String pcie = d.pcieMaxGeneration() == null ? "-" : "g" + d.pcieMaxGeneration() + "x" + d.pcieMaxWidth();
            String power = (s == null || s.powerMilliwatts() == null ? "-" : Math.round(s.powerMilliwatts() / 1000.0))
                    + "/" + (d.powerLimitMilliwatts() == null ? "-" : Math.round(d.powerLimitMilliwatts() / 1000.0)) + " W";
            String temp = s == null || s.temperatureC() == null ? "-" : s.temperatureC() + "C";
            String util = s == null || s.gpuUtilPercent() == null ? "-" : s.gpuUtilPercent() + "%";
            String mem = (s == null || s.memoryUsedBytes() == null ? "-" : gib(s.memoryUsedBytes())) + "/"
                    + gib(d.memoryTotalBytes()) + " GiB";
            String fan = s == null || s.fanPercent() == null ? "-" : s.fanPercent() + "%";
            String health = e.health().name() + (e.reason() == null ? "" : " (" + e.reason() + ")");
            sb.append(String.format(fmt, d.index(), truncate(d.model(), 22), shortBus(d.pciBusId()),
                    orDash(d.computeCapability()), pcie, power, temp, util, mem, fan, health));
        }
        for (String line : unanswered) {
            sb.append("not answering: ").append(line).append('\n');
        }
        migTable(sb);
        if (topology != null && topology.size() > 1) {
            sb.append("\nTopology (like nvidia-smi topo -m)\n").append(TopologyMatrix.table(topology));
        } else if (topologyError != null) {
            sb.append("\nTopology: not read (").append(topologyError).append(")\n");
        }
        if (entries.isEmpty() && unanswered.isEmpty()) {
            sb.append("(no NVIDIA GPUs found)\n");
        }
        return sb.toString();
    }

    /**
     * A section per GPU with MIG on (or pending on): its modes, then its instances (as nvidia-smi -L
     * lists them); the MIG-capable GPUs with MIG off on one line.
     */
    private void migTable(StringBuilder sb) {
        StringBuilder section = new StringBuilder();
        List<String> off = new ArrayList<>();
        for (Entry e : entries) {
            if (e.mig() == null) {
                if (e.migError() != null) {
                    section.append(String.format("MIG on GPU %d: not read (%s)%n", e.device().index(), e.migError()));
                }
                continue;
            }
            MigState m = e.mig();
            if (!m.current() && !m.pending()) {
                off.add(Integer.toString(e.device().index()));
                continue;
            }
            section.append(String.format("MIG on GPU %d: %s, pending %s%s%n", e.device().index(), onOff(m.current()),
                    onOff(m.pending()), m.resetPending() ? " (takes effect after a GPU reset)" : ""));
            if (!m.profiles().isEmpty()) {
                StringBuilder names = new StringBuilder();
                for (MigProfile p : m.profiles()) {
                    names.append(names.length() == 0 ? "" : ", ").append(p.name()).append(" x").append(p.instanceCount());
                }
                section.append("  profiles: ").append(names).append('\n');
            }
            if (m.instances().isEmpty() && m.current()) {
                section.append("  (no instances)\n");
            }
            for (MigInstance i : m.instances()) {
                section.append(String.format("  MIG %-10s GI %-2d CI %-2d %8s GiB  placement %d:%d  (UUID: %s)%n",
                        i.profile(), i.gpuInstanceId(), i.computeInstanceId(), gib(i.memoryBytes()), i.placementStart(),
                        i.placementSize(), i.uuid()));
            }
        }
        if (!off.isEmpty()) {
            section.append("MIG-capable, MIG disabled: GPU ").append(String.join(", ", off)).append('\n');
        }
        if (section.length() > 0) {
            sb.append("\nMIG\n").append(section);
        }
    }

    private static String onOff(boolean on) {
        return on ? "enabled" : "disabled";
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / (1024.0 * 1024 * 1024));
    }

    private static String shortBus(String bus) {
        if (bus == null) {
            return "-";
        }
        // 00000000:18:00.0 -> 0000:18:00.0, as nvidia-smi prints it
        return bus.length() == 16 && bus.startsWith("0000") ? bus.substring(4) : bus;
    }

    private static String truncate(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "~";
    }

    private static String orNa(String s) {
        return s == null ? "n/a" : s;
    }

    private static String orDash(String s) {
        return s == null ? "-" : s;
    }
}
