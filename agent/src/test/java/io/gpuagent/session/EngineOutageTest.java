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
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The container engine goes away while sessions run (issue 10, item 9, found by an independent
 * scheduler): launches were accepted and failed later, {@code /readyz} stayed 200, the live
 * {@code billed_seconds} rose to 33 while the final figure (Docker's times) was 19, and a stop the
 * engine did not answer settled the session from the agent's clock while its container could run
 * on. Now: launches are refused {@code engine_unavailable}, the live figure waits at the engine's
 * last confirmation plus {@link EngineWatch#HOLD_SECONDS}, and such a stop keeps the session
 * stopping (reported every tick) until the engine answers and the stop is done.
 */
class EngineOutageTest {
    private static final String IMAGE = "docker.io/gpu-agent-test/busybox:1";
    private final ManualClock clock = new ManualClock();
    private final FakeContainerRuntime engine = new FakeContainerRuntime(clock, IMAGE);
    /** Each tick's report: session id -> billed seconds, state. */
    private final List<Map<String, SessionView>> reports = new CopyOnWriteArrayList<>();
    private Journal journal;
    private SessionCore core;
    private Instant meterStart;
    private int ticks;

    @AfterEach
    void close() {
        core.close();
        journal.close();
    }

    private void start() throws Exception {
        journal = Journal.open(new FakeJournalFiles(), JournalOptions.DEFAULTS, clock, r -> { });
        AgentConfig c = ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=none"));
        SessionListener listener = new SessionListener() {
            @Override
            public void onChange(SessionView s) {
            }

            @Override
            public void onUsage(List<SessionView> metered) {
                Map<String, SessionView> r = new LinkedHashMap<>();
                metered.forEach(v -> r.put(v.sessionId(), v));
                reports.add(r);
            }
        };
        core = SessionCore.builder().runtime(engine).journal(journal).policy(new LaunchPolicy(c.sessions()))
                .gpus(new GpuAllocator(List.of("GPU-a", "GPU-b"), u -> true), 2).ports(new PortAllocator(40000, 40009))
                .clock(clock).epoch(1).stopGrace(Duration.ofSeconds(5)).listener(listener)
                .fatal(t -> { throw new AssertionError(t); })
                .payments(r -> OptionalLong.empty(), 2)
                .engineExecutors(Runnable::run, Runnable::run).build(); // engine checks run inline, at their tick
        core.reconcile(); // as the daemon does before READY: the engine's first answer
        meterStart = clock.wallTime();
    }

    private static LaunchRequest request(String id) {
        return new LaunchRequest(id, "r-" + id, "0xRenter", 1, List.of(), IMAGE, List.of("sleep", "3600"), Map.of(),
                List.of(), null, "100", 3600);
    }

    private void launch(String id) throws Exception {
        core.launch(request(id));
        await().atMost(Duration.ofSeconds(10)).until(() -> core.get(id).orElseThrow().state() == SessionState.RUNNING);
    }

    /** Ticks on to tick {@code k} (the meter's k-th second), a second of clock each. */
    private void tickTo(int k) {
        while (ticks < k) {
            ticks++;
            clock.advance(Duration.ofSeconds(1));
            core.tick(meterStart.plusSeconds(ticks));
        }
    }

    private List<Long> billed(String id) {
        List<Long> out = new ArrayList<>();
        reports.forEach(r -> {
            if (r.containsKey(id)) {
                out.add(r.get(id).billedSeconds());
            }
        });
        return out;
    }

    @Test
    void whileTheEngineIsSilentTheLiveFigureWaitsAndNeverRunsAheadOfTheFinalOne() throws Exception {
        start();
        launch("a");
        String container = core.get("a").orElseThrow().containerId();
        tickTo(7); // the check at tick 5 confirmed the container running
        engine.exitAt(container, clock.wallTime().plusMillis(500), 0, false); // it ends during tick 8...
        engine.engineDown(); // ...and the engine stops answering
        tickTo(40);
        assertThat(core.get("a").orElseThrow().state()).as("nothing known yet").isEqualTo(SessionState.RUNNING);
        List<Long> during = billed("a");
        assertThat(during).as("reported every tick, also while the engine is silent").hasSize(40);
        long held = during.get(during.size() - 1);
        assertThat(held).as("held at the last confirmation (tick 5) plus the hold")
                .isLessThanOrEqualTo(5 + EngineWatch.HOLD_SECONDS + 1);
        assertThat(during.subList(20, 40)).as("no longer rising while the engine is silent").containsOnly(held);
        assertThat(core.engineProblem()).hasValueSatisfying(p -> assertThat(p).contains("container engine"));

        engine.engineUp();
        tickTo(45); // the check at tick 45 sees the container ended and settles it from the engine's times
        await().atMost(Duration.ofSeconds(10)).until(() -> core.get("a").orElseThrow().state().terminal());
        long finalBilled = core.get("a").orElseThrow().billedSeconds();
        assertThat(finalBilled).as("Docker's times: it ran about 8 s").isBetween(7L, 9L);
        assertThat(billed("a")).as("live never more than the hold ahead of the final figure (it rose to 33 "
                + "against 19 before)").allSatisfy(b -> assertThat(b).isLessThanOrEqualTo(finalBilled
                        + EngineWatch.HOLD_SECONDS));
        assertThat(core.engineProblem()).as("renting is available again").isEmpty();
    }

    @Test
    void aRunningEngineNeverHoldsTheLiveFigure() throws Exception {
        start();
        launch("a");
        tickTo(60);
        List<Long> seq = billed("a");
        for (int i = 1; i < seq.size(); i++) {
            assertThat(seq.get(i) - seq.get(i - 1)).as("tick %d of %s", i, seq).isEqualTo(1);
        }
    }

    @Test
    void launchesAreRefusedEngineUnavailableWhileItIsSilentAndTakenAgainOnceItAnswers() throws Exception {
        start();
        launch("a");
        tickTo(4);
        engine.engineDown();
        tickTo(5); // the check at tick 5 fails: seen with no launch having to fail first
        assertThat(core.engineProblem()).isPresent();
        int created = engine.calls("create");
        assertThatThrownBy(() -> core.launch(request("b"))).isInstanceOfSatisfying(SessionException.class, e -> {
            assertThat(e.code()).isEqualTo("engine_unavailable");
            assertThat(e.getMessage()).contains("container engine does not answer").contains("until it is back");
        });
        assertThat(core.get("b")).as("nothing journaled or allocated for the refused launch").isEmpty();
        assertThat(engine.calls("create")).isEqualTo(created);
        assertThat(core.launch(request("a")).sessionId()).as("a retried launch of a session is still answered")
                .isEqualTo("a");

        engine.engineUp();
        tickTo(10);
        assertThat(core.engineProblem()).isEmpty();
        launch("b");
    }

    @Test
    void aStopTheEngineDoesNotAnswerKeepsTheSessionStoppingAndReportedUntilItIsDone() throws Exception {
        start();
        launch("a");
        tickTo(6);
        engine.engineDown();
        tickTo(7);
        assertThat(core.stop("a", "renter_ended").state()).isEqualTo(SessionState.STOPPING);
        tickTo(30);
        await().pollDelay(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5))
                .until(() -> engine.calls("stop") >= 1);
        assertThat(core.get("a").orElseThrow().state()).as("not settled from the agent's clock: the container may run "
                + "on").isEqualTo(SessionState.STOPPING);
        Map<String, SessionView> last = reports.get(reports.size() - 1);
        assertThat(last.get("a").state()).as("a stopping session is reported every tick").isEqualTo(SessionState.STOPPING);
        assertThat(billed("a")).hasSize(30);

        engine.engineUp();
        tickTo(35); // the check at tick 35 answers: the stop is queued again and done
        await().atMost(Duration.ofSeconds(10)).until(() -> core.get("a").orElseThrow().state() == SessionState.ENDED);
        SessionView ended = core.get("a").orElseThrow();
        assertThat(ended.billedSeconds()).as("billed from the engine's times: the container ran until the stop was "
                + "done").isBetween(34L, 36L);
        assertThat(billed("a")).allSatisfy(b -> assertThat(b).isLessThanOrEqualTo(ended.billedSeconds()));
    }
}
