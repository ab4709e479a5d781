package io.gpuagent.metrics;

import io.gpuagent.gpu.DriverInfo;
import io.gpuagent.gpu.FakeGpuDriver;
import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuDriver;
import io.gpuagent.gpu.GpuEventStream;
import io.gpuagent.gpu.GpuException;
import io.gpuagent.gpu.GpuMonitor;
import io.gpuagent.gpu.GpuSample;
import io.gpuagent.gpu.MigSample;
import io.gpuagent.util.ManualClock;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;

/** MIG instances in the DCGM families, labelled as dcgm-exporter labels them (GPU_I_ID, GPU_I_PROFILE). */
class MigMetricsTest {
    private static final long MIB = 1 << 20;
    private final ManualClock clock = new ManualClock();
    private final WithMig driver = new WithMig(new FakeGpuDriver(2, clock));
    private GpuMonitor gpus;
    private MetricsEndpoint endpoint;

    /** The fake, with MIG readings added to the samples of the GPUs given some. */
    static final class WithMig implements GpuDriver {
        final FakeGpuDriver fake;
        final Map<Integer, List<MigSample>> migs = new ConcurrentHashMap<>();

        WithMig(FakeGpuDriver fake) {
            this.fake = fake;
        }

        @Override
        public DriverInfo driverInfo() {
            return fake.driverInfo();
        }

        @Override
        public int deviceCount() {
            return fake.deviceCount();
        }

        @Override
        public GpuDevice describe(int index) throws GpuException {
            return fake.describe(index);
        }

        @Override
        public GpuSample sample(int index) throws GpuException {
            return fake.sample(index).withMigInstances(migs.getOrDefault(index, List.of()));
        }

        @Override
        public GpuEventStream openEvents() throws GpuException {
            return fake.openEvents();
        }

        @Override
        public void close() {
            fake.close();
        }
    }

    @AfterEach
    void stop() {
        gpus.close();
    }

    private String scrape() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        endpoint.scrape(PrometheusTextFormatWriter.create(), out);
        return out.toString(StandardCharsets.UTF_8);
    }

    private static List<String> lines(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).toList();
    }

    private void start() {
        gpus = GpuMonitor.open(driver, clock, Duration.ofSeconds(1), Duration.ofSeconds(5), false);
        endpoint = new MetricsEndpoint(gpus, clock, "1.2.3", "host-a", Optional::empty, false);
    }

    @Test
    void eachInstanceHasItsFramebufferSeriesBesideTheWholeGpusWithDcgmExportersLabels() throws Exception {
        driver.migs.put(0, List.of(
                new MigSample("MIG-aaaaaaaa-0000-0000-0000-000000000001", 9, 0, "3g.40gb", 40192 * MIB, 1024 * MIB,
                        39168 * MIB),
                new MigSample("MIG-aaaaaaaa-0000-0000-0000-000000000002", 13, 0, "1g.10gb", 9856 * MIB, 0L, 9856 * MIB)));
        start();
        gpus.sampler().tick();
        String text = scrape();
        // client_java sorts labels by name, and the points of a family by their labels
        String driverLabel = "DCGM_FI_DRIVER_VERSION=\"550.54.15\",";
        String gpu0 = "Hostname=\"host-a\",UUID=\"GPU-fake0000-0000-0000-0000-000000000000\",device=\"nvidia0\","
                + "gpu=\"0\",modelName=\"NVIDIA H100 80GB HBM3\",pci_bus_id=\"00000000:18:00.0\"}";
        assertThat(lines(text, "DCGM_FI_DEV_FB_USED{")).containsExactly(
                "DCGM_FI_DEV_FB_USED{" + driverLabel + "GPU_I_ID=\"13\",GPU_I_PROFILE=\"1g.10gb\"," + gpu0 + " 0.0",
                "DCGM_FI_DEV_FB_USED{" + driverLabel + "GPU_I_ID=\"9\",GPU_I_PROFILE=\"3g.40gb\"," + gpu0 + " 1024.0",
                "DCGM_FI_DEV_FB_USED{" + driverLabel + gpu0 + " 1024.0",
                "DCGM_FI_DEV_FB_USED{" + driverLabel + "Hostname=\"host-a\","
                        + "UUID=\"GPU-fake0000-0000-0000-0000-000000000001\",device=\"nvidia1\",gpu=\"1\","
                        + "modelName=\"NVIDIA H100 80GB HBM3\",pci_bus_id=\"00000000:19:00.0\"} 1024.0");
        assertThat(lines(text, "DCGM_FI_DEV_FB_FREE{")).hasSize(4)
                .contains("DCGM_FI_DEV_FB_FREE{" + driverLabel + "GPU_I_ID=\"9\",GPU_I_PROFILE=\"3g.40gb\"," + gpu0
                        + " 39168.0");
        assertThat(lines(text, "gpu_agent_mig_instance{")).containsExactly(
                "gpu_agent_mig_instance{GPU_I_ID=\"13\",GPU_I_PROFILE=\"1g.10gb\","
                        + "UUID=\"GPU-fake0000-0000-0000-0000-000000000000\",compute_instance_id=\"0\",gpu=\"0\","
                        + "mig_uuid=\"MIG-aaaaaaaa-0000-0000-0000-000000000002\"} 1.0",
                "gpu_agent_mig_instance{GPU_I_ID=\"9\",GPU_I_PROFILE=\"3g.40gb\","
                        + "UUID=\"GPU-fake0000-0000-0000-0000-000000000000\",compute_instance_id=\"0\",gpu=\"0\","
                        + "mig_uuid=\"MIG-aaaaaaaa-0000-0000-0000-000000000001\"} 1.0");
        // fields NVML has only per physical GPU carry no instance series
        assertThat(lines(text, "DCGM_FI_DEV_GPU_TEMP{")).hasSize(2).noneMatch(l -> l.contains("GPU_I_ID"));
    }

    @Test
    void withoutMigNothingChangesAndAnInstanceMadeLaterAppearsAtTheNextTick() throws Exception {
        start();
        gpus.sampler().tick();
        String before = scrape();
        assertThat(before).doesNotContain("GPU_I_ID").doesNotContain("gpu_agent_mig_instance");
        assertThat(lines(before, "DCGM_FI_DEV_FB_USED{")).hasSize(2);

        driver.migs.put(1, List.of(new MigSample("MIG-bbbbbbbb-0000-0000-0000-000000000001", 0, 0, "7g.80gb",
                80000 * MIB, null, null)));
        assertThat(scrape()).doesNotContain("GPU_I_ID"); // not sampled yet
        clock.advance(Duration.ofSeconds(1));
        gpus.sampler().tick();
        String after = scrape();
        // memory the driver would not give this time is absent, never a zero; the instance is still listed
        assertThat(lines(after, "DCGM_FI_DEV_FB_USED{")).hasSize(2);
        assertThat(lines(after, "gpu_agent_mig_instance{")).containsExactly("gpu_agent_mig_instance{GPU_I_ID=\"0\","
                + "GPU_I_PROFILE=\"7g.80gb\",UUID=\"GPU-fake0000-0000-0000-0000-000000000001\",compute_instance_id=\"0\","
                + "gpu=\"1\",mig_uuid=\"MIG-bbbbbbbb-0000-0000-0000-000000000001\"} 1.0");
    }

    @Test
    void aSecondComputeInstanceOfOneGpuInstanceDoesNotRepeatItsSeries() throws Exception {
        driver.migs.put(0, List.of(
                new MigSample("MIG-cccccccc-0000-0000-0000-000000000001", 1, 0, "2g.20gb", 19968 * MIB, MIB, 19967 * MIB),
                new MigSample("MIG-cccccccc-0000-0000-0000-000000000002", 1, 1, "2g.20gb", 19968 * MIB, MIB, 19967 * MIB)));
        start();
        gpus.sampler().tick();
        String text = scrape();
        assertThat(lines(text, "DCGM_FI_DEV_FB_USED{").stream().filter(l -> l.contains("GPU_I_ID=\"1\""))).hasSize(1);
        assertThat(lines(text, "gpu_agent_mig_instance{")).hasSize(2);
    }
}
