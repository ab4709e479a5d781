package io.gpuagent.session;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.container.FakeContainerRuntime;
import io.gpuagent.journal.FakeJournalFiles;
import io.gpuagent.journal.JournalOptions;
import io.gpuagent.journal.JournalRecord;
import io.gpuagent.journal.Journal;
import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Disk full under the journal, fsync failure, wall-clock jumps and image pulls, over fakes with knobs. */
class SessionFaultsTest {
    private static final String IMAGE = "docker.io/gpu-agent-test/busybox:1";

    private final ManualClock clock = new ManualClock();
    private final FakeContainerRuntime engine = new FakeContainerRuntime(clock, IMAGE);
    private final FakeJournalFiles files = new FakeJournalFiles();
    private final AtomicReference<Throwable> fatal = new AtomicReference<>();
    private Journal journal;
    private SessionCore manager;

    private void start() throws Exception {
        journal = Journal.open(files, JournalOptions.DEFAULTS, clock, r -> { });
        AgentConfig c = ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=none"));
        manager = SessionCore.builder().runtime(engine).journal(journal).policy(new LaunchPolicy(c.sessions()))
                .gpus(new GpuAllocator(List.of("GPU-a", "GPU-b"), u -> true), 2).ports(new PortAllocator(40000, 40009))
                .clock(clock).epoch(1).stopGrace(Duration.ofSeconds(5)).fatal(fatal::set).engineExecutors(Runnable::run, Runnable::run).build();
    }

    @AfterEach
    void close() {
        manager.close();
        journal.close();
    }

    private static LaunchRequest request(String id, String image) {
        return new LaunchRequest(id, "r-" + id, "0xRenter", 1, List.of(), image, FakeContainerRuntime.runUntilTerm(0),
                Map.of(), List.of(), null, "100", 3600);
    }

    private void awaitState(String id, SessionState s) {
        await().atMost(Duration.ofSeconds(10)).until(() -> manager.get(id).orElseThrow().state() == s);
    }

    @Test
    void diskFullRefusesNewSessionsKeepsMeteringAndLosesNothing() throws Exception {
        start();
        manager.launch(request("s1", IMAGE));
        awaitState("s1", SessionState.RUNNING);
        files.spaceLeft(0);
        clock.advance(Duration.ofSeconds(3));
        manager.tick();
        assertThat(journal.isDegraded()).isTrue();
        assertThat(manager.get("s1").orElseThrow().billedSeconds()).as("metered in memory").isEqualTo(3);
        assertThatThrownBy(() -> manager.launch(request("s2", IMAGE))).isInstanceOfSatisfying(SessionException.class,
                e -> {
                    assertThat(e.code()).isEqualTo("journal_degraded");
                    assertThat(e.getMessage()).contains("journal");
                });
        clock.advance(Duration.ofSeconds(2));
        manager.tick();
        assertThat(manager.get("s1").orElseThrow().billedSeconds()).isEqualTo(5);
        files.unlimitedSpace();
        manager.tick();
        assertThat(journal.isDegraded()).isFalse();
        assertThat(fatal.get()).as("disk full is not fatal").isNull();

        // what reached the disk replays to the same billed seconds, in order, nothing twice
        List<JournalRecord> replayed = new ArrayList<>();
        Journal.open(files.crash(), JournalOptions.DEFAULTS, clock, replayed::add).close();
        List<Long> billed = new ArrayList<>();
        for (JournalRecord r : replayed) {
            if (r.type() == SessionRecord.USAGE) {
                billed.add(((SessionRecord.Usage) SessionRecord.decode(r.type(), r.payload()).orElseThrow()).billedSeconds());
            }
        }
        // one cumulative record per tick: the two written while the disk was full, then the one after
        assertThat(billed).as("every tick's record, in order, none lost, none written twice").containsExactly(3L, 5L, 5L);
        manager.launch(request("s2", IMAGE));
        awaitState("s2", SessionState.RUNNING);
    }

    @Test
    void anFsyncFailureIsFatal() throws Exception {
        start();
        manager.launch(request("s1", IMAGE));
        awaitState("s1", SessionState.RUNNING);
        files.failForces(new IOException("Input/output error"));
        clock.advance(Duration.ofSeconds(1));
        manager.tick();
        assertThat(fatal.get()).as("the daemon exits with code 6 on this").isNotNull();
    }

    @Test
    void wallClockJumpsNeverMakeBilledSecondsGoBackwards() throws Exception {
        start();
        manager.launch(request("s1", IMAGE));
        awaitState("s1", SessionState.RUNNING);
        clock.advance(Duration.ofSeconds(10));
        manager.tick();
        assertThat(manager.get("s1").orElseThrow().billedSeconds()).isEqualTo(10);
        clock.jumpWall(Duration.ofSeconds(-60)); // NTP steps back a minute
        manager.tick();
        assertThat(manager.get("s1").orElseThrow().billedSeconds()).as("never down").isEqualTo(10);
        clock.jumpWall(Duration.ofSeconds(60));
        clock.advance(Duration.ofSeconds(1));
        manager.tick();
        assertThat(manager.get("s1").orElseThrow().billedSeconds()).isEqualTo(11);
    }

    @Test
    void configuredImagesArePrePulledAndRefusedOnesSkipped() throws Exception {
        start();
        engine.registryHas("docker.io/pytorch/pytorch:2.4", 1L << 30);
        manager.prepull(List.of("docker.io/pytorch/pytorch:2.4", "Not An Image", IMAGE));
        await().atMost(Duration.ofSeconds(10)).until(() -> engine.imagePresent("docker.io/pytorch/pytorch:2.4"));
        assertThat(engine.calls("pull")).as("present images are not pulled again").isEqualTo(1);
    }

    @Test
    void aMissingImageIsPulledWithProgressFirst() throws Exception {
        start();
        String image = "docker.io/pytorch/pytorch:2.4";
        engine.registryHas(image, 3L << 30);
        manager.launch(request("s1", image));
        awaitState("s1", SessionState.RUNNING);
        assertThat(engine.calls("pull")).isEqualTo(1);
        assertThat(manager.get("s1").orElseThrow().pullProgress()).isNotNull();
        manager.launch(request("s2", "docker.io/nowhere/none:1"));
        awaitState("s2", SessionState.FAILED);
        assertThat(manager.get("s2").orElseThrow().reason()).contains("launch failed");
    }
}
