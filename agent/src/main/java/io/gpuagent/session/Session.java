package io.gpuagent.session;

import java.time.Instant;
import java.util.List;

/** The mutable record of one session, owned by {@link SessionManager} and guarded by its monitor. */
final class Session {
    final LaunchRequest request;
    SessionState state = SessionState.REQUESTED;
    List<String> gpus = List.of();
    List<Integer> hostPorts = List.of();
    String containerId;
    Instant startedAt;
    Instant finishedAt;
    long billedSeconds;
    String basis;
    String reason;
    Integer exitCode;
    boolean oomKilled;
    String pullProgress;
    List<String> logTail = List.of();
    SessionUsage usage = SessionUsage.NONE;
    /** The usage was refreshed since the last USAGE record. */
    boolean usageFresh;
    /** A stop arrived while the launch was still pulling or starting. */
    String stopRequested;

    Session(LaunchRequest request) {
        this.request = request;
    }

    String id() {
        return request.sessionId();
    }

    SessionView view() {
        return new SessionView(request.sessionId(), request.rentalId(), request.renter(), request.image(), state, gpus,
                hostPorts, containerId, startedAt == null ? null : startedAt.toString(),
                finishedAt == null ? null : finishedAt.toString(), billedSeconds, reason, exitCode, oomKilled,
                pullProgress, new SessionUsage(billedSeconds * gpus.size(), usage.gpuUtilPercent(),
                usage.gpuMemoryBytes(), usage.cpuSeconds(), usage.memoryBytes(), usage.peakMemoryBytes(),
                usage.netRxBytes(), usage.netTxBytes(), usage.diskBytes()));
    }
}
