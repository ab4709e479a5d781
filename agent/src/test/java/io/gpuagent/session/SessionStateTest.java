package io.gpuagent.session;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SessionStateTest {
    @Test
    void theHappyPathAndItsExitsAreAllowed() {
        SessionState.check("s1", SessionState.REQUESTED, SessionState.PULLING);
        SessionState.check("s1", SessionState.PULLING, SessionState.STARTING);
        SessionState.check("s1", SessionState.STARTING, SessionState.RUNNING);
        SessionState.check("s1", SessionState.RUNNING, SessionState.STOPPING);
        SessionState.check("s1", SessionState.STOPPING, SessionState.ENDED);
        SessionState.check("s1", SessionState.RUNNING, SessionState.ENDED);
        SessionState.check("s1", SessionState.PULLING, SessionState.FAILED);
    }

    @Test
    void illegalTransitionsNameTheSessionAndBothStates() {
        assertThatThrownBy(() -> SessionState.check("abc", SessionState.ENDED, SessionState.RUNNING))
                .isInstanceOfSatisfying(IllegalTransitionException.class, e -> {
                    assertThat(e.sessionId()).isEqualTo("abc");
                    assertThat(e.from()).isEqualTo(SessionState.ENDED);
                    assertThat(e.to()).isEqualTo(SessionState.RUNNING);
                })
                .hasMessage("session abc: illegal transition ENDED -> RUNNING");
        assertThatThrownBy(() -> SessionState.check("abc", SessionState.RUNNING, SessionState.PULLING))
                .isInstanceOf(IllegalTransitionException.class);
        assertThatThrownBy(() -> SessionState.check("abc", SessionState.REQUESTED, SessionState.RUNNING))
                .isInstanceOf(IllegalTransitionException.class);
    }

    @Test
    void terminalStatesGoNowhereAndHoldNoGpus() {
        for (SessionState t : new SessionState[] {SessionState.ENDED, SessionState.FAILED}) {
            assertThat(t.terminal()).isTrue();
            assertThat(t.holdsGpus()).isFalse();
            for (SessionState to : SessionState.values()) {
                assertThat(t.canMoveTo(to)).isFalse();
            }
        }
        assertThat(SessionState.RUNNING.holdsGpus()).isTrue();
    }

    /**
     * The whole table, each edge with where it happens, so an edge added or lost is a decision:
     * STARTING -> ENDED is a container that ran and exited while the agent was down (the
     * reconciler used to turn it into a silent FAILED).
     */
    @Test
    void theTableHoldsExactlyTheTransitionsThatHappen() {
        java.util.Map<SessionState, java.util.Set<SessionState>> expected = java.util.Map.of(
                SessionState.REQUESTED, java.util.EnumSet.of(SessionState.PULLING, // image missing
                        SessionState.STARTING, // image present
                        SessionState.ENDED, // stopped before the container was created
                        SessionState.FAILED), // launch failed, or the agent restarted before the container existed
                SessionState.PULLING, java.util.EnumSet.of(SessionState.STARTING, SessionState.ENDED, SessionState.FAILED),
                SessionState.STARTING, java.util.EnumSet.of(SessionState.RUNNING, // started, or adopted after a restart
                        SessionState.STOPPING, SessionState.ENDED, // ran and exited while the agent was down
                        SessionState.FAILED),
                SessionState.RUNNING, java.util.EnumSet.of(SessionState.STOPPING, SessionState.ENDED, SessionState.FAILED),
                SessionState.STOPPING, java.util.EnumSet.of(SessionState.ENDED, SessionState.FAILED),
                SessionState.ENDED, java.util.EnumSet.noneOf(SessionState.class),
                SessionState.FAILED, java.util.EnumSet.noneOf(SessionState.class));
        for (SessionState from : SessionState.values()) {
            for (SessionState to : SessionState.values()) {
                assertThat(from.canMoveTo(to)).as("%s -> %s", from, to).isEqualTo(expected.get(from).contains(to));
            }
        }
    }
}
