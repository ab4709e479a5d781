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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The live meter (issue 13): with sessions running and vouchers flowing, every tick reports every
 * metered session with billed seconds exactly one higher than the tick before, whatever the ticks'
 * real timing, while the engine check is slow, and while a session is stopping. Regression: the
 * meter's thread read each session's usage from the engine in turn (Docker answers about a second
 * later each), so with 8 sessions ticks stalled for 16 s and the billed seconds then jumped by 16;
 * and `session.usage` came from a second 1 Hz timer, so values repeated or skipped.
 */
class LiveMeterTest {
    private static final String IMAGE = "docker.io/gpu-agent-test/busybox:1";
    private final ManualClock clock = new ManualClock();
    private final FakeContainerRuntime engine = new FakeContainerRuntime(clock, IMAGE);
    private final Map<String, Long> paid = new ConcurrentHashMap<>();
    /** Each tick's report: session id -> billed seconds. */
    private final List<Map<String, Long>> reports = new CopyOnWriteArrayList<>();
    /** Engine checks handed to the check executor, not run until the test runs them. */
    private final List<Runnable> heldChecks = new CopyOnWriteArrayList<>();
    private Journal journal;
    private SessionCore core;

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
                Map<String, Long> r = new LinkedHashMap<>();
                metered.forEach(v -> r.put(v.sessionId(), v.billedSeconds()));
                reports.add(r);
            }
        };
        core = SessionCore.builder().runtime(engine).journal(journal).policy(new LaunchPolicy(c.sessions()))
                .gpus(new GpuAllocator(List.of("GPU-a", "GPU-b"), u -> true), 2).ports(new PortAllocator(40000, 40009))
                .clock(clock).epoch(1).stopGrace(Duration.ofSeconds(5)).listener(listener)
                .fatal(t -> { throw new AssertionError(t); })
                .payments(r -> paid.containsKey(r) ? OptionalLong.of(paid.get(r)) : OptionalLong.empty(), 2)
                .engineExecutors(heldChecks::add, Runnable::run).build();
    }

    private void launch(String id) throws Exception {
        core.launch(new LaunchRequest(id, "r-" + id, "0xRenter", 1, List.of(), IMAGE, List.of("sleep", "3600"), Map.of(),
                List.of(), null, "100", 3600));
        await().atMost(Duration.ofSeconds(10)).until(() -> core.get(id).orElseThrow().state() == SessionState.RUNNING);
    }

    /** Billed seconds of {@code id} in every report that has it, in order. */
    private List<Long> billed(String id) {
        List<Long> out = new ArrayList<>();
        reports.forEach(r -> {
            if (r.containsKey(id)) {
                out.add(r.get(id));
            }
        });
        return out;
    }

    private static void assertRisesByOne(List<Long> seq) {
        assertThat(seq).hasSizeGreaterThan(10);
        for (int i = 1; i < seq.size(); i++) {
            assertThat(seq.get(i) - seq.get(i - 1)).as("tick %d of %s", i, seq).isEqualTo(1);
        }
    }

    @Test
    void everyTickReportsEverySessionOneSecondFurtherWhateverTheTicksRealTiming() throws Exception {
        start();
        launch("a");
        clock.advance(Duration.ofMillis(370)); // the second session starts within a second, not on it
        launch("b");
        Instant meterStart = clock.wallTime();
        // the ticks' thread runs late by varying amounts, and once is held for 3.5 s, then catches up
        long[] lateMs = {4, 990, 1, 500, 3500, 0, 0, 0, 20, 999, 7, 300, 2, 1, 640, 5, 5, 5, 950, 1};
        for (int k = 1; k <= lateMs.length; k++) {
            Instant scheduled = meterStart.plusSeconds(k);
            Duration wait = Duration.between(clock.wallTime(), scheduled.plusMillis(lateMs[k - 1]));
            if (!wait.isNegative()) {
                clock.advance(wait);
            }
            // vouchers flow: the renters pay every billed second so far
            core.list().forEach(v -> paid.put(v.rentalId(), v.billedSeconds()));
            core.tick(scheduled);
        }
        assertThat(reports).hasSize(lateMs.length);
        assertRisesByOne(billed("a"));
        assertRisesByOne(billed("b"));
        assertThat(core.get("a").orElseThrow().state()).as("paid: never overdue").isEqualTo(SessionState.RUNNING);
        assertThat(heldChecks).as("a slow engine check is never run twice at once: the later ones are skipped")
                .hasSize(1);
    }

    @Test
    void aSlowEngineCheckNeverHoldsTheMeter() throws Exception {
        start();
        launch("a");
        Instant meterStart = clock.wallTime();
        for (int k = 1; k <= 12; k++) {
            clock.advance(Duration.ofSeconds(1));
            core.tick(meterStart.plusSeconds(k));
        }
        assertThat(heldChecks).as("the check was handed over and has not run").hasSize(1);
        assertRisesByOne(billed("a"));
        heldChecks.remove(0).run(); // the check runs at last (its reads run inline here)
        for (int k = 13; k <= 15; k++) {
            clock.advance(Duration.ofSeconds(1));
            core.tick(meterStart.plusSeconds(k));
        }
        assertThat(heldChecks).as("the next check is accepted once the last one finished").hasSize(1);
    }

    @Test
    void aStoppingSessionKeepsReporting() throws Exception {
        start();
        launch("a");
        CountDownLatch releaseStop = new CountDownLatch(1);
        engine.holdStops(releaseStop);
        Instant meterStart = clock.wallTime();
        try {
            for (int k = 1; k <= 14; k++) {
                clock.advance(Duration.ofSeconds(1));
                if (k == 3) {
                    assertThat(core.stop("a", "renter_ended").state()).isEqualTo(SessionState.STOPPING);
                }
                core.tick(meterStart.plusSeconds(k));
            }
            assertThat(core.get("a").orElseThrow().state()).isEqualTo(SessionState.STOPPING);
            assertRisesByOne(billed("a"));
        } finally {
            releaseStop.countDown();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> core.get("a").orElseThrow().state() == SessionState.ENDED);
        assertThat(core.get("a").orElseThrow().billedSeconds()).as("settled from the engine's times").isEqualTo(14);
    }
}
