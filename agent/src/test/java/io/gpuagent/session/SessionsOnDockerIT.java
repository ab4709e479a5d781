package io.gpuagent.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.container.ContainerState;
import io.gpuagent.container.docker.DockerContainerRuntime;
import io.gpuagent.journal.Journal;
import io.gpuagent.util.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * Sessions on a real Docker engine (scripts/docker-test-env.sh start): every policy rule is proved
 * by inspecting the created container, billing matches Docker's own times, and the session
 * survives kill -9 of the process that runs it, again and again.
 */
class SessionsOnDockerIT {
    /**
     * The owner's port range of these tests: below Linux's ephemeral range (32768-60999), so the
     * kernel never hands one of them to another program's outgoing connection while the engine
     * means to publish it.
     */
    private static final int FIRST_HOST_PORT = 31100;
    static final String IMAGE = "gpu-agent-test/busybox:1";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl renter@laptop";

    @TempDir
    Path dir;
    private Path socket;
    private DockerContainerRuntime runtime;

    @BeforeEach
    void engine() throws Exception {
        socket = io.gpuagent.container.docker.DockerContainerRuntimeIT.socketFromEnvironment();
        runtime = io.gpuagent.container.docker.DockerContainerRuntimeIT.engineOrFail(socket);
    }

    @AfterEach
    void clean() throws Exception {
        for (ContainerState c : runtime.list(Collections.singletonMap(LaunchPolicy.LABEL_SESSION, null))) {
            if (c.name().startsWith("gpu-agent-it-")) {
                runtime.remove(c.id());
                runtime.removeNetwork(c.name());
            }
        }
        runtime.close();
    }

    private JsonNode inspect(String name) throws Exception {
        Process p = new ProcessBuilder("docker", "-H", "unix://" + socket, "inspect", name).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        return JSON.readTree(out).get(0);
    }

    private String exec(String name, String... cmd) throws Exception {
        List<String> c = new ArrayList<>(List.of("docker", "-H", "unix://" + socket, "exec", name));
        c.addAll(List.of(cmd));
        Process p = new ProcessBuilder(c).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    @Test
    void everyPolicyRuleTakesEffectAndBillingFollowsDockersTimes() throws Exception {
        AgentConfig c = ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=none",
                "sessions.memory_per_gpu_mb=256", "sessions.cpus_per_gpu=1", "sessions.pids_limit=128",
                "sessions.disk_per_gpu_gb=1", "sessions.publish_address=127.0.0.1"));
        try (Journal journal = Journal.open(dir.resolve("journal"), Clock.SYSTEM, r -> { })) {
            SessionCore m = SessionCore.builder().runtime(runtime).journal(journal).policy(new LaunchPolicy(c.sessions()))
                    .gpus(new GpuAllocator(List.of("GPU-sim-0", "GPU-sim-1"), u -> true), 2)
                    .ports(new PortAllocator(FIRST_HOST_PORT, FIRST_HOST_PORT + 9)).clock(Clock.SYSTEM).epoch(1).stopGrace(Duration.ofSeconds(2))
                    .fatal(t -> fail("fatal: " + t)).engineExecutors(Runnable::run, Runnable::run).build();
            m.launch(new LaunchRequest("it-policy", "rental-1", "0xRenter", 1, List.of(), IMAGE, List.of("sleep", "600"),
                    Map.of("HELLO", "world", "NVIDIA_VISIBLE_DEVICES", "all"), List.of(8080), KEY, "100", 3600));
            await().atMost(Duration.ofSeconds(60)).until(() -> m.get("it-policy").orElseThrow().state().terminal()
                    || m.get("it-policy").orElseThrow().state() == SessionState.RUNNING);
            assertThat(m.get("it-policy").orElseThrow().state()).as(m.get("it-policy").toString())
                    .isEqualTo(SessionState.RUNNING);

            JsonNode ins = inspect("gpu-agent-it-policy");
            JsonNode hc = ins.get("HostConfig");
            assertThat(hc.get("Privileged").asBoolean()).isFalse();
            assertThat(hc.get("CapDrop").toString()).isEqualTo("[\"ALL\"]");
            List<String> capAdd = new ArrayList<>();
            hc.get("CapAdd").forEach(x -> capAdd.add(x.asText().replace("CAP_", "")));
            assertThat(capAdd).containsExactlyInAnyOrderElementsOf(LaunchPolicy.CAP_ADD);
            assertThat(hc.get("SecurityOpt").toString()).contains("no-new-privileges");
            assertThat(hc.get("SecurityOpt").toString()).doesNotContain("unconfined");
            assertThat(hc.get("Memory").asLong()).isEqualTo(256L << 20);
            assertThat(hc.get("MemorySwap").asLong()).isEqualTo(256L << 20);
            assertThat(hc.get("NanoCpus").asLong()).isEqualTo(1_000_000_000L);
            assertThat(hc.get("PidsLimit").asLong()).isEqualTo(128);
            assertThat(hc.get("StorageOpt").get("size").asText()).isEqualTo(Long.toString(1L << 30));
            assertThat(hc.get("LogConfig").toString()).as("the default log cap, 10 MiB x 3 (SessionLogCapIT floods it)")
                    .contains("\"Type\":\"json-file\"").contains("\"max-size\":\"10485760\"").contains("\"max-file\":\"3\"");
            assertThat(hc.path("Binds").isNull() || hc.path("Binds").isEmpty()).as("no host mounts").isTrue();
            assertThat(ins.path("Mounts")).isEmpty();
            assertThat(hc.get("NetworkMode").asText()).isEqualTo("gpu-agent-it-policy");
            assertThat(hc.get("PidMode").asText()).isEmpty();
            assertThat(hc.get("IpcMode").asText()).isNotEqualTo("host");
            assertThat(hc.get("PortBindings").get("8080/tcp").get(0).get("HostPort").asText())
                    .isEqualTo(Integer.toString(FIRST_HOST_PORT));
            assertThat(hc.get("PortBindings").get("8080/tcp").get(0).get("HostIp").asText()).isEqualTo("127.0.0.1");
            assertThat(ins.get("Config").get("Env").toString()).contains("HELLO=world")
                    .as("the renter's value stripped, the agent's pinned").contains("NVIDIA_VISIBLE_DEVICES=void")
                    .doesNotContain("NVIDIA_VISIBLE_DEVICES=all");
            assertThat(ins.get("Config").get("Labels").get(LaunchPolicy.LABEL_SESSION).asText()).isEqualTo("it-policy");
            assertThat(ins.get("Config").get("Labels").get(LaunchPolicy.LABEL_RENTAL).asText()).isEqualTo("rental-1");
            assertThat(exec("gpu-agent-it-policy", "cat", "/root/.ssh/authorized_keys")).isEqualTo(KEY + "\n");
            assertThat(exec("gpu-agent-it-policy", "stat", "-c", "%a", "/root/.ssh/authorized_keys").trim()).isEqualTo("600");

            // let it run a little: billed time is the engine's real time here
            Instant started = Instant.parse(m.get("it-policy").orElseThrow().startedAt());
            await().atMost(Duration.ofSeconds(30)).until(() -> Duration.between(started, Instant.now()).toMillis() >= 2300);
            for (int i = 0; i < SessionMeter.ENGINE_CHECK_EVERY; i++) {
                m.tick();
            }
            SessionUsage usage = m.get("it-policy").orElseThrow().usage();
            assertThat(usage.memoryBytes()).as("cgroup memory from the engine").isPositive().isLessThanOrEqualTo(256L << 20);
            assertThat(usage.cpuSeconds()).isGreaterThanOrEqualTo(0);
            assertThat(usage.diskBytes()).as("writable layer (the authorized_keys file at least)").isNotNull().isPositive();
            m.stop("it-policy", "renter_stop");
            await().atMost(Duration.ofSeconds(30)).until(() -> m.get("it-policy").orElseThrow().state().terminal());
            SessionView v = m.get("it-policy").orElseThrow();
            assertThat(v.state()).isEqualTo(SessionState.ENDED);
            Duration ran = Duration.between(Instant.parse(v.startedAt()), Instant.parse(v.finishedAt()));
            long expected = ceilSeconds(ran);
            assertThat(v.billedSeconds()).as("ceil of Docker's FinishedAt - StartedAt (%s)", ran).isEqualTo(expected);
            assertThat(v.billedSeconds()).isBetween(2L, 8L);
            // the removal follows the settlement (on btrfs the engine can still be "removing" it a moment)
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(runtime.inspect("gpu-agent-it-policy")).as("container removed").isEmpty());
            m.close();
        }
    }

    @Test
    void aDockerDaemonRestartEndsTheSessionWithDockersOwnTimes() throws Exception {
        AgentConfig c = ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=none",
                "sessions.memory_per_gpu_mb=256", "sessions.cpus_per_gpu=1", "sessions.disk_per_gpu_gb=0"));
        try (Journal journal = Journal.open(dir.resolve("journal"), Clock.SYSTEM, r -> { })) {
            SessionCore m = SessionCore.builder().runtime(runtime).journal(journal).policy(new LaunchPolicy(c.sessions()))
                    .gpus(new GpuAllocator(List.of("GPU-sim-0"), u -> true), 1)
                    .ports(new PortAllocator(FIRST_HOST_PORT + 100, FIRST_HOST_PORT + 109)).clock(Clock.SYSTEM).epoch(1).stopGrace(Duration.ofSeconds(2))
                    .fatal(t -> fail("fatal: " + t)).engineExecutors(Runnable::run, Runnable::run).build();
            m.launch(new LaunchRequest("it-restart", "rental-2", "0xRenter", 1, List.of(), IMAGE, List.of("sleep", "600"),
                    Map.of(), List.of(), null, "100", 3600));
            await().atMost(Duration.ofSeconds(60)).until(() -> m.get("it-restart").orElseThrow().state() == SessionState.RUNNING);
            Path script = Path.of(System.getProperty("gpuagent.repoRoot", "..")).resolve("scripts/docker-test-env.sh");
            run(script.toString(), "stop");
            for (int i = 0; i < SessionMeter.ENGINE_CHECK_EVERY; i++) {
                m.tick(); // the engine is down: metering goes on, nothing is settled yet
            }
            assertThat(m.get("it-restart").orElseThrow().state()).isEqualTo(SessionState.RUNNING);
            // issue 10, item 9: while the engine is away renting is unavailable, said at once, not by a failed launch
            assertThat(m.engineProblem()).hasValueSatisfying(p -> assertThat(p).contains("container engine does not answer"));
            assertThatThrownBy(() -> m.launch(new LaunchRequest("it-while-down", "rental-3", "0xRenter", 1, List.of(), IMAGE,
                    List.of("sleep", "600"), Map.of(), List.of(), null, "100", 3600)))
                    .isInstanceOfSatisfying(SessionException.class, e -> assertThat(e.code()).isEqualTo("engine_unavailable"));
            assertThat(m.get("it-while-down")).as("nothing journaled for the refused launch").isEmpty();
            run(script.toString(), "start");
            for (int i = 0; i < SessionMeter.ENGINE_CHECK_EVERY; i++) {
                m.tick();
            }
            assertThat(m.engineProblem()).as("the engine answers: renting is available again").isEmpty();
            await().atMost(Duration.ofSeconds(30)).until(() -> m.get("it-restart").orElseThrow().state().terminal());
            SessionView v = m.get("it-restart").orElseThrow();
            assertThat(v.state()).isEqualTo(SessionState.ENDED);
            assertThat(v.reason()).contains("exited");
            Duration ran = Duration.between(Instant.parse(v.startedAt()), Instant.parse(v.finishedAt()));
            assertThat(v.billedSeconds()).isEqualTo(ceilSeconds(ran));
            m.close();
        }
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
    }

    @Test
    void aSessionSurvivesKillMinus9OfItsAgentAgainAndAgain() throws Exception {
        Path state = dir.resolve("state");
        String id = "it-kill9";
        for (int round = 0; round < 3; round++) {
            Process p = harness(state, "run", id);
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                int running = 0;
                List<String> seen = new ArrayList<>();
                while ((line = out.readLine()) != null) {
                    seen.add(line);
                    if (line.startsWith("RECONCILED") && round > 0) {
                        assertThat(line).as("round %d adopts the running container", round).contains("adopted=[" + id + "]");
                    }
                    if (line.startsWith("STATE RUNNING") && ++running >= 2) {
                        break;
                    }
                    if (line.startsWith("FATAL") || line.startsWith("STATE FAILED") || line.startsWith("STATE ENDED")) {
                        fail("harness: " + seen);
                    }
                }
                assertThat(running).as("harness output: %s", seen).isGreaterThanOrEqualTo(2);
            }
            p.destroyForcibly(); // kill -9: no shutdown hook, no last commit
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
            ContainerState c = runtime.inspect("gpu-agent-" + id).orElseThrow();
            assertThat(c.running()).as("the renter's container keeps running after kill -9 (round %d)", round).isTrue();
        }
        Process stop = harness(state, "stop", id);
        String out = new String(stop.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(stop.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String ended = out.lines().filter(l -> l.startsWith("ENDED")).findFirst().orElseThrow(() -> new AssertionError(out));
        assertThat(ended).contains("state=ENDED");
        Instant started = Instant.parse(field(ended, "started"));
        Instant finished = Instant.parse(field(ended, "finished"));
        long billed = Long.parseLong(field(ended, "billed"));
        long exact = ceilSeconds(Duration.between(started, finished));
        assertThat(billed).as("billed seconds follow Docker's own times across 3 kill -9s").isEqualTo(exact);
        assertThat(runtime.inspect("gpu-agent-" + id)).isEmpty();
    }

    /**
     * The billing rule, independently: whole seconds rounded up from Docker's nanosecond times
     * (regression: the test first rounded from milliseconds and disagreed when a run was 9.0004 s).
     */
    private static long ceilSeconds(Duration d) {
        return (d.toNanos() + 999_999_999L) / 1_000_000_000L;
    }

    private static String field(String line, String name) {
        for (String part : line.split(" ")) {
            if (part.startsWith(name + "=")) {
                return part.substring(name.length() + 1);
            }
        }
        throw new AssertionError("no " + name + " in " + line);
    }

    private Process harness(Path state, String action, String id) throws Exception {
        return SessionHarness.start(state, socket, action, id, IMAGE).redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
    }
}
