package io.gpuagent.gpu;

import java.time.Instant;

/**
 * The health of one GPU and why.
 *
 * @param lastXid the last XID seen on the GPU (critical or not), null when none
 */
public record GpuHealthState(String uuid, int index, GpuHealth health, String reason, Instant since,
                             Integer lastXid) {

    public static GpuHealthState healthy(String uuid, int index, Instant since) {
        return new GpuHealthState(uuid, index, GpuHealth.HEALTHY, "ok", since, null);
    }
}
