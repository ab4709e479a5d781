package io.gpuagent.metrics;

import io.gpuagent.gpu.FakeGpuDriver;
import io.gpuagent.gpu.GpuMonitor;
import io.gpuagent.util.ManualClock;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The exposition, compared as exact text as client_java's own tests do. */
class GpuMetricsCollectorTest {
    private final ManualClock clock = new ManualClock();
    private final FakeGpuDriver fake = new FakeGpuDriver(2, clock);
    private GpuMonitor gpus;
    private MetricsEndpoint endpoint;

    private String scrape() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        endpoint.scrape(PrometheusTextFormatWriter.create(), out);
        return out.toString(StandardCharsets.UTF_8);
    }

    private void start() {
        // no threads started: the test ticks by hand
        gpus = GpuMonitor.open(fake, clock, Duration.ofSeconds(1), Duration.ofSeconds(5), false);
        endpoint = new MetricsEndpoint(gpus, clock, "1.2.3", "host-a", Optional::empty, false);
    }

    @AfterEach
    void stop() {
        gpus.close();
    }

    @Test
    void dcgmFamiliesCarryDcgmExporterNamesUnitsAndLabels() throws Exception {
        start();
        gpus.sampler().tick();
        String text = scrape();
        String labels0 = "{DCGM_FI_DRIVER_VERSION=\"550.54.15\",Hostname=\"host-a\","
                + "UUID=\"GPU-fake0000-0000-0000-0000-000000000000\",device=\"nvidia0\",gpu=\"0\","
                + "modelName=\"NVIDIA H100 80GB HBM3\",pci_bus_id=\"00000000:18:00.0\"}";
        assertThat(text).contains(
                "# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).\n"
                        + "# TYPE DCGM_FI_DEV_GPU_TEMP gauge\n"
                        + "DCGM_FI_DEV_GPU_TEMP" + labels0 + " 40.0\n",
                "DCGM_FI_DEV_POWER_USAGE" + labels0 + " 120.0\n",
                "DCGM_FI_DEV_FB_USED" + labels0 + " 1024.0\n",
                "DCGM_FI_DEV_FB_RESERVED" + labels0 + " 512.0\n",
                "DCGM_FI_DEV_GPU_UTIL" + labels0 + " 10.0\n",
                "DCGM_FI_PROF_GR_ENGINE_ACTIVE" + labels0 + " 0.1\n",
                "DCGM_FI_DEV_XID_ERRORS" + labels0 + " 0.0\n",
                "gpu_agent_gpu_stale{UUID=\"GPU-fake0000-0000-0000-0000-000000000000\",gpu=\"0\"} 0.0\n",
                "gpu_agent_gpu_health_state{UUID=\"GPU-fake0000-0000-0000-0000-000000000001\",gpu=\"1\","
                        + "modelName=\"NVIDIA H100 80GB HBM3\",state=\"HEALTHY\"} 1.0\n",
                "gpu_agent_gpu_simulated{UUID=\"GPU-fake0000-0000-0000-0000-000000000001\",gpu=\"1\"} 1.0\n",
                "gpu_agent_build_info{java_version=\"" + System.getProperty("java.version") + "\",version=\"1.2.3\"} 1\n",
                "# TYPE gpu_agent_nvml_call_duration_seconds histogram\n",
                "gpu_agent_nvml_call_timeouts_total 0.0\n",
                "gpu_agent_sampler_ticks_total 1.0\n");
        // unsupported on this card: absent, never zero
        assertThat(text).doesNotContain("DCGM_FI_DEV_FAN_SPEED", "DCGM_FI_DEV_RETIRED_SBE");
    }

    @Test
    void aStaleGpuHasNoDcgmValuesAndIsMarkedStale() throws Exception {
        start();
        gpus.sampler().tick();
        clock.advance(Duration.ofHours(2)); // more than two intervals since every sample so far
        fake.lose(1);
        gpus.sampler().tick(); // GPU 0 answers at the new time, GPU 1 cannot
        String text = scrape();
        assertThat(text).contains("gpu_agent_gpu_stale{UUID=\"GPU-fake0000-0000-0000-0000-000000000001\",gpu=\"1\"} 1.0")
                .contains("gpu_agent_gpu_stale{UUID=\"GPU-fake0000-0000-0000-0000-000000000000\",gpu=\"0\"} 0.0")
                .contains("state=\"LOST\"} 1.0");
        assertThat(text.lines().filter(l -> l.startsWith("DCGM_FI_DEV_GPU_TEMP{"))).hasSize(1)
                .allMatch(l -> l.contains("gpu=\"0\""));
    }

    @Test
    void xidsAreCountedByGpuXidAndCriticality() throws Exception {
        start();
        gpus.sampler().tick();
        String uuid = gpus.inventory().gpus().get(1).uuid();
        gpus.health().onXid(uuid, 13);
        gpus.health().onXid(uuid, 79);
        String text = scrape();
        assertThat(text).contains("gpu_agent_xid_errors_total{UUID=\"" + uuid + "\",critical=\"false\",gpu=\"1\",xid=\"13\"} 1.0")
                .contains("gpu_agent_xid_errors_total{UUID=\"" + uuid + "\",critical=\"true\",gpu=\"1\",xid=\"79\"} 1.0")
                .containsPattern("DCGM_FI_DEV_XID_ERRORS\\{[^}]*gpu=\"1\"[^}]*} 79.0");
    }

    @Test
    void openMetricsWhenTheScraperAsks() throws Exception {
        start();
        gpus.sampler().tick();
        var writer = endpoint.writerFor("application/openmetrics-text; version=1.0.0; charset=utf-8,text/plain;q=0.5");
        assertThat(writer.getContentType()).startsWith("application/openmetrics-text");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        endpoint.scrape(writer, out);
        assertThat(out.toString(StandardCharsets.UTF_8)).endsWith("# EOF\n");
        assertThat(endpoint.writerFor("text/plain").getContentType()).startsWith("text/plain; version=0.0.4");
        assertThat(endpoint.writerFor(null).getContentType()).startsWith("text/plain; version=0.0.4");
    }
}
