package io.gpuagent.session;

/**
 * What a session used, beyond its billed time: refreshed every few ticks from the engine's
 * cgroup counters and NVML's per-process data.
 *
 * @param gpuSeconds        billed seconds x GPUs
 * @param gpuUtilPercent    mean utilization of its GPUs at the last reading (exclusive GPUs: all theirs)
 * @param gpuMemoryBytes    GPU memory held by its processes at the last reading (NVML per-process data)
 * @param cpuSeconds        CPU time used, all cores
 * @param memoryBytes       memory in use at the last reading
 * @param peakMemoryBytes   the highest memory reading seen
 * @param netRxBytes        bytes received
 * @param netTxBytes        bytes sent
 * @param diskBytes         bytes in its writable layer at the last (less frequent) reading; null when unknown
 */
public record SessionUsage(long gpuSeconds, Integer gpuUtilPercent, long gpuMemoryBytes, double cpuSeconds,
                           long memoryBytes, long peakMemoryBytes, long netRxBytes, long netTxBytes, Long diskBytes) {
    public static final SessionUsage NONE = new SessionUsage(0, null, 0, 0, 0, 0, 0, 0, null);
}
