package io.gpuagent.gpu;

import io.gpuagent.util.Clock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;

class DeviceCallGuardTest {
    private final GpuCallStats stats = new GpuCallStats();

    @Test
    void aHungCallTimesOutAndLaterCallsAreRefusedUntilItReturns() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (DeviceCallGuard guard = new DeviceCallGuard(3, Clock.SYSTEM, stats)) {
            DeviceCallGuard.Outcome<String> first = guard.call("sample", () -> {
                release.await();
                return "late";
            }, Duration.ofMillis(50));
            assertThat(first).isInstanceOf(DeviceCallGuard.Outcome.Hung.class);
            assertThat(((DeviceCallGuard.Outcome.Hung<String>) first).reason())
                    .contains("GPU 3").contains("did not return within 50 ms");
            assertThat(guard.isHung()).isTrue();

            DeviceCallGuard.Outcome<String> refused = guard.call("sample", () -> "never runs", Duration.ofSeconds(5));
            assertThat(refused).isInstanceOf(DeviceCallGuard.Outcome.Hung.class);
            assertThat(stats.skippedWhileHung()).isEqualTo(1);
            assertThat(stats.timeouts()).isEqualTo(1);

            release.countDown();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !guard.isHung());
            DeviceCallGuard.Outcome<String> again = guard.call("sample", () -> "ok", Duration.ofSeconds(5));
            assertThat(again).isEqualTo(new DeviceCallGuard.Outcome.Done<>("ok",
                    ((DeviceCallGuard.Outcome.Done<String>) again).nanos()));
        }
    }

    @Test
    void oneHungGpuDoesNotDelayAnother() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        try (DeviceCallGuard hung = new DeviceCallGuard(0, Clock.SYSTEM, stats);
             DeviceCallGuard fine = new DeviceCallGuard(1, Clock.SYSTEM, stats)) {
            var pending = hung.submit("sample", () -> {
                never.await();
                return 0;
            }, Duration.ofSeconds(30));
            DeviceCallGuard.Outcome<Integer> o = fine.call("sample", () -> 1, Duration.ofSeconds(5));
            assertThat(o).isInstanceOf(DeviceCallGuard.Outcome.Done.class);
            assertThat(pending).isNotDone();
            never.countDown();
        }
    }

    @Test
    void driverErrorsComeBackAsFailedAndCountLatency() {
        try (DeviceCallGuard guard = new DeviceCallGuard(0, Clock.SYSTEM, stats)) {
            DeviceCallGuard.Outcome<Object> o = guard.call("sample", () -> {
                throw new GpuLostException("NVML_ERROR_GPU_IS_LOST", "gone");
            }, Duration.ofSeconds(5));
            assertThat(o).isInstanceOf(DeviceCallGuard.Outcome.Failed.class);
            assertThat(((DeviceCallGuard.Outcome.Failed<Object>) o).error()).isInstanceOf(GpuLostException.class);
            assertThat(stats.count()).isEqualTo(1);
            long total = 0;
            for (int i = 0; i <= GpuCallStats.BUCKETS.length; i++) {
                total += stats.bucket(i);
            }
            assertThat(total).isEqualTo(1);
        }
    }
}
