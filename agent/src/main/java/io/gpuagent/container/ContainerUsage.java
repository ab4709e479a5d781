package io.gpuagent.container;

import java.util.List;

/**
 * A running container's resource use as the engine reports it (cgroup counters), for the
 * session's usage record.
 *
 * @param cpuNanos     CPU time used since start, all cores
 * @param memoryBytes  memory in use now
 * @param netRxBytes   bytes received over all its interfaces since start
 * @param netTxBytes   bytes sent over all its interfaces since start
 * @param pids         host PIDs of its processes (to attribute NVML's per-process GPU memory)
 */
public record ContainerUsage(long cpuNanos, long memoryBytes, long netRxBytes, long netTxBytes, List<Integer> pids) {
    public ContainerUsage {
        pids = List.copyOf(pids);
    }
}
