package io.gpuagent.metrics;

import io.gpuagent.testsupport.RunningAgent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * `gpu-agent run` on a simulated H100 with MIG instances: each instance has its framebuffer series
 * with dcgm-exporter's GPU_I_ID / GPU_I_PROFILE labels, and promtool accepts the whole output.
 */
class MigMetricsIT {
    @TempDir
    Path dir;

    @Test
    void eachMigInstanceHasItsFramebufferSeriesAndPromtoolAcceptsTheOutput() throws Exception {
        Path machine = dir.resolve("h100-mig.conf");
        Files.writeString(machine, "[gpu]\nprofile = h100-80gb-hbm3\nmig = enabled\n"
                + "mig_instances = 3g.40gb, 2g.20gb, 1g.10gb\n[gpu]\nprofile = h100-80gb-hbm3\n");
        // an absolute path resolves to itself under config/sim
        try (RunningAgent agent = new RunningAgent(dir.resolve("agent"), machine.toString())) {
            await().atMost(Duration.ofSeconds(20)).until(() -> agent.get("/metrics").body().contains("GPU_I_ID"));
            String text = agent.get("/metrics").body();
            List<String> used = text.lines().filter(l -> l.startsWith("DCGM_FI_DEV_FB_USED{")).toList();
            assertThat(used).hasSize(2 + 3);
            assertThat(used.stream().filter(l -> l.contains("GPU_I_PROFILE=")).map(l -> l.replaceAll(
                    ".*GPU_I_PROFILE=\"([^\"]+)\".*", "$1"))).containsExactlyInAnyOrder("3g.40gb", "2g.20gb", "1g.10gb");
            assertThat(used).filteredOn(l -> l.contains("GPU_I_ID")).allMatch(l -> l.contains("gpu=\"0\""))
                    .allMatch(l -> l.contains("modelName=\"NVIDIA H100 80GB HBM3\""));
            assertThat(text.lines().filter(l -> l.startsWith("gpu_agent_mig_instance{"))).hasSize(3)
                    .allMatch(l -> l.contains("mig_uuid=\"MIG-"));

            assertThat(Path.of("/usr/bin/promtool")).as("promtool (apt-get install prometheus; scripts/test.sh does)")
                    .isExecutable();
            Path file = dir.resolve("scrape.txt");
            Files.writeString(file, text);
            Process p = new ProcessBuilder("promtool", "check", "metrics").redirectInput(file.toFile())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(out).doesNotContain("error while linting").doesNotContain("text format parsing error")
                    .doesNotContain("GPU_I_").doesNotContain("gpu_agent_mig_instance");
        }
    }
}
