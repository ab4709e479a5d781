package io.gpuagent.session;

import java.util.List;

/**
 * An immutable view of one session for the protocol, the status endpoint and tests.
 *
 * @param billedSeconds billed so far (running) or in total (ended), from the engine's own times
 * @param reason        the human detail of the state: why it is stopping or ended, the pull, ...
 * @param endReason     the stable code of why it ends, from STOPPING on (null before)
 * @param usage         resources used (GPU-seconds, GPU utilization and memory, CPU, memory, network)
 */
public record SessionView(String sessionId, String rentalId, String renter, String image, SessionState state,
                          List<String> gpus, List<Integer> hostPorts, String containerId, String startedAt,
                          String finishedAt, long billedSeconds, String reason, EndReason endReason, Integer exitCode,
                          boolean oomKilled, String pullProgress, SessionUsage usage) {
}
