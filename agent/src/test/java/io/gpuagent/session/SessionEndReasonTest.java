package io.gpuagent.session;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerSpec;
import io.gpuagent.container.FakeContainerRuntime;
import io.gpuagent.journal.Journal;
import io.gpuagent.journal.JournalRecord;
import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Every way a session ends carries its stable {@link EndReason} (the protocol's {@code end_reason}
 * and the failure metric's {@code cause}) beside the human detail, including the three ends found
 * at a restart; and a STARTING session whose container ran and exited while the agent was down is
 * ENDED with the engine's times, no longer silently FAILED (issue 14's finding on {@code finish()}).
 */
class SessionEndReasonTest {
    private static final String IMAGE = "docker.io/gpu-agent-test/busybox:1";

    @TempDir
    Path dir;
    private final ManualClock clock = new ManualClock();
    private final FakeContainerRuntime engine = new FakeContainerRuntime(clock, IMAGE);
    private final AtomicReference<Throwable> fatal = new AtomicReference<>();
    private final Map<String, Long> paid = new ConcurrentHashMap<>();
    private AgentConfig config;
    private Journal journal;
    private SessionCore core;

    @BeforeEach
    void open() throws Exception {
        config = ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=none"));
        core = start(new ArrayList<>());
    }

    private SessionCore start(List<JournalRecord> replayed) throws Exception {
        journal = Journal.open(dir.resolve("journal"), clock, replayed::add);
        SessionCore c = SessionCore.builder().runtime(engine).journal(journal).policy(new LaunchPolicy(config.sessions()))
                .gpus(new GpuAllocator(List.of("GPU-a", "GPU-b", "GPU-c"), u -> true), 3)
                .ports(new PortAllocator(40000, 40009)).clock(clock).epoch(1).stopGrace(Duration.ofSeconds(5))
                .fatal(fatal::set)
                .payments(r -> paid.containsKey(r) ? OptionalLong.of(paid.get(r)) : OptionalLong.empty(), 10).engineExecutors(Runnable::run, Runnable::run).build();
        c.recover(replayed);
        return c;
    }

    @AfterEach
    void close() {
        core.close();
        journal.close();
        assertThat(fatal.get()).isNull();
    }

    private static LaunchRequest request(String id, long maxSeconds) {
        return new LaunchRequest(id, "r-" + id, "0xRenter", 1, List.of(), IMAGE, FakeContainerRuntime.runUntilTerm(0),
                Map.of(), List.of(), null, "100", maxSeconds);
    }

    private SessionView launched(String id, long maxSeconds) throws Exception {
        core.launch(request(id, maxSeconds));
        await().atMost(Duration.ofSeconds(10)).until(() -> core.get(id).orElseThrow().state() == SessionState.RUNNING);
        return core.get(id).orElseThrow();
    }

    private SessionView ended(String id) {
        await().atMost(Duration.ofSeconds(10)).until(() -> core.get(id).orElseThrow().state().terminal());
        return core.get(id).orElseThrow();
    }

    private void engineChecks() {
        for (int i = 0; i < SessionMeter.ENGINE_CHECK_EVERY; i++) {
            core.tick();
        }
    }

    @Test
    void theAgentsOwnStopsCarryTheirCodes() throws Exception {
        launched("stop", 3600);
        launched("expire", 5);
        launched("unpaid", 3600);
        core.stop("stop", "renter_ended");
        paid.put("r-unpaid", 0L);
        clock.advance(Duration.ofSeconds(12));
        core.tick();
        assertThat(ended("stop")).extracting(SessionView::endReason, SessionView::reason)
                .containsExactly(EndReason.STOPPED, "renter_ended");
        assertThat(ended("expire")).extracting(SessionView::endReason, SessionView::reason)
                .containsExactly(EndReason.MAX_DURATION, "max_duration");
        assertThat(ended("unpaid")).extracting(SessionView::endReason, SessionView::reason)
                .containsExactly(EndReason.PAYMENT_OVERDUE, "payment_overdue");
        assertThat(core.failureCounts()).as("stops are not failures").isEmpty();
    }

    @Test
    void aStoppingSessionAlreadyCarriesItsCode() throws Exception {
        launched("s", 3600);
        SessionView stopping = core.stop("s", "renter_ended");
        assertThat(stopping.state()).isIn(SessionState.STOPPING, SessionState.ENDED);
        assertThat(stopping.endReason()).isEqualTo(EndReason.STOPPED);
    }

    @Test
    void aGpuFailureExitsOomAndVanishingContainersCarryTheirCodes() throws Exception {
        String gpuOfFailing = launched("gpu", 3600).gpus().get(0);
        launched("exit", 3600);
        launched("oom", 3600);
        core.onGpuFailed(gpuOfFailing, "LOST: GPU has fallen off the bus");
        engine.exitAt(LaunchPolicy.containerName("exit"), clock.wallTime().plusSeconds(1), 3, false);
        engine.exitAt(LaunchPolicy.containerName("oom"), clock.wallTime().plusSeconds(1), 137, true);
        clock.advance(Duration.ofSeconds(2));
        engineChecks();
        assertThat(ended("gpu").endReason()).isEqualTo(EndReason.GPU_FAILED);
        assertThat(ended("exit")).extracting(SessionView::endReason, SessionView::reason)
                .containsExactly(EndReason.EXITED, "the container exited with code 3");
        assertThat(ended("oom").endReason()).isEqualTo(EndReason.OOM_KILLED);

        launched("gone", 3600);
        engine.remove(LaunchPolicy.containerName("gone"));
        engineChecks();
        SessionView gone = ended("gone");
        assertThat(gone.state()).isEqualTo(SessionState.FAILED);
        assertThat(gone.endReason()).isEqualTo(EndReason.CONTAINER_DISAPPEARED);
        assertThat(core.failureCounts()).containsExactly(Map.entry("container_disappeared", 1L));
    }

    @Test
    void aFailedLaunchCarriesLaunchFailed() throws Exception {
        engine.failNextStart(new ContainerException("OCI runtime create failed"));
        core.launch(request("bad", 3600));
        SessionView v = ended("bad");
        assertThat(v.state()).isEqualTo(SessionState.FAILED);
        assertThat(v.endReason()).isEqualTo(EndReason.LAUNCH_FAILED);
        assertThat(core.failureCounts()).containsExactly(Map.entry("launch_failed", 1L));
    }

    /** Journals a launch up to {@code to} as an agent that then died would have left it. */
    private LaunchRequest journaledUpTo(String id, SessionState to) throws Exception {
        LaunchRequest r = request(id, 3600);
        SessionJournal sj = new SessionJournal(journal, fatal::set);
        String at = clock.wallTime().toString();
        sj.durably(new SessionRecord.Intent(r, List.of("GPU-a"), List.of(), 1, at));
        if (to == SessionState.STARTING) {
            sj.durably(new SessionRecord.StateChange(id, SessionState.REQUESTED, SessionState.STARTING, null, null, null, at));
        }
        return r;
    }

    private void restart() throws Exception {
        core.close();
        journal.close();
        core = start(new ArrayList<>());
    }

    @Test
    void aStartingSessionWhoseContainerRanAndExitedWhileTheAgentWasDownIsEndedWithTheEnginesTimes() throws Exception {
        LaunchRequest r = journaledUpTo("ran", SessionState.STARTING);
        ContainerSpec spec = new LaunchPolicy(config.sessions()).containerSpec(r, List.of("GPU-a"), List.of(), 1, 2);
        engine.create(spec);
        engine.start(spec.name());
        engine.exitAt(spec.name(), clock.wallTime().plusSeconds(7), 0, false);
        clock.advance(Duration.ofSeconds(20));
        engine.inspect(spec.name()); // the fake applies the planned exit
        restart();

        SessionCore.ReconcileReport report = core.reconcile();
        assertThat(report.settled()).containsExactly("ran");
        SessionView v = core.get("ran").orElseThrow();
        assertThat(v.state()).as("it ran: ENDED, not FAILED").isEqualTo(SessionState.ENDED);
        assertThat(v.endReason()).isEqualTo(EndReason.EXITED);
        assertThat(v.billedSeconds()).as("from the engine's start and finish").isEqualTo(7);
        assertThat(core.failureCounts()).isEmpty();
    }

    @Test
    void theEndsFoundAtARestartCarryTheirCodes() throws Exception {
        journaledUpTo("early", SessionState.REQUESTED);
        LaunchRequest created = journaledUpTo("created", SessionState.STARTING);
        engine.create(new LaunchPolicy(config.sessions()).containerSpec(created, List.of("GPU-a"), List.of(), 1, 4));
        journaledUpTo("vanished", SessionState.STARTING);
        restart();

        SessionCore.ReconcileReport report = core.reconcile();
        assertThat(report.failed()).containsExactlyInAnyOrder("early", "created", "vanished");
        assertThat(core.get("early").orElseThrow().endReason()).isEqualTo(EndReason.AGENT_RESTARTED_DURING_LAUNCH);
        assertThat(core.get("created").orElseThrow().endReason()).isEqualTo(EndReason.NEVER_STARTED);
        assertThat(core.get("vanished").orElseThrow().endReason()).isEqualTo(EndReason.CONTAINER_DISAPPEARED);
        assertThat(core.failureCounts()).containsExactly(Map.entry("agent_restarted_during_launch", 1L),
                Map.entry("container_disappeared", 1L), Map.entry("never_started", 1L));
    }

    @Test
    void endReasonsSurviveARestart() throws Exception {
        launched("kept", 3600);
        core.stop("kept", "renter_ended");
        ended("kept");
        restart();
        assertThat(core.get("kept").orElseThrow().endReason()).isEqualTo(EndReason.STOPPED);
        core.compact();
        restart();
        assertThat(core.get("kept").orElseThrow().endReason()).as("through a snapshot too").isEqualTo(EndReason.STOPPED);
    }

    @Test
    void codesAreLowerCaseNamesAndOldTextsMapToThem() {
        assertThat(EndReason.PAYMENT_OVERDUE.code()).isEqualTo("payment_overdue");
        assertThat(EndReason.fromLegacyText("gpu_failed: LOST: x")).isEqualTo(EndReason.GPU_FAILED);
        assertThat(EndReason.fromLegacyText("the container exited with code 1")).isEqualTo(EndReason.EXITED);
        assertThat(EndReason.fromLegacyText("ended while the agent was down: killed for exceeding its memory limit (OOM)"))
                .isEqualTo(EndReason.OOM_KILLED);
        assertThat(EndReason.fromLegacyText("the agent restarted before the container was created"))
                .isEqualTo(EndReason.AGENT_RESTARTED_DURING_LAUNCH);
        assertThat(EndReason.fromLegacyText("the container was created but never started"))
                .isEqualTo(EndReason.NEVER_STARTED);
        assertThat(EndReason.fromLegacyText("session s: STARTING -> RUNNING could not be journaled: disk full"))
                .isEqualTo(EndReason.JOURNAL_FAILED);
        assertThat(EndReason.fromLegacyText("renter_ended")).as("a scheduler's own words").isEqualTo(EndReason.STOPPED);
    }
}
