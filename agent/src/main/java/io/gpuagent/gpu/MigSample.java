package io.gpuagent.gpu;

/**
 * One MIG instance's telemetry, read with its GPU's sample: what NVML gives per MIG device (its
 * memory; utilization, power and clocks are only per physical GPU).
 *
 * @param uuid              the MIG device's UUID ({@code MIG-...})
 * @param gpuInstanceId     dcgm-exporter's {@code GPU_I_ID}
 * @param computeInstanceId the compute instance inside the GPU instance
 * @param profile           dcgm-exporter's {@code GPU_I_PROFILE}, {@code 1g.10gb}
 * @param memoryTotalBytes  the instance's memory
 * @param memoryUsedBytes   used, or null when the driver would not say this time
 * @param memoryFreeBytes   free, or null likewise
 */
public record MigSample(String uuid, int gpuInstanceId, int computeInstanceId, String profile, long memoryTotalBytes,
                        Long memoryUsedBytes, Long memoryFreeBytes) {
}
