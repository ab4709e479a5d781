package io.gpuagent.session;

import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerRuntime;
import io.gpuagent.container.ContainerState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Ends sessions: reads the container's last log lines, settles the session in the
 * {@link SessionTable} (billing from the engine's own times, the END record, GPUs and ports
 * freed), counts failures, removes the container and its network, and tells the listener. Called
 * from the launch and stop threads, the meter and the reconciler; the engine calls happen outside
 * the table's lock.
 */
final class Settler {
    private static final Logger log = LoggerFactory.getLogger(Settler.class);
    static final int LOG_TAIL_LINES = 50;

    private final SessionTable table;
    private final ContainerRuntime runtime;
    private final SessionCounters counters;
    private final SessionListener listener;

    Settler(SessionTable table, ContainerRuntime runtime, SessionCounters counters, SessionListener listener) {
        this.table = table;
        this.runtime = runtime;
        this.counters = counters;
        this.listener = listener;
    }

    /**
     * Ends session {@code id} in state {@code to} (ENDED or FAILED); nothing happens when it has
     * ended already.
     *
     * @param c the container as the engine last reported it (its times bill the session), or null
     * @throws IllegalTransitionException when {@code to} is not allowed from the session's state (a bug)
     */
    void settle(String id, SessionState to, EndReason code, String reason, ContainerState c) {
        List<String> tail = List.of();
        if (c != null) {
            try {
                tail = runtime.logTail(c.id(), LOG_TAIL_LINES);
            } catch (ContainerException e) {
                log.debug("session {}: no log tail: {}", id, e.getMessage());
            }
        }
        Session ended = table.settle(id, to, code, reason, c, tail).orElse(null);
        if (ended == null) {
            return;
        }
        if (to == SessionState.FAILED) {
            counters.failed(code);
        }
        String name = LaunchPolicy.containerName(id);
        try {
            runtime.remove(ended.containerId() != null ? ended.containerId() : name);
            runtime.removeNetwork(name);
        } catch (ContainerException e) {
            log.warn("session {}: cleaning up its container failed ({}); it is removed as a stray at the next start",
                    id, e.getMessage());
        }
        log.info("session {}: {} ({}: {}), billed {} s", id, ended.state(), code.code(), reason, ended.billedSeconds());
        listener.onChange(ended.view());
    }

    /** The detail of a container's own end: its exit code, or the OOM kill. */
    static String exitDetail(ContainerState c, String what) {
        if (c.oomKilled()) {
            return what + ": killed for exceeding its memory limit (OOM)";
        }
        return what + (c.exitCode() != null ? " with code " + c.exitCode() : "");
    }
}
