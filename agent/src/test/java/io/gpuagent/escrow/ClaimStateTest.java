package io.gpuagent.escrow;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;

import static io.gpuagent.escrow.ClaimState.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClaimStateTest {
    @Test
    void theTransitionTableIsExactlyTheDocumentedOne() {
        assertThat(PENDING.next()).containsExactlyInAnyOrder(SIGNED, SKIPPED, FAILED);
        assertThat(SIGNED.next()).containsExactlyInAnyOrder(SENT, REPLACED);
        assertThat(SENT.next()).containsExactlyInAnyOrder(MINED, REVERTED, REPLACED);
        assertThat(MINED.next()).containsExactlyInAnyOrder(FINAL, SENT);
        for (ClaimState s : EnumSet.of(FINAL, SKIPPED, FAILED, REVERTED, REPLACED)) {
            assertThat(s.isTerminal()).as("%s", s).isTrue();
            assertThat(s.next()).isEmpty();
        }
        assertThat(EnumSet.allOf(ClaimState.class).stream().filter(ClaimState::isInFlight)).containsExactly(SIGNED, SENT, MINED);
    }

    @Test
    void anIllegalTransitionThrowsWithTheIdAndBothStates() {
        for (ClaimState from : ClaimState.values()) {
            for (ClaimState to : ClaimState.values()) {
                if (!from.canGoTo(to)) {
                    assertThatThrownBy(() -> ClaimState.check("c-7", from, to))
                            .isInstanceOfSatisfying(IllegalClaimTransitionException.class, e -> {
                                assertThat(e.claimId()).isEqualTo("c-7");
                                assertThat(e.from()).isEqualTo(from);
                                assertThat(e.to()).isEqualTo(to);
                                assertThat(e.getMessage()).contains("c-7").contains(from + " -> " + to);
                            });
                }
            }
        }
        Claim c = new Claim("c-1", PENDING, "final", List.of(new ClaimItem("0x" + "ab".repeat(32), 1, BigInteger.ONE,
                "0x" + "11".repeat(65), true)), null, null, "", Instant.EPOCH, Instant.EPOCH);
        assertThatThrownBy(() -> c.to(FINAL, "", Instant.EPOCH)).hasMessageContaining("claim c-1: illegal transition PENDING -> FINAL");
    }
}
