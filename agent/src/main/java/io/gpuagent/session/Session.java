package io.gpuagent.session;

import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;

/**
 * One session at one instant: immutable. {@link SessionTable} is the only owner of the current
 * value of each session and swaps it whole under its lock; everyone else holds copies, which
 * never change under them.
 *
 * @param endReason     why it ends, once it is ending (STOPPING) or ended
 * @param reason        the human detail of the current state (the end reason's detail once ending)
 * @param usageFresh    the usage was refreshed since the last USAGE record was journaled
 * @param stopRequested a stop that arrived while the launch was still pulling or starting
 */
record Session(LaunchRequest request, SessionState state, List<String> gpus, List<Integer> hostPorts,
               String containerId, Instant startedAt, Instant finishedAt, long billedSeconds, String basis,
               EndReason endReason, String reason, Integer exitCode, boolean oomKilled, String pullProgress,
               List<String> logTail, SessionUsage usage, boolean usageFresh, StopRequest stopRequested) {

    /** A stop to carry out once the launch reaches RUNNING (or before it starts the container). */
    record StopRequest(EndReason code, String reason) {
    }

    Session {
        gpus = gpus == null ? List.of() : List.copyOf(gpus);
        hostPorts = hostPorts == null ? List.of() : List.copyOf(hostPorts);
        logTail = logTail == null ? List.of() : List.copyOf(logTail);
        usage = usage == null ? SessionUsage.NONE : usage;
    }

    /** A session just accepted, holding its GPUs and ports. */
    static Session accepted(LaunchRequest request, List<String> gpus, List<Integer> hostPorts) {
        return new Session(request, SessionState.REQUESTED, gpus, hostPorts, null, null, null, 0, null, null, null, null,
                false, null, List.of(), SessionUsage.NONE, false, null);
    }

    String id() {
        return request.sessionId();
    }

    /** A copy with what {@code change} sets on the draft. */
    Session with(Consumer<Draft> change) {
        Draft d = new Draft(this);
        change.accept(d);
        return new Session(request, d.state, d.gpus, d.hostPorts, d.containerId, d.startedAt, d.finishedAt,
                d.billedSeconds, d.basis, d.endReason, d.reason, d.exitCode, d.oomKilled, d.pullProgress, d.logTail,
                d.usage, d.usageFresh, d.stopRequested);
    }

    /** The immutable view the protocol, the status endpoint and tests see. */
    SessionView view() {
        return new SessionView(request.sessionId(), request.rentalId(), request.renter(), request.image(), state, gpus,
                hostPorts, containerId, startedAt == null ? null : startedAt.toString(),
                finishedAt == null ? null : finishedAt.toString(), billedSeconds, reason, endReason, exitCode, oomKilled,
                pullProgress, new SessionUsage(billedSeconds * gpus.size(), usage.gpuUtilPercent(),
                usage.gpuMemoryBytes(), usage.cpuSeconds(), usage.memoryBytes(), usage.peakMemoryBytes(),
                usage.netRxBytes(), usage.netTxBytes(), usage.diskBytes()));
    }

    /** The fields of a {@link Session} being changed; lives only inside {@link #with}. */
    static final class Draft {
        SessionState state;
        List<String> gpus;
        List<Integer> hostPorts;
        String containerId;
        Instant startedAt;
        Instant finishedAt;
        long billedSeconds;
        String basis;
        EndReason endReason;
        String reason;
        Integer exitCode;
        boolean oomKilled;
        String pullProgress;
        List<String> logTail;
        SessionUsage usage;
        boolean usageFresh;
        StopRequest stopRequested;

        private Draft(Session s) {
            state = s.state;
            gpus = s.gpus;
            hostPorts = s.hostPorts;
            containerId = s.containerId;
            startedAt = s.startedAt;
            finishedAt = s.finishedAt;
            billedSeconds = s.billedSeconds;
            basis = s.basis;
            endReason = s.endReason;
            reason = s.reason;
            exitCode = s.exitCode;
            oomKilled = s.oomKilled;
            pullProgress = s.pullProgress;
            logTail = s.logTail;
            usage = s.usage;
            usageFresh = s.usageFresh;
            stopRequested = s.stopRequested;
        }
    }
}
