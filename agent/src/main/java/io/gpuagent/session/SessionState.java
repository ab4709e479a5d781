package io.gpuagent.session;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * A renter's session, from the launch request to its end, with the transition table every change
 * is checked against (each transition is journaled before it takes effect).
 *
 * <pre>
 * REQUESTED -> PULLING | STARTING | ENDED | FAILED
 * PULLING   -> STARTING | ENDED | FAILED          (ENDED: stopped while the image was pulling)
 * STARTING  -> RUNNING | STOPPING | ENDED | FAILED (ENDED: the container ran and exited while the agent was down)
 * RUNNING   -> STOPPING | ENDED | FAILED          (ENDED: the container exited by itself)
 * STOPPING  -> ENDED | FAILED
 * ENDED, FAILED: terminal
 * </pre>
 * Nothing bypasses the table: {@link SessionTable} checks every transition, the end of a session
 * included, and an illegal one throws {@link IllegalTransitionException} naming the session and
 * both states (a bug in the agent, never a renter's doing).
 */
public enum SessionState {
    REQUESTED, PULLING, STARTING, RUNNING, STOPPING, ENDED, FAILED;

    private static final Map<SessionState, Set<SessionState>> NEXT = Map.of(
            REQUESTED, EnumSet.of(PULLING, STARTING, ENDED, FAILED),
            PULLING, EnumSet.of(STARTING, ENDED, FAILED),
            STARTING, EnumSet.of(RUNNING, STOPPING, ENDED, FAILED),
            RUNNING, EnumSet.of(STOPPING, ENDED, FAILED),
            STOPPING, EnumSet.of(ENDED, FAILED),
            ENDED, EnumSet.noneOf(SessionState.class),
            FAILED, EnumSet.noneOf(SessionState.class));

    public boolean canMoveTo(SessionState next) {
        return NEXT.get(this).contains(next);
    }

    public boolean terminal() {
        return this == ENDED || this == FAILED;
    }

    /** Whether GPUs are held in this state (from allocation until the container is gone). */
    public boolean holdsGpus() {
        return !terminal();
    }

    /**
     * Checks a transition.
     *
     * @throws IllegalTransitionException naming the session, the from-state and the to-state
     */
    public static void check(String sessionId, SessionState from, SessionState to) {
        if (!from.canMoveTo(to)) {
            throw new IllegalTransitionException(sessionId, from, to);
        }
    }
}
