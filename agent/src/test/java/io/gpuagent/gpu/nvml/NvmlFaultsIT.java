package io.gpuagent.gpu.nvml;

import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuHealth;
import io.gpuagent.gpu.GpuMonitor;
import io.gpuagent.gpu.GpuProcess;
import io.gpuagent.gpu.GpuSample;
import io.gpuagent.gpu.GpuUnavailableException;
import io.gpuagent.testsupport.SimNvml;
import io.gpuagent.util.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Faults injected into the simulated NVML, observed through the real JNA boundary. */
class NvmlFaultsIT {
    @TempDir
    Path dir;

    private GpuMonitor monitor;
    private NvmlGpuDriver driver;

    @AfterEach
    void tearDown() throws Exception {
        if (monitor != null) {
            monitor.stop(Duration.ofSeconds(5));
        } else if (driver != null) {
            driver.close();
        }
        SimNvml.unsetConfig();
    }

    private Path control() throws Exception {
        Path c = dir.resolve("control");
        if (!Files.exists(c)) {
            Files.createFile(c);
        }
        return c;
    }

    private Path machineWith(String extra) throws Exception {
        Path m = dir.resolve("machine.conf");
        Files.writeString(m, Files.readString(SimNvml.machine("rig-2x-rtx3090.conf")) + "\n" + extra + "\n");
        return m;
    }

    @Test
    void missingLibraryNamesThePathAndTheFix() {
        String path = dir.resolve("libnvidia-ml.so.1").toString();
        assertThatThrownBy(() -> NvmlGpuDriver.open(path, Clock.SYSTEM))
                .isInstanceOfSatisfying(GpuUnavailableException.class, e -> {
                    assertThat(e.kind()).isEqualTo(GpuUnavailableException.Kind.LIBRARY);
                    assertThat(e.getMessage()).contains(path).contains("gpu.nvml_library");
                });
    }

    @Test
    void aFileThatIsNotNvmlIsRejectedClearly() throws Exception {
        Path notNvml = dir.resolve("libnot-nvml.so");
        Files.writeString(notNvml, "this is not an ELF file");
        assertThatThrownBy(() -> NvmlGpuDriver.open(notNvml.toString(), Clock.SYSTEM))
                .isInstanceOfSatisfying(GpuUnavailableException.class, e ->
                        assertThat(e.getMessage()).contains("cannot load the NVML library").contains(notNvml.toString())
                                .as("the loader's own reason, not JNA's first line").contains("file too short"));
    }

    @Test
    void driverLibraryMismatchAtInitIsAnInitFailureWithAdvice() throws Exception {
        SimNvml.use(machineWith("[faults]\ninit driver_mismatch"), null);
        assertThatThrownBy(() -> NvmlGpuDriver.open(SimNvml.library(), Clock.SYSTEM))
                .isInstanceOfSatisfying(GpuUnavailableException.class, e -> {
                    assertThat(e.kind()).isEqualTo(GpuUnavailableException.Kind.INIT);
                    assertThat(e.code()).isEqualTo("NVML_ERROR_LIB_RM_VERSION_MISMATCH");
                    assertThat(e.getMessage()).contains("reboot");
                });
        // nothing was left initialised: a good configuration opens fine afterwards
        SimNvml.use(SimNvml.machine("rig-2x-rtx3090.conf"), null);
        driver = NvmlGpuDriver.open(SimNvml.library(), Clock.SYSTEM);
        assertThat(driver.deviceCount()).isEqualTo(2);
    }

    @Test
    void noDriverLoadedIsAnInitFailure() throws Exception {
        SimNvml.unsetConfig();
        assertThatThrownBy(() -> NvmlGpuDriver.open(SimNvml.library(), Clock.SYSTEM))
                .isInstanceOfSatisfying(GpuUnavailableException.class, e ->
                        assertThat(e.code()).isEqualTo("NVML_ERROR_DRIVER_NOT_LOADED"));
    }

    @Test
    void geforceCardsReadNullWhereTheyLackAFeatureAndDataCenterCardsDoNot() throws Exception {
        SimNvml.use(SimNvml.machine("mixed-lab.conf"), null);
        driver = NvmlGpuDriver.open(SimNvml.library(), Clock.SYSTEM);
        GpuDevice rtx = driver.describe(0);
        GpuSample rtxSample = driver.sample(0);
        assertThat(rtx.name()).isEqualTo("NVIDIA GeForce RTX 4090");
        assertThat(rtx.serial()).isNull();
        assertThat(rtx.eccMode()).isNull();
        assertThat(rtx.migMode()).isNull();
        assertThat(rtxSample.eccCorrectedVolatile()).isNull();
        assertThat(rtxSample.remappedRowsCorrectable()).isNull();
        assertThat(rtxSample.fanPercent()).isNotNull();
        assertThat(driver.unsupportedFeatures().get(0)).contains("serial", "ecc_mode", "mig_mode", "remapped_rows");

        GpuDevice h100 = driver.describe(3);
        GpuSample h100Sample = driver.sample(3);
        assertThat(h100.name()).isEqualTo("NVIDIA H100 80GB HBM3");
        assertThat(h100.serial()).isNotBlank();
        assertThat(h100.eccMode()).isEqualTo("enabled");
        assertThat(h100.migMode()).isEqualTo("disabled");
        assertThat(h100.computeCapability()).isEqualTo("9.0");
        assertThat(h100.pcieMaxGeneration()).isEqualTo(5);
        assertThat(h100Sample.eccCorrectedVolatile()).isNotNull();
        assertThat(h100Sample.memoryTemperatureC()).isNotNull();
        assertThat(h100Sample.memoryReservedBytes()).isPositive();
        assertThat(h100Sample.fanPercent()).isNull();
    }

    @Test
    void processListsSurviveInsufficientSizeRacesAndTheR535Stride() throws Exception {
        Path control = control();
        SimNvml.use(SimNvml.machine("rig-2x-rtx3090.conf"), control);
        driver = NvmlGpuDriver.open(SimNvml.library(), Clock.SYSTEM);
        driver.describe(0);
        for (int pid = 1000; pid < 1012; pid++) {
            SimNvml.command(control, "process 0 " + pid + " " + (pid - 999) * 1_048_576L);
        }
        SimNvml.command(control, "insufficient_size 0 2");
        await().atMost(Duration.ofSeconds(5)).until(() -> driver.sample(0).processes().size() == 12);
        assertThat(driver.sample(0).processes()).contains(new GpuProcess(1000, 1_048_576L),
                new GpuProcess(1011, 12 * 1_048_576L));

        // a fresh driver on an R535-like library: 32-byte entries through _v3
        driver.close();
        Files.delete(control);
        Files.createFile(control);
        SimNvml.command(control, "stride32 on");
        SimNvml.command(control, "process 1 4242 1073741824");
        SimNvml.command(control, "process 1 4343 2147483648");
        driver = NvmlGpuDriver.open(SimNvml.library(), Clock.SYSTEM);
        driver.describe(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> driver.sample(1).processes().size() == 2);
        assertThat(driver.sample(1).processes()).containsExactlyInAnyOrder(
                new GpuProcess(4242, 1_073_741_824L), new GpuProcess(4343, 2_147_483_648L));
    }

    @Test
    void aHungGpuBecomesUnknownWhileTheOtherKeepsReportingThenRecovers() throws Exception {
        Path control = control();
        SimNvml.use(SimNvml.machine("rig-2x-rtx3090.conf"), control);
        driver = NvmlGpuDriver.open(SimNvml.library(), Clock.SYSTEM);
        monitor = GpuMonitor.start(driver, Clock.SYSTEM, Duration.ofMillis(200), Duration.ofMillis(300), false);
        String gpu0 = monitor.inventory().gpus().get(0).uuid();
        String gpu1 = monitor.inventory().gpus().get(1).uuid();
        SimNvml.command(control, "hang 1 forever");
        await().atMost(Duration.ofSeconds(10)).until(() -> monitor.health().state(gpu1).health() == GpuHealth.UNKNOWN);
        long tick = monitor.sampler().snapshot().tick();
        long hungSince = System.nanoTime();
        await().atMost(Duration.ofSeconds(10)).until(() -> monitor.sampler().snapshot().tick() >= tick + 3);
        var samples = monitor.sampler().snapshot().samples();
        assertThat(samples.get(gpu0).monotonicNanos()).as("GPU 0 keeps reporting").isGreaterThan(hungSince);
        assertThat(samples.get(gpu1) == null || samples.get(gpu1).monotonicNanos() < hungSince)
                .as("GPU 1 has no new sample").isTrue();
        assertThat(monitor.health().state(gpu0).health()).isEqualTo(GpuHealth.HEALTHY);
        assertThat(monitor.callStats().timeouts()).isPositive();

        SimNvml.command(control, "unhang 1");
        await().atMost(Duration.ofSeconds(10)).until(() -> monitor.health().state(gpu1).health() == GpuHealth.HEALTHY);
        long recovered = System.nanoTime();
        await().atMost(Duration.ofSeconds(10)).until(() -> monitor.sampler().snapshot().samples().get(gpu1)
                .monotonicNanos() > recovered);
    }

    @Test
    void applicationXidKeepsTheGpuCriticalXidAndLossTakeItOut() throws Exception {
        Path control = control();
        SimNvml.use(SimNvml.machine("server-8x-h100.conf"), control);
        driver = NvmlGpuDriver.open(SimNvml.library(), Clock.SYSTEM);
        monitor = GpuMonitor.start(driver, Clock.SYSTEM, Duration.ofMillis(200), Duration.ofSeconds(2), true);
        var gpus = monitor.inventory().gpus();
        await().atMost(Duration.ofSeconds(10)).until(() -> monitor.watchedDevices().size() == 8);
        SimNvml.command(control, "xid 0 13");
        SimNvml.command(control, "xid 1 79");
        SimNvml.command(control, "dbe 2");
        await().atMost(Duration.ofSeconds(10)).until(() ->
                monitor.health().state(gpus.get(1).uuid()).health() == GpuHealth.UNHEALTHY
                        && monitor.health().state(gpus.get(2).uuid()).health() == GpuHealth.UNHEALTHY
                        && monitor.health().xidCounts().getOrDefault(gpus.get(0).uuid(), java.util.Map.of())
                        .containsKey(13L));
        SimNvml.command(control, "lost 3");
        await().atMost(Duration.ofSeconds(10)).until(() ->
                monitor.health().state(gpus.get(3).uuid()).health() == GpuHealth.LOST);
        assertThat(monitor.health().state(gpus.get(0).uuid()).health()).isEqualTo(GpuHealth.HEALTHY);
        assertThat(monitor.health().state(gpus.get(1).uuid()).reason()).contains("XID 79");
        for (int i = 4; i < 8; i++) {
            assertThat(monitor.health().state(gpus.get(i).uuid()).health()).isEqualTo(GpuHealth.HEALTHY);
        }
        long tick = monitor.sampler().snapshot().tick();
        await().atMost(Duration.ofSeconds(10)).until(() -> monitor.sampler().snapshot().tick() > tick);
        assertThat(monitor.sampler().snapshot().samples()).hasSize(7).doesNotContainKey(gpus.get(3).uuid());
    }
}
