package io.gpuagent.gpu;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What the operator endpoint may know of the GPUs, read-only: the inventory, the latest samples,
 * each GPU's health and XID counts, and the sampler's and NVML calls' counters. Nothing here starts,
 * stops or changes anything ({@link GpuMonitor} implements it; the metrics room sees only this).
 */
public interface GpuReadings {
    GpuInventory inventory();

    /** The latest immutable sample of every GPU. */
    TelemetrySampler.Snapshot samples();

    /** How often the sampler ticks. */
    Duration sampleInterval();

    /** Telemetry ticks completed. */
    long sampleTicks();

    /** Wall time of the last tick over all GPUs, nanoseconds. */
    long lastTickDurationNanos();

    /** One GPU's health, or null for a UUID not in the inventory. */
    GpuHealthState healthOf(String uuid);

    /** Every GPU's health, in index order. */
    List<GpuHealthState> healthStates();

    /** Each MIG instance's own health ({@link GpuHealthRegistry#instances()}); empty without MIG. */
    default List<GpuHealthState> instanceHealthStates() {
        return List.of();
    }

    /** XIDs seen per GPU UUID: XID -> count. */
    Map<String, Map<Long, Long>> xidCounts();

    /** Each MIG-capable GPU's MIG state by GPU UUID (GPUs without MIG are absent). */
    default Map<String, MigState> migStates() {
        return Map.of();
    }

    /** How the GPUs are linked. */
    default GpuTopology topology() {
        return GpuTopology.unknown(inventory().gpus().stream().map(GpuDevice::uuid).toList());
    }

    /** NVML call latency, timeouts and skips (its public methods only read). */
    GpuCallStats callStats();
}
