package io.gpuagent.daemon;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.daemon.systemd.SystemdNotifier;
import io.gpuagent.gpu.FakeGpuDriver;
import io.gpuagent.gpu.GpuHealth;
import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The watchdog's progress signal on a manual clock, every tick driven by the test. Regression: it
 * failed in a full build while two other builds kept both cores busy. The sampler's own thread
 * ticked at real times between the test's steps (a tick after the clock moved counts as fresh
 * progress), and {@code stop()} could run before the worker of the unhung GPU had returned from its
 * call (a call still hung makes the stop unclean on purpose). Now no sampler thread runs, and the
 * test waits for the GPU's call to return before it stops the daemon.
 */
class DaemonTest {
    /**
     * GPU 0's sample must come back within the call timeout, in real time (the guard's timer is
     * real: a hung NVML call is a real-time event), while GPU 1 hangs: 2 s, not 100 ms, so that a
     * busy machine's scheduling delays never make the healthy GPU look hung.
     */
    private static final long CALL_TIMEOUT_MS = 2000;

    @Test
    void progressFollowsTheSamplerAndAHungGpuDoesNotStopIt() throws Exception {
        AgentConfig config = ConfigLoader.load(null, Map.of(), List.of("gpu.health_events=false", "gpu.call_timeout_ms=" + CALL_TIMEOUT_MS, "metrics.enabled=false",
                "sessions.enabled=false"));
        ManualClock clock = new ManualClock();
        FakeGpuDriver fake = new FakeGpuDriver(2);
        Daemon d = new Daemon(config, clock, new SystemdNotifier(null), Map.of(), lib -> fake,
                Daemon.Sampling.BY_THE_CALLER);
        d.start();
        try {
            assertThat(d.gpus().inventory().gpus()).hasSize(2);
            d.gpus().sampler().tick();
            assertThat(d.progressing()).isTrue();
            // the sampler thread stops ticking (wedged): after 2 intervals + 1 call timeout, no progress
            clock.advance(Duration.ofMillis(2 * 1000 + CALL_TIMEOUT_MS + 1));
            assertThat(d.progressing()).isFalse();
            // a tick with one GPU hung still completes and counts as progress
            fake.hang(1);
            d.gpus().sampler().tick();
            assertThat(d.progressing()).isTrue();
            assertThat(d.gpus().health().all().get(1).health()).isEqualTo(GpuHealth.UNKNOWN);
            assertThat(d.statusLine()).contains("serving 2 GPUs, 1 healthy").contains("GPU 1 UNKNOWN");
        } finally {
            fake.unhang(1);
            // the hung call returns on GPU 1's own worker thread: a real thread, so wait for it
            await().atMost(Duration.ofSeconds(10)).until(() -> !d.gpus().callHung());
            assertThat(d.stop()).isTrue();
        }
    }
}
