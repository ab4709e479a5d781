package io.gpuagent.util;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class ClockJumpDetectorTest {
    @Test
    void seesLeapsAndRetrogradeWallClockButNotNormalTime() {
        ManualClock clock = new ManualClock();
        ClockJumpDetector d = new ClockJumpDetector(clock, Duration.ofSeconds(1));
        clock.advance(Duration.ofSeconds(30));
        assertThat(d.check()).isEqualTo(Duration.ZERO);
        clock.jumpWall(Duration.ofMinutes(5));
        assertThat(d.check()).isEqualTo(Duration.ofMinutes(5));
        clock.advance(Duration.ofSeconds(1));
        clock.jumpWall(Duration.ofSeconds(-90));
        assertThat(d.check()).isEqualTo(Duration.ofSeconds(-90));
        clock.jumpWall(Duration.ofMillis(500));
        assertThat(d.check()).as("within tolerance").isEqualTo(Duration.ZERO);
    }
}
