package io.gpuagent.session;

import io.gpuagent.gpu.GpuProcess;

import java.util.List;

/** The latest per-GPU figures the session layer attributes to sessions (from the 1 Hz sampler). */
public interface GpuUsageSource {
    /** Utilization of the GPU in percent, or null when unknown or stale. */
    Integer utilizationPercent(String gpuUuid);

    /** The compute processes on the GPU with their GPU memory. */
    List<GpuProcess> processes(String gpuUuid);

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
