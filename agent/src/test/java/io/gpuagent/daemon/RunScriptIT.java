package io.gpuagent.daemon;

import io.gpuagent.testsupport.SimNvml;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * README's first command, scripts/run.sh, as a newcomer runs it: it probes the simulated GPUs and
 * starts the daemon, which reports ready (regression: with DOCKER_HOST unset, `set -u` aborted it).
 */
class RunScriptIT {
    @Test
    void theReadmeRunCommandProbesAndStartsTheDaemon() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", SimNvml.repoRoot().resolve("scripts/run.sh").toString(),
                "--set", "metrics.listen=127.0.0.1:0").redirectErrorStream(true);
        pb.environment().remove("DOCKER_HOST");
        pb.environment().remove("SIM_MACHINE");
        Process p = pb.start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
                lines.add(line);
                if (line.contains("ready in")) {
                    break;
                }
            }
        } finally {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        assertThat(lines).as(String.join("\n", lines))
                .anyMatch(l -> l.startsWith("GPU 7: NVIDIA H100 80GB HBM3"))
                .anyMatch(l -> l.contains("SIMULATED"))
                .anyMatch(l -> l.contains("ready in"));
    }
}
