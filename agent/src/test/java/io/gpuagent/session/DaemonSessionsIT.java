package io.gpuagent.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.container.docker.DockerContainerRuntime;
import io.gpuagent.testsupport.AgentProcess;
import io.gpuagent.testsupport.RunningAgent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * `gpu-agent run` with sessions on the real test engine: a session started by a process that was
 * then killed with SIGKILL is adopted before READY, metered, shown in /status and /metrics;
 * drain/undrain reach the daemon; SIGTERM leaves the renter's container running.
 */
class DaemonSessionsIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void theDaemonAdoptsASessionMetersItDrainsAndLeavesItRunningOnStop() throws Exception {
        Path socket = io.gpuagent.container.docker.DockerContainerRuntimeIT.socketFromEnvironment();
        Path state = dir.resolve("state");
        String id = "it-daemon";
        Process harness = SessionHarness.start(state, socket, "run", id, SessionsOnDockerIT.IMAGE)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(harness.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null && !line.startsWith("STATE RUNNING")) {
                assertThat(line).doesNotStartWith("FATAL").doesNotStartWith("STATE FAILED");
            }
            assertThat(line).as("the harness ran the session").isNotNull();
        }
        harness.destroyForcibly();
        harness.waitFor(10, TimeUnit.SECONDS);
        try (DockerContainerRuntime docker = new DockerContainerRuntime(socket)) {
            try (RunningAgent agent = new RunningAgent(dir, "server-8x-h100.conf", "sessions.enabled=true",
                    "docker.socket=" + socket, "sessions.gpu_attach=none")) {
                assertThat(agent.log()).contains("adopted [" + id + "]");
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    JsonNode s = JSON.readTree(agent.get("/status").body()).get("sessions").get(0);
                    return s.get("state").asText().equals("RUNNING") && s.get("billedSeconds").asLong() >= 2;
                });
                assertThat(agent.get("/metrics").body()).contains("gpu_agent_sessions{state=\"RUNNING\"} 1.0")
                        .contains("gpu_agent_journal_fsync_duration_seconds_count");

                AgentProcess.Result status = AgentProcess.run(Map.of(), "status", "--url", agent.base());
                assertThat(status.stdout()).contains("sessions: 1 open").containsPattern(id + "\\s+RUNNING");
                AgentProcess.Result drain = AgentProcess.run(Map.of(), "drain", "--set", "agent.state_dir=" + state);
                assertThat(drain.exitCode()).as(drain.stderr()).isZero();
                assertThat(drain.stdout()).startsWith("ok draining");
                assertThat(JSON.readTree(agent.get("/status").body()).get("draining").asBoolean()).isTrue();
                assertThat(agent.get("/metrics").body()).contains("gpu_agent_draining 1.0");
                AgentProcess.Result undrain = AgentProcess.run(Map.of(), "undrain", "--set", "agent.state_dir=" + state);
                assertThat(undrain.stdout()).startsWith("ok taking sessions");
                assertThat(JSON.readTree(agent.get("/status").body()).get("draining").asBoolean()).isFalse();
            }
            // SIGTERM drained the agent: the renter's container is untouched
            assertThat(docker.inspect("gpu-agent-" + id).orElseThrow().running()).isTrue();
            AgentProcess.Result gone = AgentProcess.run(Map.of(), "drain", "--set", "agent.state_dir=" + state);
            assertThat(gone.exitCode()).isEqualTo(7);
        } finally {
            Process stop = SessionHarness.start(state, socket, "stop", id, SessionsOnDockerIT.IMAGE)
                    .redirectErrorStream(true).start();
            String out = new String(stop.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            stop.waitFor(60, TimeUnit.SECONDS);
            assertThat(out).contains("ENDED state=ENDED");
        }
    }
}
