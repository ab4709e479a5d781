package io.gpuagent.gpu;

import io.gpuagent.util.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TelemetrySamplerTest {
    private final FakeGpuDriver fake = new FakeGpuDriver(4);
    private final GpuCallStats stats = new GpuCallStats();
    private final List<DeviceCallGuard> guards = new ArrayList<>();
    private GpuHealthRegistry health;
    private TelemetrySampler sampler;

    private void build(Duration callTimeout) throws GpuException {
        List<GpuDevice> devices = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            devices.add(fake.describe(i));
            guards.add(new DeviceCallGuard(i, Clock.SYSTEM, stats));
        }
        health = new GpuHealthRegistry(Clock.SYSTEM, devices);
        sampler = new TelemetrySampler(fake, devices, guards, health, Clock.SYSTEM, Duration.ofSeconds(1),
                callTimeout);
        sampler.tick(); // warm-up: first calls load classes and start threads
    }

    @AfterEach
    void tearDown() {
        fake.close();
        guards.forEach(DeviceCallGuard::close);
        if (sampler != null) {
            sampler.close();
        }
    }

    @Test
    void aTickSamplesEveryGpu() throws Exception {
        build(Duration.ofSeconds(5));
        TelemetrySampler.Snapshot s = sampler.tick();
        assertThat(s.tick()).isEqualTo(2);
        assertThat(s.samples()).hasSize(4);
        assertThat(sampler.snapshot()).as("snapshots are built on demand: same tick, same samples").isEqualTo(s);
    }

    @Test
    void aHungGpuBecomesUnknownWhileTheOthersKeepReportingAndTicksComplete() throws Exception {
        // the three healthy GPUs answer within the call timeout in real time: 2 s leaves a busy machine room
        // (the tick waits that long once, for the hung GPU)
        build(Duration.ofSeconds(2));
        fake.hang(2);
        long before = sampler.lastTickNanos();
        TelemetrySampler.Snapshot s = sampler.tick();
        String hungUuid = "GPU-fake0000-0000-0000-0000-000000000002";
        GpuSample old = s.samples().get(hungUuid);
        assertThat(old.monotonicNanos()).as("the hung GPU keeps only its old sample").isLessThan(before);
        assertThat(s.samples().values()).filteredOn(x -> !x.uuid().equals(hungUuid)).hasSize(3)
                .allMatch(x -> x.monotonicNanos() > before, "fresh");
        assertThat(health.state(hungUuid).health()).isEqualTo(GpuHealth.UNKNOWN);
        assertThat(sampler.lastTickNanos()).as("the tick completed: progress for the watchdog").isGreaterThan(before);
        // the next tick does not even wait for the hung GPU
        TelemetrySampler.Snapshot s2 = sampler.tick();
        assertThat(s2.samples().get(hungUuid)).isSameAs(old);
        assertThat(stats.skippedWhileHung()).isEqualTo(1);
        fake.unhang(2);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> !guards.get(2).isHung());
        assertThat(sampler.tick().samples().get(hungUuid).monotonicNanos()).isGreaterThan(old.monotonicNanos());
        assertThat(health.state(hungUuid).health()).isEqualTo(GpuHealth.HEALTHY);
    }

    @Test
    void aLostGpuIsMarkedLostAndNotAskedAgain() throws Exception {
        build(Duration.ofSeconds(5));
        fake.lose(1);
        sampler.tick();
        String lostUuid = "GPU-fake0000-0000-0000-0000-000000000001";
        assertThat(health.state(lostUuid).health()).isEqualTo(GpuHealth.LOST);
        long calls = stats.count();
        TelemetrySampler.Snapshot s = sampler.tick();
        assertThat(s.samples()).hasSize(3).doesNotContainKey(lostUuid);
        assertThat(stats.count() - calls).as("only the 3 live GPUs were called").isEqualTo(3);
    }
}
