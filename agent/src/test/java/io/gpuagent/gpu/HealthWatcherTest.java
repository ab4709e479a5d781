package io.gpuagent.gpu;

import io.gpuagent.util.Clock;
import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class HealthWatcherTest {
    @Test
    void eventsFromTheDriverGoThroughTheXidPolicy() throws Exception {
        FakeGpuDriver fake = new FakeGpuDriver(3);
        List<GpuDevice> devices = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            devices.add(fake.describe(i));
        }
        GpuHealthRegistry health = new GpuHealthRegistry(Clock.SYSTEM, devices);
        HealthWatcher w = new HealthWatcher(fake, devices, health, Clock.SYSTEM);
        w.start();
        try {
            fake.emit(new GpuEvent(0, devices.get(0).uuid(), GpuEvent.Kind.XID, 31));
            fake.emit(new GpuEvent(1, null, GpuEvent.Kind.XID, 79));
            fake.emit(new GpuEvent(2, devices.get(2).uuid(), GpuEvent.Kind.DOUBLE_BIT_ECC, 0));
            await().atMost(Duration.ofSeconds(5)).until(() ->
                    health.state(devices.get(2).uuid()).health() == GpuHealth.UNHEALTHY);
            assertThat(health.state(devices.get(0).uuid()).health()).isEqualTo(GpuHealth.HEALTHY);
            assertThat(health.state(devices.get(0).uuid()).lastXid()).isEqualTo(31);
            assertThat(health.state(devices.get(1).uuid()).health()).isEqualTo(GpuHealth.UNHEALTHY);
            assertThat(w.watchedDevices()).containsExactly(0, 1, 2);
        } finally {
            assertThat(w.stop(Duration.ofSeconds(5))).isTrue();
        }
    }

    @Test
    void anEventScopedToAMigInstanceReachesOnlyThatInstance() throws Exception {
        FakeGpuDriver fake = new FakeGpuDriver(1);
        List<GpuDevice> devices = List.of(fake.describe(0));
        String gpu = devices.get(0).uuid();
        GpuHealthRegistry health = new GpuHealthRegistry(Clock.SYSTEM, devices);
        health.updateInstances(gpu, List.of(new MigInstance("MIG-w1", gpu, 0, 1, 0, "1g.10gb", 1, 10L << 30, 0, 1),
                new MigInstance("MIG-w2", gpu, 0, 2, 0, "1g.10gb", 1, 10L << 30, 1, 1)));
        HealthWatcher w = new HealthWatcher(fake, devices, health, Clock.SYSTEM);
        w.start();
        try {
            fake.emit(new GpuEvent(0, gpu, GpuEvent.Kind.XID, 94, 2, 0));
            await().atMost(Duration.ofSeconds(5)).until(() -> !health.isHealthy("MIG-w2"));
            assertThat(health.isHealthy("MIG-w1")).isTrue();
            assertThat(health.state(gpu).health()).isEqualTo(GpuHealth.HEALTHY);
            fake.emit(new GpuEvent(0, gpu, GpuEvent.Kind.XID, 79));
            await().atMost(Duration.ofSeconds(5)).until(() -> health.state(gpu).health() == GpuHealth.UNHEALTHY);
            assertThat(health.isHealthy("MIG-w1")).as("device-wide: every instance").isFalse();
        } finally {
            assertThat(w.stop(Duration.ofSeconds(5))).isTrue();
        }
    }

    @Test
    void afterAFailedWaitTheWatcherBacksOffOnItsClockBeforeItWatchesAgain() throws Exception {
        FakeGpuDriver fake = new FakeGpuDriver(1);
        List<GpuDevice> devices = List.of(fake.describe(0));
        ManualClock clock = new ManualClock();
        GpuHealthRegistry health = new GpuHealthRegistry(clock, devices);
        HealthWatcher w = new HealthWatcher(fake, devices, health, clock);
        w.start();
        try {
            fake.emit(new GpuEvent(0, null, null, 0)); // the fake's "a watched GPU is lost" from the wait
            fake.emit(new GpuEvent(0, devices.get(0).uuid(), GpuEvent.Kind.XID, 31));
            await().atMost(Duration.ofSeconds(5)).until(() -> clock.sleepers() == 1);
            // the first backoff is 250 to 500 ms (jittered) of the clock's time: 249 ms in, the XID is still unread
            clock.advance(Duration.ofMillis(249));
            assertThat(clock.sleepers()).isEqualTo(1);
            assertThat(health.state(devices.get(0).uuid()).lastXid()).isNull();
            clock.advance(Duration.ofMillis(251));
            await().atMost(Duration.ofSeconds(5)).until(() -> Integer.valueOf(31).equals(
                    health.state(devices.get(0).uuid()).lastXid()));
        } finally {
            assertThat(w.stop(Duration.ofSeconds(5))).isTrue();
        }
    }
}
