package io.gpuagent.session;

import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerRuntime;
import io.gpuagent.container.ContainerUsage;
import io.gpuagent.gpu.GpuProcess;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.Set;

/**
 * What a running session uses beyond its billed time: the engine's cgroup counters of its
 * container, and of its GPUs (exclusively its own) the utilization and the GPU memory held by its
 * container's processes, from NVML's per-process data. Called by the meter every few ticks.
 */
final class UsageAttributor {
    private static final Logger log = LoggerFactory.getLogger(UsageAttributor.class);

    private final SessionTable table;
    private final ContainerRuntime runtime;
    private final GpuUsageSource gpuUsage;

    UsageAttributor(SessionTable table, ContainerRuntime runtime, GpuUsageSource gpuUsage) {
        this.table = table;
        this.runtime = runtime;
        this.gpuUsage = gpuUsage;
    }

    /**
     * Reads the session's counters and stores them as its usage, to go with its next USAGE record.
     *
     * @param readDisk also read the writable layer's size (slow on some storage drivers: less often)
     */
    void refresh(Session s, boolean readDisk) {
        ContainerUsage u;
        try {
            u = runtime.usage(s.containerId());
        } catch (ContainerException e) {
            log.debug("session {}: no usage this time: {}", s.id(), e.getMessage());
            return;
        }
        Long disk = null;
        if (readDisk) {
            try {
                disk = runtime.diskUsage(s.containerId());
            } catch (ContainerException e) {
                log.debug("session {}: no disk usage this time: {}", s.id(), e.getMessage());
            }
        }
        Set<Integer> pids = new HashSet<>(u.pids());
        long gpuMem = 0;
        int utilSum = 0;
        int utilCount = 0;
        for (String g : s.gpus()) {
            Long inMig = g.startsWith("MIG-") ? gpuUsage.migMemoryUsedBytes(g) : null;
            if (inMig != null) {
                gpuMem += inMig;
                continue; // a MIG instance has no utilization of its own in NVML
            }
            for (GpuProcess p : gpuUsage.processes(g)) {
                if (pids.contains(p.pid()) && p.usedMemoryBytes() != null) {
                    gpuMem += p.usedMemoryBytes();
                }
            }
            Integer util = gpuUsage.utilizationPercent(g);
            if (util != null) {
                utilSum += util;
                utilCount++;
            }
        }
        Integer meanUtil = utilCount == 0 ? null : utilSum / utilCount;
        long gpuMemory = gpuMem;
        Long diskBytes = disk;
        table.update(s.id(), d -> {
            SessionUsage old = d.usage;
            d.usage = new SessionUsage(0, meanUtil, gpuMemory, u.cpuNanos() / 1e9, u.memoryBytes(),
                    Math.max(old.peakMemoryBytes(), u.memoryBytes()), u.netRxBytes(), u.netTxBytes(),
                    readDisk ? diskBytes : old.diskBytes());
            d.usageFresh = true;
        });
    }
}
