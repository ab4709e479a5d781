package io.gpuagent.escrow;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ClaimPlannerTest {
    private static final String RENTAL = "0x" + "ab".repeat(32);
    private static final Instant T0 = Instant.parse("2026-11-27T10:00:00Z");
    private final ClaimPlanner planner = new ClaimPlanner(new ClaimPolicy(Duration.ofHours(1), BigInteger.ZERO, 10,
            Duration.ofSeconds(1), BigInteger.ONE, BigInteger.TEN, 1, false, Duration.ofSeconds(30)));

    private static RentalBook ended(long voucherSeconds, long billed) {
        Voucher v = new Voucher(RENTAL, voucherSeconds, BigInteger.valueOf(voucherSeconds * 611), "0x" + "11".repeat(65));
        return RentalBook.registered(RENTAL, "s-1", T0).withVoucher(v, T0).withEnded(billed);
    }

    @Test
    void theFinalClaimWaitsBrieflyForTheRenterLastVoucherThenClaimsWhatItHas() {
        RentalBook behind = ended(5, 7);
        assertThat(planner.due(List.of(behind), List.of(), T0.plusSeconds(3))).as("the last voucher may be on its way")
                .isEmpty();
        List<ClaimPlanner.Candidate> late = planner.due(List.of(behind), List.of(), T0.plus(ClaimPlanner.FINAL_VOUCHER_GRACE));
        assertThat(late).singleElement().satisfies(c -> {
            assertThat(c.reason()).isEqualTo("final");
            assertThat(c.item().close()).isTrue();
            assertThat(c.item().cumulativeSeconds()).isEqualTo(5);
        });
    }

    @Test
    void aRenterWhoPaidAheadOfTheFinalBillingIsChargedOnlyForTheBilledSeconds() {
        // the live meter said 8 s before the engine's finish time settled the session at 7 s
        RentalBook b = RentalBook.registered(RENTAL, "s-1", T0);
        for (long s = 1; s <= 8; s++) {
            b = b.withVoucher(new Voucher(RENTAL, s, BigInteger.valueOf(s * 611), "0x" + "11".repeat(65)), T0);
        }
        b = b.withEnded(7);
        assertThat(b.paidSeconds()).isEqualTo(8);
        assertThat(planner.due(List.of(b), List.of(), T0)).singleElement().satisfies(c -> {
            assertThat(c.item().cumulativeSeconds()).isEqualTo(7);
            assertThat(c.item().cumulativeAmount()).isEqualTo(BigInteger.valueOf(7 * 611));
        });
        assertThat(b.earlier()).hasSize(7);
    }

    @Test
    void aFinalVoucherCoveringEveryBilledSecondIsClaimedAtOnce() {
        assertThat(planner.due(List.of(ended(7, 7)), List.of(), T0)).singleElement()
                .satisfies(c -> assertThat(c.item().cumulativeAmount()).isEqualTo(BigInteger.valueOf(7 * 611)));
    }
}
