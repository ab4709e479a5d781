package io.gpuagent.gpu.nvml;

import io.gpuagent.gpu.DeviceCallGuard;
import io.gpuagent.gpu.GpuEvent;
import io.gpuagent.gpu.GpuEventStream;
import io.gpuagent.gpu.GpuSample;
import io.gpuagent.gpu.MigException;
import io.gpuagent.gpu.MigInstance;
import io.gpuagent.gpu.MigProfile;
import io.gpuagent.gpu.MigSample;
import io.gpuagent.gpu.MigState;
import io.gpuagent.testsupport.SimNvml;
import io.gpuagent.util.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** MIG through JNA into the simulated library: mode, instances, capacity errors, scoped XIDs. */
class NvmlMigIT {
    @TempDir
    Path dir;
    private Path control;
    private NvmlGpuDriver driver;

    private NvmlGpuDriver open(String gpuSections) throws Exception {
        Path m = dir.resolve("machine.conf");
        Files.writeString(m, "seed = 3\n" + gpuSections);
        control = dir.resolve("control");
        Files.createFile(control);
        SimNvml.use(m, control);
        driver = NvmlGpuDriver.open(SimNvml.library(), Clock.SYSTEM);
        return driver;
    }

    @AfterEach
    void close() {
        if (driver != null) {
            driver.close();
        }
        SimNvml.unsetConfig();
    }

    private static MigProfile profile(MigState s, String name) {
        return s.profiles().stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
    }

    /**
     * The GPU-instance profiles of NVIDIA's MIG user guide ("Supported MIG Profiles" and
     * {@code nvidia-smi mig -lgip}): nvml.h's index, the driver's id, name, compute slices, how many
     * instances fit, and memory in MiB (the GiB column: 9.50 GiB = 9728 MiB).
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        a100-80gb      | 0:19:1g.10gb:1:7:9728 7:20:1g.10gb+me:1:1:9728 9:15:1g.20gb:1:4:19968 1:14:2g.20gb:2:3:19968 2:9:3g.40gb:3:2:40192 3:5:4g.40gb:4:1:40192 4:0:7g.80gb:7:1:81152
        a100-80gb-pcie | 0:19:1g.10gb:1:7:9728 7:20:1g.10gb+me:1:1:9728 9:15:1g.20gb:1:4:19968 1:14:2g.20gb:2:3:19968 2:9:3g.40gb:3:2:40192 3:5:4g.40gb:4:1:40192 4:0:7g.80gb:7:1:81152
        h100-80gb-hbm3 | 0:19:1g.10gb:1:7:9984 7:20:1g.10gb+me:1:1:9984 9:15:1g.20gb:1:4:20096 1:14:2g.20gb:2:3:20096 2:9:3g.40gb:3:2:40448 3:5:4g.40gb:4:1:40448 4:0:7g.80gb:7:1:81152
        h200           | 0:19:1g.18gb:1:7:16896 7:20:1g.18gb+me:1:1:16896 9:15:1g.35gb:1:4:33280 1:14:2g.35gb:2:3:33280 2:9:3g.71gb:3:2:66816 3:5:4g.71gb:4:1:66816 4:0:7g.141gb:7:1:135424
        """)
    void eachCardListsItsProfilesWithTheUserGuidesFigures(String card, String table) throws Exception {
        open("[gpu]\nprofile = " + card + "\nmig = enabled\n");
        List<MigProfile> expected = new java.util.ArrayList<>();
        for (String row : table.trim().split(" ")) {
            String[] f = row.split(":");
            expected.add(new MigProfile(Integer.parseInt(f[0]), Integer.parseInt(f[1]), f[2], Integer.parseInt(f[3]),
                    Long.parseLong(f[5]) << 20, Integer.parseInt(f[4])));
        }
        expected.sort(java.util.Comparator.comparingInt(MigProfile::profileIndex));
        assertThat(driver.mig(0).profiles()).containsExactlyElementsOf(expected);
        // the full-GPU profile fits in the card's memory, and is what the card can give at most
        MigProfile full = expected.stream().filter(p -> p.sliceCount() == 7).findFirst().orElseThrow();
        assertThat(full.memoryBytes()).isLessThanOrEqualTo(driver.describe(0).memoryTotalBytes());
    }

    @Test
    void aGeForceCardHasNoMigAndRefusesEveryMigRequestTyped() throws Exception {
        open("[gpu]\nprofile = rtx-4090\n");
        assertThat(driver.mig(0)).isNull();
        assertThat(driver.migSamples(0)).isEmpty();
        assertThat(driver.sample(0).migInstances()).isEmpty();
        assertThatThrownBy(() -> driver.setMigMode(0, true)).isInstanceOf(MigException.class)
                .extracting(e -> ((MigException) e).code()).isEqualTo("MIG_NOT_CAPABLE");
        assertThatThrownBy(() -> driver.createMigInstance(0, 0, null)).isInstanceOf(MigException.class)
                .hasMessageContaining("has no MIG");
        assertThat(driver.unsupportedFeatures().get(0)).contains("mig_mode");
    }

    @Test
    void migModeTurnsOnAtOnceOnAnIdleGpuAndOffAgainWhenNoInstanceIsLeft() throws Exception {
        open("[gpu]\nprofile = h100-80gb-hbm3\n");
        MigState off = driver.mig(0);
        assertThat(off.current()).isFalse();
        assertThat(off.pending()).isFalse();
        assertThat(off.profiles()).as("profiles are listed while MIG is on").isEmpty();
        assertThatThrownBy(() -> driver.createMigInstance(0, 0, null)).isInstanceOf(MigException.class)
                .extracting(e -> ((MigException) e).reason()).isEqualTo(MigException.Reason.MODE_OFF);

        assertThat(driver.setMigMode(0, true)).as("in effect now").isTrue();
        MigState on = driver.mig(0);
        assertThat(on.current()).isTrue();
        assertThat(on.resetPending()).isFalse();
        assertThat(on.profiles()).hasSize(7);
        assertThat(driver.describe(0).migMode()).isEqualTo("enabled");

        MigInstance one = driver.createMigInstance(0, 0, null);
        // MIG cannot go off under an instance: refused, typed, and the instance is still there
        assertThatThrownBy(() -> driver.setMigMode(0, false)).isInstanceOf(MigException.class)
                .extracting(e -> ((MigException) e).reason()).isEqualTo(MigException.Reason.IN_USE);
        assertThat(driver.mig(0).instances()).extracting(MigInstance::uuid).containsExactly(one.uuid());
        driver.destroyMigInstance(0, one.gpuInstanceId());
        assertThat(driver.setMigMode(0, false)).isTrue();
        assertThat(driver.mig(0).current()).isFalse();
    }

    @Test
    void aCardThatNeedsAResetKeepsTheModePendingUntilTheReset() throws Exception {
        open("[gpu]\nprofile = a100-80gb\nmig_reset_required = true\n");
        assertThat(driver.setMigMode(0, true)).as("pending, not in effect").isFalse();
        MigState pending = driver.mig(0);
        assertThat(pending.current()).isFalse();
        assertThat(pending.pending()).isTrue();
        assertThat(pending.resetPending()).isTrue();
        assertThatThrownBy(() -> driver.createMigInstance(0, 0, null)).isInstanceOf(MigException.class)
                .hasMessageContaining("reset").extracting(e -> ((MigException) e).code())
                .isEqualTo("MIG_RESET_REQUIRED");
        assertThat(driver.mig(0).instances()).as("nothing was created").isEmpty();

        SimNvml.command(control, "reset 0");
        await().atMost(Duration.ofSeconds(5)).until(() -> driver.mig(0).current());
        assertThat(driver.mig(0).resetPending()).isFalse();
        assertThat(driver.mig(0).profiles()).extracting(MigProfile::name).contains("7g.80gb");
    }

    @Test
    void createAndDestroyWithCapacityErrorsThatChangeNothing() throws Exception {
        open("[gpu]\nprofile = h100-80gb-hbm3\nmig = enabled\n");
        MigState empty = driver.mig(0);
        MigProfile three = profile(empty, "3g.40gb");
        MigInstance a = driver.createMigInstance(0, three.profileIndex(), null);
        MigInstance b = driver.createMigInstance(0, three.profileIndex(), null);
        assertThat(a.profile()).isEqualTo("3g.40gb");
        assertThat(a.sliceCount()).isEqualTo(3);
        assertThat(a.memoryBytes()).isEqualTo(three.memoryBytes());
        assertThat(a.uuid()).startsWith("MIG-").isNotEqualTo(b.uuid());
        assertThat(a.parentUuid()).isEqualTo(driver.describe(0).uuid());
        assertThat(List.of(a.placementStart(), b.placementStart())).containsExactlyInAnyOrder(0, 4);
        assertThat(a.placementSize()).isEqualTo(4);

        List<MigInstance> before = driver.mig(0).instances();
        assertThat(before).containsExactlyInAnyOrder(a, b);
        assertThatThrownBy(() -> driver.createMigInstance(0, three.profileIndex(), null))
                .isInstanceOf(MigException.class).extracting(e -> ((MigException) e).reason())
                .isEqualTo(MigException.Reason.NO_CAPACITY);
        assertThatThrownBy(() -> driver.createMigInstance(0, profile(empty, "1g.10gb").profileIndex(), null))
                .as("the two 3g slices fill the compute slices").isInstanceOf(MigException.class)
                .extracting(e -> ((MigException) e).reason()).isEqualTo(MigException.Reason.NO_CAPACITY);
        assertThatThrownBy(() -> driver.createMigInstance(0, 5, null)).as("no 8-slice profile on an H100")
                .isInstanceOf(MigException.class).extracting(e -> ((MigException) e).code())
                .isEqualTo("MIG_NO_SUCH_PROFILE");
        assertThatThrownBy(() -> driver.destroyMigInstance(0, 13)).isInstanceOf(MigException.class)
                .extracting(e -> ((MigException) e).reason()).isEqualTo(MigException.Reason.NO_SUCH_INSTANCE);
        assertThat(driver.mig(0).instances()).as("the refusals changed nothing").isEqualTo(before);

        driver.destroyMigInstance(0, a.gpuInstanceId());
        assertThat(driver.mig(0).instances()).containsExactly(b);
        MigInstance one = driver.createMigInstance(0, profile(empty, "1g.10gb").profileIndex(), a.placementStart());
        assertThat(one.placementStart()).isEqualTo(a.placementStart());
        assertThat(one.profile()).isEqualTo("1g.10gb");
        assertThatThrownBy(() -> driver.createMigInstance(0, profile(empty, "1g.10gb").profileIndex(), a.placementStart()))
                .as("that slice is taken").isInstanceOf(MigException.class)
                .extracting(e -> ((MigException) e).reason()).isEqualTo(MigException.Reason.BAD_PLACEMENT);
        assertThatThrownBy(() -> driver.createMigInstance(0, three.profileIndex(), 1))
                .as("a 3g slice cannot start at memory slice 1").isInstanceOf(MigException.class)
                .hasMessageContaining("possible starts: [0, 4]");
        assertThat(driver.mig(0).instances()).containsExactlyInAnyOrder(b, one);
    }

    @Test
    void instancesGivenInTheMachineFileAreReadWithTheirMemoryAndSampledEachTick() throws Exception {
        open("[gpu]\nprofile = h200\nmig = enabled\nmig_instances = 3g.71gb@4, 1g.18gb\n");
        MigState s = driver.mig(0);
        assertThat(s.instances()).extracting(MigInstance::profile).containsExactlyInAnyOrder("3g.71gb", "1g.18gb");
        MigInstance big = s.instances().stream().filter(i -> i.profile().equals("3g.71gb")).findFirst().orElseThrow();
        assertThat(big.placementStart()).isEqualTo(4);
        assertThat(big.memoryBytes()).isEqualTo(profile(s, "3g.71gb").memoryBytes());

        GpuSample sample = driver.sample(0);
        assertThat(sample.migInstances()).extracting(MigSample::uuid)
                .containsExactlyInAnyOrderElementsOf(s.instances().stream().map(MigInstance::uuid).toList());
        MigSample m = sample.migInstances().stream().filter(x -> x.uuid().equals(big.uuid())).findFirst().orElseThrow();
        assertThat(m.profile()).isEqualTo("3g.71gb");
        assertThat(m.gpuInstanceId()).isEqualTo(big.gpuInstanceId());
        assertThat(m.memoryTotalBytes()).isEqualTo(big.memoryBytes());
        assertThat(m.memoryUsedBytes() + m.memoryFreeBytes()).isLessThanOrEqualTo(m.memoryTotalBytes());
        assertThat(driver.migSamples(0)).isEqualTo(sample.migInstances());
    }

    @Test
    void anXidScopedToAnInstanceCarriesItsIdsAndADeviceWideOneNone() throws Exception {
        open("[gpu]\nprofile = h100-80gb-hbm3\nmig = enabled\nmig_instances = 3g.40gb, 1g.10gb\n");
        MigInstance target = driver.mig(0).instances().get(1);
        try (GpuEventStream events = driver.openEvents()) {
            SimNvml.command(control, "xid 0 43 gi " + target.gpuInstanceId() + " ci " + target.computeInstanceId());
            GpuEvent e = next(events);
            assertThat(e.kind()).isEqualTo(GpuEvent.Kind.XID);
            assertThat(e.data()).isEqualTo(43);
            assertThat(e.deviceWide()).isFalse();
            assertThat(e.gpuInstanceId()).isEqualTo(target.gpuInstanceId());
            assertThat(e.computeInstanceId()).isEqualTo(target.computeInstanceId());

            SimNvml.command(control, "xid 0 79");
            GpuEvent wide = next(events);
            assertThat(wide.data()).isEqualTo(79);
            assertThat(wide.deviceWide()).isTrue();
            assertThat(wide.gpuInstanceId()).isEqualTo(GpuEvent.DEVICE_WIDE);
            assertThat(wide.computeInstanceId()).isEqualTo(GpuEvent.DEVICE_WIDE);
        }
    }

    @Test
    void aHungGpuMakesItsMigAndTopologyCallsMissTheirDeadlineWhileTheOtherGpuAnswers() throws Exception {
        open("[gpu]\nprofile = h100-80gb-hbm3\nmig = enabled\n[gpu]\nprofile = h100-80gb-hbm3\nmig = enabled\n");
        List<String> uuids = List.of(driver.describe(0).uuid(), driver.describe(1).uuid());
        io.gpuagent.gpu.GpuCallStats stats = new io.gpuagent.gpu.GpuCallStats();
        Duration deadline = Duration.ofMillis(300);
        try (DeviceCallGuard g0 = new DeviceCallGuard(0, Clock.SYSTEM, stats);
             DeviceCallGuard g1 = new DeviceCallGuard(1, Clock.SYSTEM, stats)) {
            SimNvml.command(control, "hang 1 forever");
            await().atMost(Duration.ofSeconds(5)).until(() ->
                    g1.call("mig", () -> driver.mig(1), deadline) instanceof DeviceCallGuard.Outcome.Hung<MigState>);
            long start = System.nanoTime();
            assertThat(g0.call("mig", () -> driver.mig(0), deadline)).as("the other GPU answers")
                    .isInstanceOf(DeviceCallGuard.Outcome.Done.class);
            assertThat(g0.call("create", () -> driver.createMigInstance(0, 0, null), deadline))
                    .isInstanceOf(DeviceCallGuard.Outcome.Done.class);
            // the topology touches GPU 1 too: it misses its deadline, and the caller goes on
            assertThat(g0.call("topology", () -> driver.topology(uuids), deadline))
                    .isInstanceOf(DeviceCallGuard.Outcome.Hung.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
            assertThat(stats.timeouts()).isPositive();

            SimNvml.command(control, "unhang 1");
            await().atMost(Duration.ofSeconds(5)).until(() -> !g0.isHung() && !g1.isHung());
            assertThat(g0.call("topology", () -> driver.topology(uuids), deadline))
                    .isInstanceOf(DeviceCallGuard.Outcome.Done.class);
            assertThat(g1.call("mig", () -> driver.mig(1), deadline)).isInstanceOf(DeviceCallGuard.Outcome.Done.class);
        }
    }

    private static GpuEvent next(GpuEventStream events) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<GpuEvent> e = events.await(Duration.ofMillis(200));
            if (e.isPresent()) {
                return e.get();
            }
        }
        throw new AssertionError("no event within 5 s");
    }
}
