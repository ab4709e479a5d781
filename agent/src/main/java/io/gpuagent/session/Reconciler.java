package io.gpuagent.session;

import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerRuntime;
import io.gpuagent.container.ContainerState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * After an agent restart, diffs the journal's open sessions with the engine's containers (found
 * by the session label) and acts on every difference: a running container is adopted (its GPUs,
 * ports and start time taken back, so metering resumes from the engine's start time and no second
 * is lost or counted twice), one that ended while the agent was down is settled from the engine's
 * times, a session whose container is gone is failed, and a container no session knows (a stray)
 * is removed. Runs once on the start-up thread, before the meter and READY.
 */
final class Reconciler {
    private static final Logger log = LoggerFactory.getLogger(Reconciler.class);

    private final SessionTable table;
    private final ContainerRuntime runtime;
    private final Settler settler;
    private final Stopper stopper;
    private final SessionListener listener;

    Reconciler(SessionTable table, ContainerRuntime runtime, Settler settler, Stopper stopper, SessionListener listener) {
        this.table = table;
        this.runtime = runtime;
        this.settler = settler;
        this.stopper = stopper;
        this.listener = listener;
    }

    SessionCore.ReconcileReport reconcile() throws ContainerException {
        Map<String, ContainerState> bySession = new HashMap<>();
        for (ContainerState c : runtime.list(Collections.singletonMap(LaunchPolicy.LABEL_SESSION, null))) {
            bySession.put(c.labels().get(LaunchPolicy.LABEL_SESSION), c);
        }
        List<String> adopted = new ArrayList<>();
        List<String> settled = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (Session s : table.open()) {
            ContainerState c = bySession.remove(s.id());
            if (c == null) {
                boolean launching = s.state() == SessionState.REQUESTED || s.state() == SessionState.PULLING;
                settler.settle(s.id(), SessionState.FAILED,
                        launching ? EndReason.AGENT_RESTARTED_DURING_LAUNCH : EndReason.CONTAINER_DISAPPEARED,
                        launching ? "the agent restarted before the container was created"
                                : "the container disappeared while the agent was down", null);
                failed.add(s.id());
            } else if (c.running()) {
                table.adopt(s.id(), c);
                adoptAsRunning(s);
                adopted.add(s.id());
                if (s.state() == SessionState.STOPPING) {
                    stopper.resume(s.id());
                }
            } else if (c.startedAt() == null) {
                settler.settle(s.id(), SessionState.FAILED, EndReason.NEVER_STARTED,
                        "the container was created but never started", c);
                failed.add(s.id());
            } else {
                settler.settle(s.id(), SessionState.ENDED, EndReason.ofExit(c.oomKilled()),
                        Settler.exitDetail(c, "ended while the agent was down"), c);
                settled.add(s.id());
            }
        }
        List<String> strays = new ArrayList<>();
        for (Map.Entry<String, ContainerState> stray : bySession.entrySet()) {
            ContainerState c = stray.getValue();
            log.warn("removing stray container {} (session {} is not in the journal)", c.name(), stray.getKey());
            runtime.remove(c.id());
            runtime.removeNetwork(c.name());
            strays.add(c.name());
        }
        return new SessionCore.ReconcileReport(adopted, settled, failed, strays);
    }

    /**
     * A session still launching when the agent stopped, whose container runs: RUNNING now. The
     * transition table goes through STARTING, which the launch journals before it creates a
     * container, so only a journal that lost that record would start from REQUESTED or PULLING.
     */
    private void adoptAsRunning(Session s) {
        try {
            if (s.state() == SessionState.REQUESTED || s.state() == SessionState.PULLING) {
                log.warn("session {}: its container runs although the journal has it {}", s.id(), s.state());
                listener.onChange(table.transition(s.id(), SessionState.STARTING, null, null).session().view());
            }
            if (table.get(s.id()).orElseThrow().state() == SessionState.STARTING) {
                listener.onChange(table.transition(s.id(), SessionState.RUNNING, null, "adopted after an agent restart")
                        .session().view());
            }
        } catch (SessionException e) {
            log.error("session {}: adopting it could not be journaled: {}", s.id(), e.getMessage());
        }
    }
}
