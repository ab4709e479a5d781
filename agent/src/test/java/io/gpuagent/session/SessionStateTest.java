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
}
