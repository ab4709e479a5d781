package io.gpuagent.util;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackoffTest {
    @Test
    void growsExponentiallyWithinJitterAndStopsAtTheCap() {
        Backoff max = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5), () -> 0.999999);
        Backoff min = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5), () -> 0.0);
        assertThat(max.delay(0)).isBetween(Duration.ofMillis(99), Duration.ofMillis(100));
        assertThat(min.delay(0)).isEqualTo(Duration.ofMillis(50));
        assertThat(max.delay(3)).isBetween(Duration.ofMillis(799), Duration.ofMillis(800));
        assertThat(max.delay(10)).isBetween(Duration.ofMillis(4999), Duration.ofSeconds(5));
        assertThat(max.delay(1000)).isLessThanOrEqualTo(Duration.ofSeconds(5));
        assertThat(min.delay(1000)).isEqualTo(Duration.ofMillis(2500));
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1))).hasMessageContaining("positive");
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1))).hasMessageContaining("cap");
    }
}
