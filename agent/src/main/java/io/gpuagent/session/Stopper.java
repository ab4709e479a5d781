package io.gpuagent.session;

import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerRuntime;
import io.gpuagent.container.ContainerState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;

/**
 * Stops sessions: STOPPING is journaled at once, then on the stop pool the container gets
 * SIGTERM, the grace period and SIGKILL, and the {@link Settler} bills it from the engine's times.
 * A stop that arrives while the launch is still pulling or starting is remembered and carried out
 * by the launch.
 *
 * <p>Queue policy: one stop task per session (only the RUNNING to STOPPING transition, or a
 * STOPPING session found at start-up, queues one), so the queue never holds more than the table;
 * should the bounded queue still be full, the stop runs on the caller's thread (a slower caller,
 * never a lost stop).
 *
 * <p>A stop the engine does not answer (it is down) does not settle the session: its container may
 * run on, and billing it from the agent's clock would end the renter's bill while it does. The
 * session stays STOPPING, reported every tick with its live figure held (EngineWatch), and the stop
 * is queued again when the engine answers.
 */
final class Stopper {
    private static final Logger log = LoggerFactory.getLogger(Stopper.class);

    private final SessionTable table;
    private final ContainerRuntime runtime;
    private final Settler settler;
    private final SessionListener listener;
    private final ExecutorService pool;
    private final Duration grace;
    /** Sessions whose container stop failed because the engine did not answer: retried when it does. */
    private final Set<String> failed = ConcurrentHashMap.newKeySet();

    Stopper(SessionTable table, ContainerRuntime runtime, Settler settler, SessionListener listener, ExecutorService pool,
            Duration grace) {
        this.table = table;
        this.runtime = runtime;
        this.settler = settler;
        this.listener = listener;
        this.pool = pool;
        this.grace = grace;
    }

    /** Stops a session (idempotent); {@code reason} is the detail the renter sees. */
    SessionView stop(String id, EndReason code, String reason) throws SessionException {
        SessionTable.StopDecision d = table.requestStop(id, code, reason);
        if (d.outcome() == SessionTable.StopOutcome.STOPPING) {
            listener.onChange(d.session().view());
            resume(id);
        }
        return d.session().view();
    }

    /** Stops a session from the agent's own decision (expiry, payment, GPU failure); a failure is logged. */
    void stopQuietly(String id, EndReason code, String reason) {
        try {
            stop(id, code, reason);
        } catch (SessionException e) {
            log.warn("session {}: stopping it ({}) failed: {}", id, code.code(), e.getMessage());
        }
    }

    /** Queues the container stop of a session already STOPPING (also one found so after a restart). */
    void resume(String id) {
        failed.remove(id);
        pool.execute(() -> stopContainer(id));
    }

    /**
     * Queues again the stops that failed because the engine did not answer; the engine watch calls
     * it when the engine answers again.
     */
    void retryFailed() {
        for (String id : List.copyOf(failed)) {
            if (failed.remove(id)) {
                log.info("session {}: the engine answers again: stopping its container", id);
                resume(id);
            }
        }
    }

    private void stopContainer(String id) {
        Session s = table.get(id).orElseThrow();
        if (s.state().terminal()) {
            return; // settled meanwhile (its container exited and a check saw it)
        }
        ContainerState c = null;
        try {
            runtime.stop(s.containerId(), grace);
            c = runtime.inspect(s.containerId()).orElse(null);
        } catch (io.gpuagent.container.ContainerNotFoundException e) {
            log.warn("session {}: its container is gone: {}", id, e.getMessage());
        } catch (ContainerException e) {
            // the container may still run: settling now would end the billing of a container that runs
            // on; the session stays STOPPING (reported, its live figure held) and the stop is retried
            log.warn("session {}: stopping its container failed ({}): it stays stopping and the stop is retried when "
                    + "the engine answers", id, e.getMessage());
            failed.add(id);
            return;
        }
        settler.settle(id, SessionState.ENDED, s.endReason() == null ? EndReason.STOPPED : s.endReason(),
                s.reason() == null ? "stopped" : s.reason(), c);
    }
}
