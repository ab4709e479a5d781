package io.gpuagent.session;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerState;
import io.gpuagent.container.FakeContainerRuntime;
import io.gpuagent.journal.JournalRecord;
import io.gpuagent.journal.Journal;
import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The session layer over the fake engine (held to Docker's contract) and a real journal on disk. */
class SessionCoreTest {
    private static final String IMAGE = "docker.io/gpu-agent-test/busybox:1";

    @TempDir
    Path dir;
    private final ManualClock clock = new ManualClock();
    private final FakeContainerRuntime engine = new FakeContainerRuntime(clock, IMAGE);
    private final AtomicReference<Throwable> fatal = new AtomicReference<>();
    private final List<String> events = Collections.synchronizedList(new ArrayList<>());
    /** Seconds paid per rental, for the credit-limit test; no entry: payments not tracked. */
    private final Map<String, Long> paid = new java.util.concurrent.ConcurrentHashMap<>();
    private GpuUsageSource gpuUsage = GpuUsageSource.NONE;
    private Journal journal;
    private SessionCore manager;

    @BeforeEach
    void open() throws Exception {
        manager = start(new ArrayList<>());
    }

    private SessionCore start(List<JournalRecord> replayed) throws Exception {
        journal = Journal.open(dir.resolve("journal"), clock, replayed::add);
        AgentConfig c = ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=none"));
        SessionCore m = SessionCore.builder().runtime(engine).journal(journal).policy(new LaunchPolicy(c.sessions()))
                .gpus(new GpuAllocator(List.of("GPU-a", "GPU-b"), u -> true), 2).ports(new PortAllocator(40000, 40009))
                .clock(clock).epoch(1).stopGrace(Duration.ofSeconds(5))
                .listener(s -> events.add(s.sessionId() + ":" + s.state())).fatal(fatal::set)
                .payments(rental -> paid.containsKey(rental) ? java.util.OptionalLong.of(paid.get(rental))
                        : java.util.OptionalLong.empty(), 30)
                .gpuUsage(gpuUsage).engineExecutors(Runnable::run, Runnable::run).build();
        m.recover(replayed);
        return m;
    }

    @AfterEach
    void close() {
        manager.close();
        journal.close();
    }

    private static LaunchRequest request(String id, List<String> command) {
        return new LaunchRequest(id, "r-" + id, "0xRenter", 1, List.of(), IMAGE, command, Map.of(), List.of(22), null,
                "100", 3600);
    }

    private void awaitState(String id, SessionState state) {
        await().atMost(Duration.ofSeconds(10)).until(() -> manager.get(id).map(SessionView::state).orElse(null) == state);
    }

    @Test
    void aLaunchRunsMetersAndStopsWithBillingFromTheEnginesTimes() throws Exception {
        SessionView v = manager.launch(request("s1", FakeContainerRuntime.runUntilTerm(0)));
        assertThat(v.gpus()).containsExactly("GPU-a");
        assertThat(v.hostPorts()).containsExactly(40000);
        awaitState("s1", SessionState.RUNNING);
        clock.advance(Duration.ofMillis(10_300));
        manager.tick();
        assertThat(manager.get("s1").orElseThrow().billedSeconds()).isEqualTo(11); // 10.3 s rounds up
        manager.stop("s1", "renter_stop");
        awaitState("s1", SessionState.ENDED);
        SessionView end = manager.get("s1").orElseThrow();
        assertThat(end.reason()).isEqualTo("renter_stop");
        assertThat(end.billedSeconds()).isEqualTo(11);
        assertThat(engine.list(Collections.singletonMap(LaunchPolicy.LABEL_SESSION, null))).as("removed").isEmpty();
        assertThat(events).containsSubsequence("s1:REQUESTED", "s1:STARTING", "s1:RUNNING", "s1:STOPPING", "s1:ENDED");
        assertThat(manager.launch(request("s2", FakeContainerRuntime.runUntilTerm(0))).gpus())
                .as("GPU and port freed").containsExactly("GPU-a");
    }

    @Test
    void aSessionWhoseVouchersFallBehindByMoreThanTheCreditLimitEndsWithPaymentOverdue() throws Exception {
        manager.launch(request("paid", FakeContainerRuntime.runUntilTerm(0)));
        awaitState("paid", SessionState.RUNNING);
        clock.advance(Duration.ofSeconds(50));
        manager.tick();
        assertThat(manager.get("paid").orElseThrow().state()).as("no voucher tracking yet: never overdue")
                .isEqualTo(SessionState.RUNNING);
        paid.put("r-paid", 20L);
        manager.tick();
        assertThat(manager.get("paid").orElseThrow().state()).as("50 s metered, 20 s paid: exactly the limit")
                .isEqualTo(SessionState.RUNNING);
        clock.advance(Duration.ofSeconds(1));
        paid.put("r-paid", 21L);
        manager.tick();
        assertThat(manager.get("paid").orElseThrow().state()).as("the renter keeps up").isEqualTo(SessionState.RUNNING);
        clock.advance(Duration.ofSeconds(2));
        manager.tick();
        awaitState("paid", SessionState.ENDED);
        SessionView end = manager.get("paid").orElseThrow();
        assertThat(end.reason()).isEqualTo("payment_overdue");
        assertThat(end.billedSeconds()).as("the seconds used are still billed").isEqualTo(53);
    }

    @Test
    void aRetriedLaunchNeverStartsASecondContainer() throws Exception {
        manager.launch(request("s1", FakeContainerRuntime.runUntilTerm(0)));
        manager.launch(request("s1", FakeContainerRuntime.runUntilTerm(0)));
        awaitState("s1", SessionState.RUNNING);
        manager.launch(request("s1", FakeContainerRuntime.runUntilTerm(0)));
        assertThat(engine.calls("create")).isEqualTo(1);
        assertThatThrownBy(() -> manager.launch(new LaunchRequest("s1", "other-rental", "x", 1, List.of(), IMAGE,
                List.of(), Map.of(), List.of(), null, "1", 60))).isInstanceOfSatisfying(SessionException.class,
                e -> assertThat(e.code()).isEqualTo("session_conflict"));
    }

    @Test
    void requestsOutsidePolicyCreateNothing() throws Exception {
        assertThatThrownBy(() -> manager.launch(new LaunchRequest("s1", "r", "x", 1, List.of(), "evil/miner:1;rm",
                List.of(), Map.of(), List.of(), null, "1", 60))).isInstanceOfSatisfying(SessionException.class,
                e -> assertThat(e.code()).isEqualTo("policy_image"));
        assertThatThrownBy(() -> manager.launch(new LaunchRequest("s2", "r", "x", 3, List.of(), IMAGE,
                List.of(), Map.of(), List.of(), null, "1", 60))).isInstanceOfSatisfying(SessionException.class,
                e -> assertThat(e.code()).isEqualTo("policy_gpu_count"));
        assertThat(manager.list()).isEmpty();
        assertThat(engine.calls("create")).isZero();
        manager.drain(true);
        assertThatThrownBy(() -> manager.launch(request("s3", List.of()))).isInstanceOfSatisfying(SessionException.class,
                e -> assertThat(e.code()).isEqualTo("draining"));
    }

    @Test
    void aContainerThatExitsOrIsOomKilledEndsWithTheReason() throws Exception {
        manager.launch(request("s1", FakeContainerRuntime.runUntilTerm(0)));
        awaitState("s1", SessionState.RUNNING);
        engine.exitAt(LaunchPolicy.containerName("s1"), clock.wallTime().plusSeconds(3), 137, true);
        clock.advance(Duration.ofSeconds(5));
        for (int i = 0; i < SessionMeter.ENGINE_CHECK_EVERY; i++) {
            manager.tick();
        }
        awaitState("s1", SessionState.ENDED);
        SessionView v = manager.get("s1").orElseThrow();
        assertThat(v.oomKilled()).isTrue();
        assertThat(v.reason()).contains("OOM");
        assertThat(v.billedSeconds()).as("to the engine's finish time, not the tick's").isEqualTo(3);
    }

    @Test
    void aRestartAdoptsRunningContainersSettlesEndedOnesAndRemovesStrays() throws Exception {
        manager.launch(request("keep", FakeContainerRuntime.runUntilTerm(0)));
        manager.launch(request("gone", FakeContainerRuntime.runUntilTerm(0)));
        awaitState("keep", SessionState.RUNNING);
        awaitState("gone", SessionState.RUNNING);
        clock.advance(Duration.ofSeconds(4));
        manager.tick();
        // the agent dies (no stop); while it is down one container ends and a stray appears
        manager.close();
        journal.close();
        engine.exitAt(LaunchPolicy.containerName("gone"), clock.wallTime().plusSeconds(2), 0, false);
        clock.advance(Duration.ofSeconds(6));
        engine.inspect(LaunchPolicy.containerName("gone")); // let the fake apply the planned exit
        engine.create(new io.gpuagent.container.ContainerSpec("gpu-agent-stray", IMAGE, List.of(), Map.of(),
                Map.of(LaunchPolicy.LABEL_SESSION, "stray"), io.gpuagent.container.GpuAttachMode.NONE, List.of(), 1 << 26,
                1_000_000_000L, 64, null, List.of(), List.of(), "bridge", List.of(), List.of(),
                new io.gpuagent.container.ContainerSpec.LogLimit(1 << 20, 1)));

        List<JournalRecord> replayed = new ArrayList<>();
        manager = start(replayed);
        assertThat(replayed).isNotEmpty();
        SessionCore.ReconcileReport report = manager.reconcile();
        assertThat(report.adopted()).containsExactly("keep");
        assertThat(report.settled()).containsExactly("gone");
        assertThat(report.strays()).containsExactly("gpu-agent-stray");
        SessionView gone = manager.get("gone").orElseThrow();
        assertThat(gone.state()).isEqualTo(SessionState.ENDED);
        assertThat(gone.billedSeconds()).as("settled from the engine's times").isEqualTo(6);
        SessionView keep = manager.get("keep").orElseThrow();
        assertThat(keep.state()).isEqualTo(SessionState.RUNNING);
        assertThat(keep.gpus()).hasSize(1);
        manager.tick();
        assertThat(manager.get("keep").orElseThrow().billedSeconds()).as("no second lost or counted twice")
                .isEqualTo(10);
        List<ContainerState> left = engine.list(Collections.singletonMap(LaunchPolicy.LABEL_SESSION, null));
        assertThat(left).extracting(ContainerState::name).containsExactly("gpu-agent-keep");
    }

    @Test
    void usageIsAttributedFromTheEnginesCountersAndNvmlsPerProcessMemory() throws Exception {
        gpuUsage = new GpuUsageSource() {
            @Override
            public Integer utilizationPercent(String gpuUuid) {
                return gpuUuid.equals("GPU-a") ? 80 : 5;
            }

            @Override
            public List<io.gpuagent.gpu.GpuProcess> processes(String gpuUuid) {
                return List.of(new io.gpuagent.gpu.GpuProcess(4242, 1L << 30), new io.gpuagent.gpu.GpuProcess(999, 5L << 30));
            }
        };
        manager.close();
        journal.close();
        manager = start(new ArrayList<>());
        manager.launch(request("s1", FakeContainerRuntime.runUntilTerm(0)));
        awaitState("s1", SessionState.RUNNING);
        engine.pids(LaunchPolicy.containerName("s1"), List.of(4242, 4243));
        clock.advance(Duration.ofSeconds(10));
        for (int i = 0; i < SessionMeter.ENGINE_CHECK_EVERY; i++) {
            manager.tick();
        }
        SessionUsage u = manager.get("s1").orElseThrow().usage();
        assertThat(u.gpuMemoryBytes()).as("only its own process's GPU memory").isEqualTo(1L << 30);
        assertThat(u.gpuUtilPercent()).isEqualTo(80);
        assertThat(u.gpuSeconds()).isEqualTo(10);
        assertThat(u.cpuSeconds()).isEqualTo(5.0);
        assertThat(u.memoryBytes()).isEqualTo(64L << 20);
        assertThat(u.peakMemoryBytes()).isEqualTo(64L << 20);
        assertThat(u.netRxBytes()).isPositive();
        assertThat(u.diskBytes()).as("the first check reads the writable layer").isEqualTo(4096L);
    }

    @Test
    void aFailedGpuEndsTheSessionOnItWithAReasonTheRenterSees() throws Exception {
        manager.launch(request("s1", FakeContainerRuntime.runUntilTerm(0)));
        manager.launch(request("s2", FakeContainerRuntime.runUntilTerm(0)));
        awaitState("s1", SessionState.RUNNING);
        awaitState("s2", SessionState.RUNNING);
        String gpuOfS2 = manager.get("s2").orElseThrow().gpus().get(0);
        manager.onGpuFailed(gpuOfS2, "UNHEALTHY: critical XID 79");
        awaitState("s2", SessionState.ENDED);
        assertThat(manager.get("s2").orElseThrow().reason()).isEqualTo("gpu_failed: GPU " + gpuOfS2 + " UNHEALTHY: critical XID 79");
        assertThat(manager.get("s1").orElseThrow().state()).as("the other session is untouched")
                .isEqualTo(SessionState.RUNNING);
        manager.onGpuFailed("GPU-nobody", "LOST"); // a free GPU: nothing to end
    }

    @Test
    void twoLaunchesOfTheSameSessionAtOnceMakeOneContainer() throws Exception {
        // the first launch's create is held until every launch has been answered: they all overlap it
        java.util.concurrent.CountDownLatch answered = new java.util.concurrent.CountDownLatch(1);
        engine.slowCreate(Duration.ofMillis(200));
        engine.pauseWith(d -> answered.await());
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<java.util.concurrent.Future<SessionView>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                results.add(pool.submit(() -> manager.launch(request("twin", FakeContainerRuntime.runUntilTerm(0)))));
            }
            for (var f : results) {
                assertThat(f.get().gpus()).containsExactly("GPU-a");
            }
        } finally {
            answered.countDown();
            pool.shutdownNow();
        }
        awaitState("twin", SessionState.RUNNING);
        assertThat(engine.calls("create")).isEqualTo(1);
        assertThat(manager.list()).hasSize(1);
    }

    @Test
    void aCompactedJournalRestoresTheSameTable() throws Exception {
        manager.launch(request("open", FakeContainerRuntime.runUntilTerm(0)));
        manager.launch(request("done", FakeContainerRuntime.runUntilTerm(0)));
        awaitState("open", SessionState.RUNNING);
        awaitState("done", SessionState.RUNNING);
        clock.advance(Duration.ofSeconds(7));
        manager.tick();
        manager.stop("done", "renter_stop");
        awaitState("done", SessionState.ENDED);
        manager.compact();
        clock.advance(Duration.ofSeconds(2));
        manager.tick();
        List<SessionView> before = manager.list();
        manager.close();
        journal.close();

        List<JournalRecord> replayed = new ArrayList<>();
        manager = start(replayed);
        assertThat(replayed.get(0).isSnapshot()).as("replay starts at the snapshot").isTrue();
        assertThat(manager.list()).usingRecursiveFieldByFieldElementComparator().isEqualTo(before);
        assertThat(manager.reconcile().adopted()).containsExactly("open");
    }

    @Test
    void aLaunchThatFailsInTheEngineIsFailedAndFreesItsGpus() throws Exception {
        engine.failNextStart(new ContainerException("OCI runtime create failed: could not select device driver"));
        manager.launch(request("s1", FakeContainerRuntime.runUntilTerm(0)));
        awaitState("s1", SessionState.FAILED);
        assertThat(manager.get("s1").orElseThrow().reason()).contains("could not select device driver");
        assertThat(manager.launch(request("s2", FakeContainerRuntime.runUntilTerm(0))).gpus()).containsExactly("GPU-a");
        assertThat(fatal.get()).isNull();
        assertThat(manager.failureCounts()).containsEntry("launch_failed", 1L);
        assertThat(manager.launchCounts()).containsEntry("accepted", 2L);
    }
}
