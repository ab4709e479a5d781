package io.gpuagent.session;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.container.FakeContainerRuntime;
import io.gpuagent.gpu.DriverInfo;
import io.gpuagent.gpu.FakeGpuDriver;
import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuEvent;
import io.gpuagent.gpu.GpuHealth;
import io.gpuagent.gpu.GpuHealthRegistry;
import io.gpuagent.gpu.GpuInventory;
import io.gpuagent.gpu.MigInstance;
import io.gpuagent.gpu.MigState;
import io.gpuagent.journal.Journal;
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
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Health per unit, end to end through the session core: GPU 0 runs MIG with a 1g and a 3g slice,
 * each rented; GPU 1 is rented whole. An XID scoped to one instance ends only the session on it; a
 * device-wide one on GPU 0 ends every session on GPU 0 and none on GPU 1. The registry is wired to
 * the core as the daemon wires it (UNHEALTHY or LOST: {@link SessionCore#onGpuFailed}).
 */
class UnitFailureTest {
    private static final String IMAGE = "docker.io/gpu-agent-test/busybox:1";

    @TempDir
    Path dir;
    private final ManualClock clock = new ManualClock();
    private final FakeContainerRuntime engine = new FakeContainerRuntime(clock, IMAGE);
    private final AtomicReference<Throwable> fatal = new AtomicReference<>();
    private final FakeGpuDriver fake = new FakeGpuDriver(2);
    private List<GpuDevice> devices;
    private GpuHealthRegistry health;
    private GpuAllocator allocator;
    private Journal journal;
    private SessionCore core;
    private MigInstance small;
    private MigInstance big;
    /** NVML's reading per MIG instance: 3 GiB used in the 1g slice, nothing known of the others. */
    private final GpuUsageSource usage = new GpuUsageSource() {
        @Override
        public Integer utilizationPercent(String gpuUuid) {
            return 40;
        }

        @Override
        public List<io.gpuagent.gpu.GpuProcess> processes(String gpuUuid) {
            return List.of(new io.gpuagent.gpu.GpuProcess(4242, 7L << 30));
        }

        @Override
        public Long migMemoryUsedBytes(String migUuid) {
            return migUuid.equals("MIG-small") ? 3L << 30 : null;
        }
    };

    @BeforeEach
    void open() throws Exception {
        devices = List.of(fake.describe(0), fake.describe(1));
        String gpu0 = devices.get(0).uuid();
        small = new MigInstance("MIG-small", gpu0, 0, 9, 0, "1g.10gb", 1, 10L << 30, 6, 1);
        big = new MigInstance("MIG-big", gpu0, 0, 2, 0, "3g.40gb", 3, 40L << 30, 0, 4);
        MigState mig = new MigState(true, true, List.of(), List.of(small, big));
        health = new GpuHealthRegistry(clock, devices);
        health.updateInstances(gpu0, mig.instances());
        GpuInventory inventory = new GpuInventory(new DriverInfo("fake", true, "570.00", "12.570", "12.8"), devices);
        allocator = new GpuAllocator(UnitLayout.of(inventory, Map.of(gpu0, mig), null), health::isHealthy);
        journal = Journal.open(dir.resolve("journal"), clock, r -> { });
        AgentConfig c = ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=none"));
        core = SessionCore.builder().runtime(engine).journal(journal).policy(new LaunchPolicy(c.sessions()))
                .gpus(allocator, 2).ports(new PortAllocator(40000, 40009)).clock(clock).epoch(1).gpuUsage(usage)
                .stopGrace(Duration.ofSeconds(5)).fatal(fatal::set).engineExecutors(Runnable::run, Runnable::run)
                .build();
        core.recover(new ArrayList<>());
        health.addListener((prev, cur) -> {
            if (cur.health() == GpuHealth.UNHEALTHY || cur.health() == GpuHealth.LOST) {
                core.onGpuFailed(cur.uuid(), cur.health() + ": " + cur.reason());
            }
        });
    }

    @AfterEach
    void close() {
        core.close();
        journal.close();
        assertThat(fatal.get()).isNull();
    }

    private void launch(String id, String unit) throws Exception {
        LaunchRequest r = new LaunchRequest(id, "r-" + id, "0xRenter", 0, List.of(unit), IMAGE,
                FakeContainerRuntime.runUntilTerm(0), Map.of(), List.of(), null, "100", 3600);
        assertThat(core.launch(r).gpus()).containsExactly(unit);
        await().atMost(Duration.ofSeconds(10)).until(() -> core.get(id).orElseThrow().state() == SessionState.RUNNING);
    }

    private SessionState state(String id) {
        return core.get(id).orElseThrow().state();
    }

    private void awaitEnded(String id) {
        await().atMost(Duration.ofSeconds(10)).until(() -> state(id).terminal());
    }

    @Test
    void anInstanceFaultEndsOnlyItsSessionAndADeviceWideOneEveryoneOnThatGpu() throws Exception {
        String gpu0 = devices.get(0).uuid();
        String gpu1 = devices.get(1).uuid();
        assertThat(allocator.free()).extracting(GpuUnit::uuid).containsExactly("MIG-big", "MIG-small", gpu1);
        launch("slice1g", "MIG-small");
        launch("slice3g", "MIG-big");
        launch("whole", gpu1);

        health.onXid(gpu0, 94, small.gpuInstanceId());
        awaitEnded("slice1g");
        assertThat(core.get("slice1g").orElseThrow().endReason()).isEqualTo(EndReason.GPU_FAILED);
        assertThat(core.get("slice1g").orElseThrow().reason()).contains("critical XID 94");
        assertThat(state("slice3g")).as("the other slice of the same GPU").isEqualTo(SessionState.RUNNING);
        assertThat(allocator.free()).as("the faulty slice is not offered again").isEmpty();

        health.onXid(gpu0, 13, GpuEvent.DEVICE_WIDE);
        assertThat(state("slice3g")).as("an application XID ends nothing").isEqualTo(SessionState.RUNNING);

        health.onXid(gpu0, 79, GpuEvent.DEVICE_WIDE);
        awaitEnded("slice3g");
        assertThat(core.get("slice3g").orElseThrow().endReason()).isEqualTo(EndReason.GPU_FAILED);
        assertThat(state("whole")).as("GPU 1 is untouched").isEqualTo(SessionState.RUNNING);
        assertThat(allocator.free()).as("nothing on GPU 0 is offered").isEmpty();
    }

    @Test
    void aMigSessionsGpuMemoryIsItsInstancesNotTheWholeGpusProcesses() throws Exception {
        launch("slice1g", "MIG-small");
        engine.pids(LaunchPolicy.containerName("slice1g"), List.of(4242));
        clock.advance(Duration.ofSeconds(5));
        for (int i = 0; i < SessionMeter.ENGINE_CHECK_EVERY; i++) {
            core.tick();
        }
        SessionUsage u = core.get("slice1g").orElseThrow().usage();
        assertThat(u.gpuMemoryBytes()).as("the instance's memory used, all its renter's").isEqualTo(3L << 30);
        assertThat(u.gpuUtilPercent()).as("NVML has no utilization per MIG instance").isNull();
    }
}
