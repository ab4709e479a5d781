package io.gpuagent.session;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.container.FakeContainerRuntime;
import io.gpuagent.journal.FakeJournalFiles;
import io.gpuagent.journal.Journal;
import io.gpuagent.journal.JournalOptions;
import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The launch pool's stated queue policy: at most threads + queue launches in flight; one more is
 * refused with {@code launch_busy} before anything is allocated or journaled, a retried launch of
 * an admitted session is still answered, and the permit comes back when a launch finishes.
 */
class LaunchQueueTest {
    private static final String IMAGE = "docker.io/gpu-agent-test/busybox:1";
    private final ManualClock clock = new ManualClock();
    private final FakeContainerRuntime engine = new FakeContainerRuntime(clock, IMAGE);
    private final CountDownLatch creates = new CountDownLatch(1);
    private Journal journal;
    private SessionCore core;

    @AfterEach
    void close() {
        creates.countDown();
        core.close();
        journal.close();
    }

    private static LaunchRequest request(String id) {
        return new LaunchRequest(id, "r-" + id, "0xRenter", 1, List.of(), IMAGE, FakeContainerRuntime.runUntilTerm(0),
                Map.of(), List.of(), null, "100", 3600);
    }

    @Test
    void aLaunchBeyondThePoolIsRefusedAndChangesNothing() throws Exception {
        journal = Journal.open(new FakeJournalFiles(), JournalOptions.DEFAULTS, clock, r -> { });
        AgentConfig c = ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=none"));
        GpuAllocator gpus = new GpuAllocator(List.of("GPU-a", "GPU-b", "GPU-c"), u -> true);
        core = SessionCore.builder().runtime(engine).journal(journal).policy(new LaunchPolicy(c.sessions()))
                .gpus(gpus, 3).ports(new PortAllocator(40000, 40009)).clock(clock).stopGrace(Duration.ofSeconds(1))
                .fatal(t -> { throw new AssertionError(t); }).launchPool(1, 1).build();
        engine.slowCreate(Duration.ofMillis(1));
        engine.pauseWith(d -> creates.await()); // the first launch holds the one thread inside create
        core.launch(request("s1"));
        core.launch(request("s2")); // waits in the queue of one
        await().atMost(Duration.ofSeconds(10)).until(() -> core.get("s1").orElseThrow().state() == SessionState.STARTING);
        long journaled = journal.stats().records(); // s1 journals nothing more while its create is held

        assertThatThrownBy(() -> core.launch(request("s3"))).isInstanceOfSatisfying(SessionException.class,
                e -> assertThat(e.code()).isEqualTo("launch_busy"));
        assertThat(core.get("s3")).as("not in the table").isEmpty();
        assertThat(gpus.free()).as("no GPU taken").extracting(GpuUnit::uuid).containsExactly("GPU-c");
        assertThat(journal.stats().records()).as("nothing journaled").isEqualTo(journaled);
        assertThat(core.launch(request("s1")).sessionId()).as("a retry is answered").isEqualTo("s1");
        assertThat(core.launchCounts()).containsEntry("launch_busy", 1L);

        creates.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> core.get("s2").orElseThrow().state() == SessionState.RUNNING);
        assertThat(core.launch(request("s3")).state()).as("the permits came back").isNotNull();
    }
}
