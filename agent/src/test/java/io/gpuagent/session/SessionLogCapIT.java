package io.gpuagent.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.container.docker.DockerContainerRuntime;
import io.gpuagent.container.docker.DockerContainerRuntimeIT;
import io.gpuagent.journal.Journal;
import io.gpuagent.util.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * Issue 10: a session's container ran with the engine's default log and no size limit, and one
 * renter running {@code yes} grew it by 3.7 GiB a minute, outside the disk quota. Here a session
 * floods its log for a few seconds beside a container created straight on the engine with the
 * same flood and no cap: the session's log files ({@code LogPath} and its rotated siblings) stay
 * within {@code log_max_size_mb x log_max_files} plus one entry per file, while the uncapped one
 * grows past that, so it is the cap that holds the session's log, not a slow flood.
 */
class SessionLogCapIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String IMAGE = SessionsOnDockerIT.IMAGE;
    private static final String SESSION = "it-logcap";
    private static final String CAPPED = LaunchPolicy.containerName(SESSION);
    private static final String UNCAPPED = CAPPED + "-uncapped";
    private static final long FILE_BYTES = 1L << 20;
    private static final int FILES = 2;
    /**
     * json-file checks a file's size before it writes an entry, so each file may pass the cap by one
     * entry: at most one 16 KiB chunk of a line (the engine splits longer lines), JSON-wrapped. The
     * flood's entries are about 160 bytes; 64 KiB per file is a generous bound.
     */
    private static final long SLACK_PER_FILE = 64 << 10;
    /** A 100-character line: fewer entries per byte than bare {@code y}, so 2 cores flood faster. */
    private static final String LINE = "0123456789".repeat(10);
    private static final Duration FLOOD = Duration.ofSeconds(3);

    @TempDir
    Path dir;
    private Path socket;
    private DockerContainerRuntime runtime;

    @BeforeEach
    void engine() {
        socket = DockerContainerRuntimeIT.socketFromEnvironment();
        runtime = DockerContainerRuntimeIT.engineOrFail(socket);
    }

    @AfterEach
    void clean() throws Exception {
        if (runtime == null) {
            return; // no engine: engine() already failed the test, loudly
        }
        try {
            runtime.remove(UNCAPPED);
            runtime.remove(CAPPED);
            runtime.removeNetwork(CAPPED);
        } finally {
            runtime.close();
        }
    }

    @Test
    void aSessionFloodingItsLogStaysUnderTheCapWhileAnUncappedContainerGrowsPastIt() throws Exception {
        AgentConfig c = ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=none",
                "sessions.memory_per_gpu_mb=256", "sessions.cpus_per_gpu=1", "sessions.disk_per_gpu_gb=0",
                "sessions.log_max_size_mb=1", "sessions.log_max_files=" + FILES));
        // the same flood, straight to the engine: json-file with no options (the test engine's daemon.json is {})
        docker("run", "-d", "--name", UNCAPPED, "--network", "none", "--log-driver", "json-file",
                "--memory", "256m", "--cpus", "1", IMAGE, "yes", LINE);
        try (Journal journal = Journal.open(dir.resolve("journal"), Clock.SYSTEM, r -> { })) {
            SessionCore m = SessionCore.builder().runtime(runtime).journal(journal).policy(new LaunchPolicy(c.sessions()))
                    .gpus(new GpuAllocator(List.of(), u -> true), 0)
                    .ports(new PortAllocator(31300, 31309)).clock(Clock.SYSTEM).epoch(1).stopGrace(Duration.ofSeconds(1))
                    .fatal(t -> fail("fatal: " + t)).engineExecutors(Runnable::run, Runnable::run).build();
            m.launch(new LaunchRequest(SESSION, "rental-log", "0xRenter", 0, List.of(), IMAGE, List.of("yes", LINE),
                    Map.of(), List.of(), null, "100", 3600));
            await().atMost(Duration.ofSeconds(60)).until(() -> m.get(SESSION).orElseThrow().state().terminal()
                    || m.get(SESSION).orElseThrow().state() == SessionState.RUNNING);
            assertThat(m.get(SESSION).orElseThrow().state()).as(m.get(SESSION).toString()).isEqualTo(SessionState.RUNNING);

            JsonNode logConfig = inspect(CAPPED).get("HostConfig").get("LogConfig");
            assertThat(logConfig.get("Type").asText()).isEqualTo("json-file");
            assertThat(logConfig.get("Config").get("max-size").asText()).isEqualTo(Long.toString(FILE_BYTES));
            assertThat(logConfig.get("Config").get("max-file").asText()).isEqualTo(Integer.toString(FILES));
            assertThat(inspect(UNCAPPED).get("HostConfig").get("LogConfig").get("Config").has("max-size"))
                    .as("the comparison container really is uncapped").isFalse();

            Path cappedLog = logPath(CAPPED);
            Path uncappedLog = logPath(UNCAPPED);
            long uncappedBefore = Files.size(uncappedLog);
            long most = 0;
            long deadline = System.nanoTime() + FLOOD.toNanos();
            while (System.nanoTime() < deadline) {
                most = Math.max(most, logBytes(cappedLog, FILES));
                assertThat(Files.exists(rotated(cappedLog, FILES))).as("no file beyond max-file").isFalse();
                TimeUnit.MILLISECONDS.sleep(100); // sampling a flood on real time, not waiting for time to pass
            }
            long capped = logBytes(cappedLog, FILES);
            most = Math.max(most, capped);
            long uncapped = Files.size(uncappedLog) - uncappedBefore;
            long cap = FILE_BYTES * FILES;
            System.out.printf("log flood over %s: session (cap %d x %d) %d bytes at the end, %d at most; uncapped grew %d bytes in the same time%n",
                    FLOOD, FILE_BYTES, FILES, capped, most, uncapped);

            assertThat(m.get(SESSION).orElseThrow().state()).as("the flood did not end the session").isEqualTo(SessionState.RUNNING);
            assertThat(Files.exists(rotated(cappedLog, 1))).as("the session's log rotated: it really flooded").isTrue();
            assertThat(most).as("the session's log files, sampled through the flood")
                    .isLessThanOrEqualTo(cap + FILES * SLACK_PER_FILE);
            assertThat(uncapped).as("the same flood without a cap, in the same time").isGreaterThan(2 * (cap + FILES * SLACK_PER_FILE));
            m.stop(SESSION, "renter_stop");
            await().atMost(Duration.ofSeconds(30)).until(() -> m.get(SESSION).orElseThrow().state().terminal());
            m.close();
        }
    }

    /** The current file and the rotated ones the cap allows ({@code .1} .. {@code .files-1}). */
    private static long logBytes(Path log, int files) throws Exception {
        long sum = 0;
        for (int i = 0; i < files; i++) {
            try {
                sum += Files.size(i == 0 ? log : rotated(log, i));
            } catch (NoSuchFileException e) {
                // not rotated that far yet, or caught between the engine's rename and its new file
            }
        }
        return sum;
    }

    private static Path rotated(Path log, int n) {
        return log.resolveSibling(log.getFileName() + "." + n);
    }

    private Path logPath(String name) throws Exception {
        Path p = Path.of(inspect(name).get("LogPath").asText());
        if (!Files.isReadable(p)) {
            fail("cannot read " + name + "'s log file " + p + ": run the ITs as the user that owns the test engine (root)");
        }
        return p;
    }

    private JsonNode inspect(String name) throws Exception {
        return JSON.readTree(docker("inspect", name)).get(0);
    }

    private String docker(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("docker", "-H", "unix://" + socket));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(String.join(" ", cmd)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }
}
