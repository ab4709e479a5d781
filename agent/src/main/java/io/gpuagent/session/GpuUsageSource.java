package io.gpuagent.session;

import io.gpuagent.gpu.GpuProcess;

import java.util.List;

/** The latest per-GPU figures the session layer attributes to sessions (from the 1 Hz sampler). */
public interface GpuUsageSource {
    /** Utilization of the GPU in percent, or null when unknown or stale. */
    Integer utilizationPercent(String gpuUuid);

    /** The compute processes on the GPU with their GPU memory. */
    List<GpuProcess> processes(String gpuUuid);

    /**
     * The memory used in a MIG instance (it is all its renter's: an instance is held whole), or
     * null when unknown. NVML gives no per-process data inside a MIG instance on every driver, so
     * a MIG unit's GPU memory comes from here.
     */
    default Long migMemoryUsedBytes(String migUuid) {
        return null;
    }

    GpuUsageSource NONE = new GpuUsageSource() {
        @Override
        public Integer utilizationPercent(String gpuUuid) {
            return null;
        }

        @Override
        public List<GpuProcess> processes(String gpuUuid) {
            return List.of();
        }
    };
}
