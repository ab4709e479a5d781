package io.gpuagent.daemon;

import io.gpuagent.testsupport.AgentProcess;
import io.gpuagent.testsupport.NotifySocket;
import io.gpuagent.testsupport.SimNvml;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * `gpu-agent run` as systemd runs it: a separate process with NOTIFY_SOCKET, WATCHDOG_USEC and
 * JOURNAL_STREAM set, the simulated 8x H100 machine, SIGTERM to stop.
 */
class DaemonIT {
    @TempDir
    Path dir;

    @Test
    void speaksTypeNotifyFeedsTheWatchdogThroughAHungGpuAndDrainsOnSigterm() throws Exception {
        Path control = dir.resolve("control");
        Files.createFile(control);
        Path config = dir.resolve("agent.toml");
        Files.writeString(config, "[agent]\nstate_dir = \"" + dir.resolve("state") + "\"\n"
                + "[gpu]\nnvml_library = \"" + SimNvml.library() + "\"\ncall_timeout_ms = 300\n"
                + "[sessions]\nenabled = false\n");
        try (NotifySocket notify = new NotifySocket(dir.resolve("notify.sock"))) {
            ProcessBuilder pb = AgentProcess.builder(Map.of(
                    "GPU_AGENT_SIM_CONFIG", SimNvml.machine("server-8x-h100.conf").toString(),
                    "GPU_AGENT_SIM_CONTROL", control.toString(),
                    "NOTIFY_SOCKET", notify.path().toString(),
                    "WATCHDOG_USEC", "2000000",
                    "JOURNAL_STREAM", "8:12345"), "run", "--config", config.toString());
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            Process p = pb.start();
            Thread drain = new Thread(() -> {
                try {
                    p.getErrorStream().transferTo(err);
                } catch (java.io.IOException ignored) {
                    // process ended
                }
            });
            drain.start();
            try {
                await().atMost(Duration.ofSeconds(30)).until(() -> notify.received("READY=1") || !p.isAlive());
                assertThat(p.isAlive()).as("agent died before READY=1: %s", err).isTrue();
                assertThat(notify.messages()).anyMatch(m -> m.contains("STATUS=serving 8 GPUs, 8 healthy"));
                int beats = count(notify, "WATCHDOG=1");
                await().atMost(Duration.ofSeconds(10)).until(() -> count(notify, "WATCHDOG=1") >= beats + 2);

                // a hung GPU: the agent stays responsive, reports it, and keeps feeding the watchdog
                SimNvml.command(control, "hang 5 forever");
                await().atMost(Duration.ofSeconds(15)).until(() ->
                        notify.messages().stream().anyMatch(m -> m.contains("GPU 5 UNKNOWN")));
                int beatsWhileHung = count(notify, "WATCHDOG=1");
                await().atMost(Duration.ofSeconds(10)).until(() -> count(notify, "WATCHDOG=1") >= beatsWhileHung + 2);
                assertThat(p.isAlive()).isTrue();

                p.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its stderr)
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("drained within 30 s").isTrue();
                drain.join(5000);
                assertThat(p.exitValue()).isZero();
                assertThat(notify.received("STOPPING=1")).isTrue();
                String log = err.toString(StandardCharsets.UTF_8);
                assertThat(log).as("journald priority prefixes").contains("<6>").contains("<4>")
                        .contains("effective configuration").contains("call_timeout_ms = 300")
                        .contains("stop requested");
            } finally {
                SimNvml.command(control, "unhang 5");
                p.destroyForcibly();
            }
        }
    }

    private static int count(NotifySocket s, String line) {
        return (int) s.messages().stream().filter(m -> m.lines().anyMatch(line::equals)).count();
    }
}
