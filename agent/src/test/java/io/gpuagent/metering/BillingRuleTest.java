package io.gpuagent.metering;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static io.gpuagent.metering.BillingRule.Basis.CLOCK_ANOMALY;
import static io.gpuagent.metering.BillingRule.Basis.FINISHED;
import static io.gpuagent.metering.BillingRule.Basis.NOT_STARTED;
import static io.gpuagent.metering.BillingRule.Basis.RUNNING;
import static org.assertj.core.api.Assertions.assertThat;

/** The partial-second rule of docs/journal.md, "Billing rule". */
class BillingRuleTest {
    private static final Instant START = Instant.parse("2026-11-27T10:00:00.250Z");
    private static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");

    private static BillingRule.BilledTime bill(Duration ran) {
        return BillingRule.billedSeconds(START, START.plus(ran), NOW);
    }

    @Test
    void exactSecondsBillExactly() {
        assertThat(bill(Duration.ofSeconds(10))).isEqualTo(new BillingRule.BilledTime(10, FINISHED, Duration.ofSeconds(10)));
    }

    @Test
    void anyPartOfASecondBillsTheWholeSecond() {
        assertThat(bill(Duration.ofMillis(10_001)).seconds()).isEqualTo(11);
        assertThat(bill(Duration.ofSeconds(10).plusNanos(1)).seconds()).isEqualTo(11);
        assertThat(bill(Duration.ofMillis(10_999)).seconds()).isEqualTo(11);
    }

    @Test
    void aShortRunBillsTheOneSecondMinimum() {
        assertThat(bill(Duration.ofMillis(200))).isEqualTo(new BillingRule.BilledTime(1, FINISHED, Duration.ofMillis(200)));
        assertThat(bill(Duration.ZERO).seconds()).as("it started, so it ran").isEqualTo(1);
    }

    @Test
    void aFinishBeforeTheStartBillsNothingAndSaysWhy() {
        BillingRule.BilledTime b = bill(Duration.ofSeconds(-3));
        assertThat(b.seconds()).isZero();
        assertThat(b.basis()).isEqualTo(CLOCK_ANOMALY);
        assertThat(b.ran()).isEqualTo(Duration.ofSeconds(-3));
    }

    @Test
    void aRunningContainerIsBilledUpToNow() {
        BillingRule.BilledTime b = BillingRule.billedSeconds(START, null, START.plusMillis(61_500));
        assertThat(b).isEqualTo(new BillingRule.BilledTime(62, RUNNING, Duration.ofMillis(61_500)));
        assertThat(BillingRule.billedSeconds(START, BillingRule.DOCKER_ZERO_TIME, START.plusSeconds(5)))
                .as("Docker reports FinishedAt 0001-01-01 while running").isEqualTo(new BillingRule.BilledTime(5, RUNNING, Duration.ofSeconds(5)));
        assertThat(BillingRule.billedSeconds(START, null, START.minusSeconds(1)).basis()).isEqualTo(CLOCK_ANOMALY);
    }

    @Test
    void aContainerThatNeverStartedBillsNothing() {
        assertThat(BillingRule.billedSeconds(null, null, NOW)).isEqualTo(new BillingRule.BilledTime(0, NOT_STARTED, Duration.ZERO));
        assertThat(BillingRule.billedSeconds(BillingRule.DOCKER_ZERO_TIME, BillingRule.DOCKER_ZERO_TIME, NOW).basis())
                .isEqualTo(NOT_STARTED);
    }

    @Test
    void longRunsStayExact() {
        Duration thirtyDays = Duration.ofDays(30).plusMillis(1);
        assertThat(bill(thirtyDays).seconds()).isEqualTo(30L * 86_400 + 1);
    }
}
