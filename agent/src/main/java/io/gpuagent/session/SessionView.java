package io.gpuagent.session;

import java.util.List;

/**
 * An immutable view of one session for the protocol, the status endpoint and tests.
 *
 * @param billedSeconds billed so far (running) or in total (ended), from the engine's own times
 * @param usage         resources used (GPU-seconds, GPU utilization and memory, CPU, memory, network)
 */
public record SessionView(String sessionId, String rentalId, String renter, String image, SessionState state,
                          List<String> gpus, List<Integer> hostPorts, String containerId, String startedAt,
                          String finishedAt, long billedSeconds, String reason, Integer exitCode, boolean oomKilled,
                          String pullProgress, SessionUsage usage) {
}
