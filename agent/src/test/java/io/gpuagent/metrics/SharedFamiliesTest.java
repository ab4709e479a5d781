package io.gpuagent.metrics;

import io.gpuagent.gpu.FakeGpuDriver;
import io.gpuagent.gpu.GpuMonitor;
import io.gpuagent.util.ManualClock;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The DCGM families are built once per state of the GPUs and shared by every scrape that sees it
 * (issue 13: scrapes at full load), without changing a byte of the output or the staleness rule.
 */
class SharedFamiliesTest {
    private static final String TEXT = "text/plain";
    private static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0";
    private final ManualClock clock = new ManualClock();
    private final FakeGpuDriver fake = new FakeGpuDriver(2, clock);
    private GpuMonitor gpus;
    private MetricsEndpoint endpoint;

    private void start(boolean jvm) {
        // no threads started: the test ticks by hand; one tick a second
        gpus = GpuMonitor.open(fake, clock, Duration.ofSeconds(1), Duration.ofSeconds(5), false);
        endpoint = new MetricsEndpoint(gpus, clock, "1.2.3", "host-a", Optional::empty, jvm);
    }

    @AfterEach
    void stop() {
        gpus.close();
    }

    private String scrape(ExpositionFormatWriter writer) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        endpoint.scrape(writer, out);
        return out.toString(StandardCharsets.UTF_8);
    }

    private String scrape(String accept) throws IOException {
        return scrape(endpoint.writerFor(accept));
    }

    private static long dcgmLines(String text, String gpu) {
        return text.lines().filter(l -> l.startsWith("DCGM_FI_") && l.contains("gpu=\"" + gpu + "\"")).count();
    }

    private static String dcgm(String text) {
        return String.join("\n", text.lines().filter(l -> l.startsWith("DCGM_FI_")).toList());
    }

    private static String energy(String text) {
        return String.join("\n", text.lines().filter(l -> l.startsWith("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{")).toList());
    }

    @Test
    void twoScrapesWithinOneTickBuildTheGpuFamiliesOnceAndANewTickRebuildsThem() throws Exception {
        start(false);
        gpus.sampler().tick();
        String first = scrape(TEXT);
        String second = scrape(TEXT);
        assertThat(endpoint.dcgmBuilds()).isEqualTo(1);
        assertThat(second).isEqualTo(first);
        assertThat(dcgmLines(first, "0")).isGreaterThan(10);
        // the other format writes the same families, not new ones
        String om = scrape(OPEN_METRICS);
        assertThat(endpoint.dcgmBuilds()).isEqualTo(1);
        assertThat(om).contains("DCGM_FI_DEV_GPU_TEMP{").endsWith("# EOF\n");

        clock.advance(Duration.ofSeconds(1));
        String unchanged = scrape(TEXT); // the sampler has not ticked: same samples, same families
        assertThat(endpoint.dcgmBuilds()).isEqualTo(1);
        assertThat(dcgm(unchanged)).isEqualTo(dcgm(first));
        gpus.sampler().tick(); // the fake's energy counter moves at every sample
        String next = scrape(TEXT);
        assertThat(endpoint.dcgmBuilds()).isEqualTo(2);
        assertThat(energy(next)).isNotEqualTo(energy(first));
        scrape(OPEN_METRICS);
        assertThat(endpoint.dcgmBuilds()).isEqualTo(2);
    }

    @Test
    void aGpuGoesStaleAtTheFirstScrapeThatSeesItsSampleOlderThanTwoIntervals() throws Exception {
        start(false);
        gpus.sampler().tick();
        scrape(TEXT);
        clock.advance(Duration.ofSeconds(2)); // exactly two intervals: still fresh
        String atTheLimit = scrape(TEXT);
        assertThat(atTheLimit).contains("gpu_agent_gpu_stale{UUID=\"GPU-fake0000-0000-0000-0000-000000000001\",gpu=\"1\"} 0.0")
                .contains("gpu_agent_gpu_sample_age_seconds{UUID=\"GPU-fake0000-0000-0000-0000-000000000001\",gpu=\"1\"} 2.0");
        assertThat(dcgmLines(atTheLimit, "1")).isGreaterThan(10);
        assertThat(endpoint.dcgmBuilds()).isEqualTo(1);

        clock.advance(Duration.ofNanos(1)); // no tick in between: only the scrape's time moved
        String past = scrape(TEXT);
        assertThat(past).contains("gpu_agent_gpu_stale{UUID=\"GPU-fake0000-0000-0000-0000-000000000001\",gpu=\"1\"} 1.0")
                .contains("gpu_agent_gpu_stale{UUID=\"GPU-fake0000-0000-0000-0000-000000000000\",gpu=\"0\"} 1.0")
                .doesNotContain("gpu_agent_gpu_sample_age_seconds");
        assertThat(dcgmLines(past, "0")).isZero();
        assertThat(dcgmLines(past, "1")).isZero();
        assertThat(endpoint.dcgmBuilds()).isEqualTo(2);

        gpus.sampler().tick(); // fresh again
        assertThat(dcgmLines(scrape(TEXT), "1")).isGreaterThan(10);
        assertThat(endpoint.dcgmBuilds()).isEqualTo(3);
    }

    @Test
    void anXidOrAHealthChangeBetweenTicksReachesTheNextScrape() throws Exception {
        start(false);
        gpus.sampler().tick();
        String uuid = gpus.inventory().gpus().get(1).uuid();
        assertThat(scrape(TEXT)).contains("{UUID=\"" + uuid + "\",gpu=\"1\",modelName=\"NVIDIA H100 80GB HBM3\","
                + "state=\"HEALTHY\"} 1.0\n");
        gpus.health().onXid(uuid, 13);
        assertThat(scrape(TEXT)).containsPattern("DCGM_FI_DEV_XID_ERRORS\\{[^}]*gpu=\"1\"[^}]*} 13.0\n")
                .contains("xid=\"13\"} 1.0\n");
        assertThat(endpoint.dcgmBuilds()).isEqualTo(2);
        gpus.health().onXid(uuid, 79); // critical: the GPU becomes UNHEALTHY
        assertThat(scrape(TEXT)).contains("{UUID=\"" + uuid + "\",gpu=\"1\",modelName=\"NVIDIA H100 80GB HBM3\","
                + "state=\"UNHEALTHY\"} 1.0\n", "{UUID=\"" + uuid + "\",gpu=\"1\",modelName=\"NVIDIA H100 80GB HBM3\","
                + "state=\"HEALTHY\"} 0.0\n");
    }

    @Test
    void sharedBytesAreWhatClientJavasWriterWritesForAllTheFamiliesAtOnce() throws Exception {
        start(true); // with the JVM families, shared too
        gpus.sampler().tick();
        gpus.health().onXid(gpus.inventory().gpus().get(0).uuid(), 79);
        // a writer of the test's own is not one the endpoint shares bytes for: written in one call
        assertThat(scrape(TEXT)).isEqualTo(scrape(PrometheusTextFormatWriter.create()));
        String om = scrape(OPEN_METRICS);
        assertThat(om).isEqualTo(scrape(OpenMetricsTextFormatWriter.create()));
        assertThat(om).contains("# TYPE jvm_memory_used_bytes gauge", "# TYPE gpu_agent_build info",
                "DCGM_FI_DEV_XID_ERRORS{");
        assertThat(om.split("# EOF", -1)).hasSize(2);
        assertThat(om).endsWith("\n# EOF\n");
    }
}
