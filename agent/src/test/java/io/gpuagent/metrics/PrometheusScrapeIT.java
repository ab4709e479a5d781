package io.gpuagent.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.testsupport.RunningAgent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A real Prometheus server (Debian's package), started on loopback with a temporary config,
 * scrapes `gpu-agent run` on the simulated 8x H100 server; its query API then returns the
 * simulated GPU's temperature, power and memory under the right {@code gpu} and {@code UUID}.
 */
class PrometheusScrapeIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /** Prometheus 2.x (exporter-toolkit) at info level: {@code msg="Listening on" address=127.0.0.1:41234}. */
    private static final Pattern LISTENING = Pattern.compile("msg=\"Listening on\" address=([0-9.]+:\\d+)");

    @TempDir
    Path dir;

    @Test
    void prometheusScrapesTheAgentAndAnswersQueriesForTheRightGpu() throws Exception {
        Path prometheus = Path.of("/usr/bin/prometheus");
        assertThat(prometheus).as("Prometheus server (apt-get install prometheus; scripts/test.sh does)").isExecutable();
        try (RunningAgent agent = new RunningAgent(dir.resolve("agent"), "server-8x-h100.conf")) {
            JsonNode gpu3 = JSON.readTree(agent.get("/status").body()).get("gpus").get(3);
            String uuid = gpu3.get("uuid").asText();
            Path config = dir.resolve("prometheus.yml");
            Files.writeString(config, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    + "scrape_configs:\n  - job_name: gpu-agent\n    static_configs:\n"
                    + "      - targets: ['127.0.0.1:" + agent.port() + "']\n");
            Files.createDirectories(dir.resolve("tsdb"));
            Path log = dir.resolve("prometheus.log");
            // port 0: Prometheus binds the port the kernel picks and logs it (info level), so no port is
            // chosen here and handed over later, when another process may have taken it
            Process prom = new ProcessBuilder(prometheus.toString(), "--config.file=" + config,
                    "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:0",
                    "--log.level=info").redirectErrorStream(true).redirectOutput(log.toFile())
                    .start();
            try {
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                        .until(() -> LISTENING.matcher(Files.readString(log)).find() || !prom.isAlive());
                Matcher listening = LISTENING.matcher(Files.readString(log));
                assertThat(listening.find()).as("Prometheus says where it listens:\n%s", Files.readString(log)).isTrue();
                String api = "http://" + listening.group(1) + "/api/v1/query?query=";
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                        .until(() -> result(api, "DCGM_FI_DEV_GPU_TEMP{gpu=\"3\"}").size() == 1);
                JsonNode temp = result(api, "DCGM_FI_DEV_GPU_TEMP{gpu=\"3\"}").get(0);
                assertThat(temp.get("metric").get("UUID").asText()).isEqualTo(uuid);
                assertThat(temp.get("metric").get("modelName").asText()).isEqualTo("NVIDIA H100 80GB HBM3");
                assertThat(temp.get("metric").get("job").asText()).isEqualTo("gpu-agent");
                assertThat(value(temp)).isBetween(20.0, 100.0);

                JsonNode power = result(api, "DCGM_FI_DEV_POWER_USAGE{UUID=\"" + uuid + "\"}").get(0);
                assertThat(power.get("metric").get("gpu").asText()).isEqualTo("3");
                assertThat(value(power)).isBetween(20.0, 700.0);

                JsonNode used = result(api, "DCGM_FI_DEV_FB_USED{gpu=\"3\",UUID=\"" + uuid + "\"}").get(0);
                JsonNode free = result(api, "DCGM_FI_DEV_FB_FREE{gpu=\"3\",UUID=\"" + uuid + "\"}").get(0);
                JsonNode reserved = result(api, "DCGM_FI_DEV_FB_RESERVED{gpu=\"3\",UUID=\"" + uuid + "\"}").get(0);
                double totalMib = gpu3.get("memoryTotalBytes").asLong() / 1048576.0;
                assertThat(value(used) + value(free) + value(reserved)).isBetween(totalMib - 3, totalMib);
                assertThat(result(api, "count(DCGM_FI_DEV_GPU_TEMP)").get(0).get("value").get(1).asText()).isEqualTo("8");
                assertThat(result(api, "sum(gpu_agent_gpu_health_state{state=\"HEALTHY\"})").get(0).get("value")
                        .get(1).asText()).isEqualTo("8");
            } finally {
                prom.destroy();
                if (!prom.waitFor(20, TimeUnit.SECONDS)) {
                    prom.destroyForcibly();
                }
            }
        }
    }

    private static JsonNode result(String api, String query) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(api
                + URLEncoder.encode(query, StandardCharsets.UTF_8))).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body()).get("data").get("result");
    }

    private static double value(JsonNode sample) {
        return Double.parseDouble(sample.get("value").get(1).asText());
    }
}
