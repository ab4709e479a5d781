package io.gpuagent.container.docker;

import com.fasterxml.jackson.databind.JsonNode;
import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerRuntime;
import io.gpuagent.container.ContainerRuntimeContract;
import io.gpuagent.container.ContainerSpec;
import io.gpuagent.container.ContainerState;
import io.gpuagent.container.GpuAttachMode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * The Docker adapter against a real engine: the private one that {@code scripts/docker-test-env.sh
 * start} runs (btrfs storage, so disk limits are enforced). The socket comes from the system
 * property {@code gpuagent.dockerSocket}, else {@code DOCKER_HOST} (unix:// only), else the
 * script's default place. No engine there is a failure, never a skip. Beyond the contract, it reads
 * each created container back through the raw API to prove the security mapping, and proves the
 * memory and disk limits and a published port by exercising them.
 */
public class DockerContainerRuntimeIT extends ContainerRuntimeContract {
    static final String IMAGE = "gpu-agent-test/busybox:1";
    private static final String SUITE_LABEL = "io.gpuagent.test.suite";
    private static final String SUITE = UUID.randomUUID().toString();
    private static final Duration STALE = Duration.ofMinutes(30);
    private static Path socket;
    private static RawEngine raw;

    @BeforeAll
    static void engineMustBeThere() {
        socket = socketFromEnvironment();
        try (DockerContainerRuntime probe = new DockerContainerRuntime(socket)) {
            probe.describe();
            if (!probe.imagePresent(IMAGE)) {
                fail("the Docker engine at " + socket + " lacks the test image " + IMAGE
                        + ": start it with scripts/docker-test-env.sh start");
            }
        } catch (ContainerException e) {
            fail("no Docker engine at " + socket + " (" + e.getMessage() + "): start it with scripts/docker-test-env.sh start");
        }
        raw = new RawEngine(socket);
    }

    /**
     * What this JVM's tests left (they carry {@link #SUITE_LABEL} with {@link #SUITE}), and what a
     * crashed earlier run left (the run label, made over {@link #STALE} ago). Never another live
     * run's: the lead's {@code mvn verify} and a developer's may share the test engine.
     */
    @AfterAll
    static void sweep() throws Exception {
        if (raw == null) {
            return; // no engine: engineMustBeThere has said so
        }
        long staleBefore = Instant.now().minus(STALE).getEpochSecond();
        try (DockerContainerRuntime r = new DockerContainerRuntime(socket)) {
            for (JsonNode c : get("/containers/json?all=1&filters=" + labelFilter(RUN_LABEL))) {
                if (SUITE.equals(c.path("Labels").path(SUITE_LABEL).asText()) || c.path("Created").asLong() < staleBefore) {
                    r.remove(c.get("Id").asText());
                }
            }
            for (JsonNode n : get("/networks?filters=" + labelFilter(RUN_LABEL))) {
                boolean stale = OffsetDateTime.parse(n.get("Created").asText()).toEpochSecond() < staleBefore;
                if (SUITE.equals(n.path("Labels").path(SUITE_LABEL).asText()) || stale) {
                    r.removeNetwork(n.get("Name").asText());
                }
            }
        }
    }

    private static String labelFilter(String label) {
        return URLEncoder.encode("{\"label\":[\"" + label + "\"]}", StandardCharsets.UTF_8);
    }

    @Override
    protected Map<String, String> runLabels() {
        return Map.of(RUN_LABEL, run, SUITE_LABEL, SUITE);
    }

    /** The private test engine's socket (also used by the session layer's Docker tests). */
    public static Path socketFromEnvironment() {
        String prop = System.getProperty("gpuagent.dockerSocket");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String host = System.getenv("DOCKER_HOST");
        if (host != null && !host.isBlank()) {
            if (!host.startsWith("unix://")) {
                fail("DOCKER_HOST=" + host + " is not a unix socket: start the test engine with scripts/docker-test-env.sh start");
            }
            return Path.of(host.substring("unix://".length()));
        }
        String dir = System.getenv().getOrDefault("GPU_AGENT_DOCKER_DIR", "/var/tmp/gpu-agent-docker");
        return Path.of(dir, "docker.sock");
    }

    @Override
    protected ContainerRuntime newRuntime() {
        return new DockerContainerRuntime(socket);
    }

    @Override
    protected String image() {
        return IMAGE;
    }

    /** Images this test made (removed after it). */
    private final List<String> madeImages = new ArrayList<>();

    /**
     * Commits a created (never started) container of the test image with {@code ENV} and
     * {@code LABEL} changes, as {@code docker commit --change} does: a local image, nothing pulled.
     */
    @Override
    protected String imageWith(Map<String, String> env, Map<String, String> labels) throws Exception {
        String name = "gpu-agent-test/with-env";
        String tag = run + "-" + madeImages.size();
        String from = runtime.create(spec(List.of("true")).build());
        StringBuilder changes = new StringBuilder();
        // the engine parses each change as a Dockerfile line: JSON-quoted values keep spaces, '=' and '<'
        env.forEach((k, v) -> changes.append("ENV ").append(k).append('=').append(jsonString(v)).append('\n'));
        labels.forEach((k, v) -> changes.append("LABEL ").append(jsonString(k)).append('=').append(jsonString(v)).append('\n'));
        RawEngine.Answer a = raw.call("POST", "/commit?container=" + from + "&repo=" + enc(name) + "&tag=" + enc(tag)
                + "&changes=" + enc(changes.toString()));
        assertThat(a.status()).as("commit: %s", a.body()).isEqualTo(201);
        runtime.remove(from);
        madeImages.add(name + ":" + tag);
        return name + ":" + tag;
    }

    @org.junit.jupiter.api.AfterEach
    void removeMadeImages() throws IOException {
        for (String image : madeImages) {
            delete("/images/" + image + "?force=1");
        }
        madeImages.clear();
    }

    static String jsonString(String v) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(v);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    @Override
    protected List<String> printThenExit(List<String> lines, int exitCode) {
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "printf '%s\\n' \"$@\"; exit " + exitCode, "sh"));
        cmd.addAll(lines);
        return cmd;
    }

    @Override
    protected List<String> runUntilTerm(int exitCode) {
        // wait returns at once when the trapped signal arrives; a foreground sleep would delay the trap
        return List.of("sh", "-c", "trap 'exit " + exitCode + "' TERM; sleep 1000 & wait");
    }

    @Override
    protected List<String> ignoreTerm() {
        // PID 1 without a handler: the kernel drops SIGTERM
        return List.of("sleep", "1000");
    }

    @Override
    protected List<String> catWithMode(String path) {
        return List.of("sh", "-c", "cat \"$1\" && { [ -z \"$(tail -c 1 \"$1\")\" ] || echo; } && stat -c %a \"$1\"", "sh", path);
    }

    // ---- the engine's own view of what was created

    private static JsonNode get(String path) throws IOException {
        return raw.get(path);
    }

    private static void delete(String path) throws IOException {
        assertThat(raw.call("DELETE", path).status()).as("DELETE %s", path).isIn(200, 404);
    }

    private static JsonNode rawInspect(String id) throws IOException {
        return get("/containers/" + id + "/json");
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        if (array != null && array.isArray()) {
            array.forEach(n -> out.add(n.asText()));
        }
        return out;
    }

    private static boolean absentOrEmpty(JsonNode n) {
        return n == null || n.isNull() || n.isEmpty() || (n.isTextual() && n.asText().isEmpty());
    }

    @Test
    void usageFromTheCgroupFilesIsTheEnginesOwn() throws Exception {
        // some CPU first, then idle, so both readings see the same counters
        String id = runtime.create(spec(List.of("sh", "-c",
                "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; trap 'exit 0' TERM; sleep 1000 & wait")).build());
        runtime.start(id);
        HostCgroups cgroups = new HostCgroups(Path.of("/proc"));
        try (DockerContainerRuntime fromFiles = new DockerContainerRuntime(DockerSettings.defaults(socket), cgroups);
             DockerContainerRuntime fromEngine = new DockerContainerRuntime(DockerSettings.defaults(socket), null)) {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                io.gpuagent.container.ContainerUsage a = fromFiles.usage(id);
                assertThat(cgroups.known()).as("read from the files, not the engine").isEqualTo(1);
                io.gpuagent.container.ContainerUsage b = fromEngine.usage(id);
                io.gpuagent.container.ContainerUsage c = fromFiles.usage(id);
                assertThat(a.pids()).as("PIDs").hasSize(2).containsExactlyInAnyOrderElementsOf(b.pids());
                assertThat(a.cpuNanos()).as("the loop is done: CPU time stands still").isEqualTo(c.cpuNanos())
                        .isGreaterThan(10_000_000L);
                assertThat(b.cpuNanos()).as("the engine's CPU time").isEqualTo(a.cpuNanos());
                assertThat(b.memoryBytes()).as("memory").isBetween(a.memoryBytes() - 262_144, a.memoryBytes() + 262_144);
                assertThat(b.netRxBytes()).as("received bytes").isEqualTo(a.netRxBytes());
                assertThat(b.netTxBytes()).as("sent bytes").isEqualTo(a.netTxBytes());
            });
            runtime.remove(id);
            assertThatThrownBy(() -> fromFiles.usage(id)).as("a removed container is not found, whichever path")
                    .isInstanceOf(io.gpuagent.container.ContainerNotFoundException.class);
            assertThat(cgroups.known()).as("and forgotten").isZero();
        }
    }

    @Test
    void theEngineStoresEverySecurityDecisionOfTheSpec() throws Exception {
        // created only, never started: the engine stores the binding and binds nothing, so any port will do
        int hostPort = 18080;
        ContainerSpec s = spec(runUntilTerm(0))
                .env("RENTER_VAR", "x y")
                .memoryBytes(96L << 20).nanoCpus(250_000_000L).pidsLimit(32).diskBytes(64L << 20)
                .capAdd("CHOWN", "NET_BIND_SERVICE").securityOpts("no-new-privileges:true")
                .port(8080, "tcp", "127.0.0.1", hostPort)
                .build();
        String id = runtime.create(s);

        JsonNode c = rawInspect(id);
        JsonNode h = c.get("HostConfig");
        assertThat(h.get("Privileged").asBoolean(true)).isFalse();
        assertThat(texts(h.get("CapDrop"))).containsExactly("ALL");
        assertThat(texts(h.get("CapAdd")).stream().map(x -> x.replaceFirst("^CAP_", "")).toList())
                .containsExactly("CHOWN", "NET_BIND_SERVICE");
        assertThat(texts(h.get("SecurityOpt"))).contains("no-new-privileges:true");
        assertThat(texts(h.get("SecurityOpt"))).noneMatch(o -> o.startsWith("seccomp") || o.contains("unconfined"));
        assertThat(h.get("Memory").asLong()).isEqualTo(96L << 20);
        assertThat(h.get("MemorySwap").asLong()).isEqualTo(96L << 20);
        assertThat(h.get("NanoCpus").asLong()).isEqualTo(250_000_000L);
        assertThat(h.get("PidsLimit").asLong()).isEqualTo(32);
        assertThat(h.get("StorageOpt").get("size").asText()).isEqualTo(Long.toString(64L << 20));
        assertThat(h.get("NetworkMode").asText()).isEqualTo(network);
        assertThat(absentOrEmpty(h.get("Binds"))).as("Binds %s", h.get("Binds")).isTrue();
        assertThat(absentOrEmpty(h.get("Mounts"))).as("HostConfig.Mounts").isTrue();
        assertThat(absentOrEmpty(c.get("Mounts"))).as("Mounts").isTrue();
        assertThat(absentOrEmpty(h.get("VolumesFrom"))).isTrue();
        assertThat(absentOrEmpty(h.get("Devices"))).isTrue();
        assertThat(absentOrEmpty(h.get("DeviceRequests"))).as("no GPUs in mode NONE").isTrue();
        assertThat(h.get("PidMode").asText()).isEmpty();
        assertThat(h.get("IpcMode").asText()).isNotEqualTo("host");
        assertThat(h.get("UTSMode").asText()).isEmpty();
        assertThat(h.get("UsernsMode").asText()).isEmpty();
        assertThat(h.get("PublishAllPorts").asBoolean(true)).isFalse();
        JsonNode binding = h.get("PortBindings").get("8080/tcp").get(0);
        assertThat(binding.get("HostIp").asText()).isEqualTo("127.0.0.1");
        assertThat(binding.get("HostPort").asText()).isEqualTo(Integer.toString(hostPort));
        assertThat(texts(c.get("Config").get("Env"))).contains("RENTER_VAR=x y");
        assertThat(c.get("Config").get("Labels").get(RUN_LABEL).asText()).isEqualTo(run);
    }

    @Test
    void gpusAreDeviceRequestsExactlyAsDockerWritesThemForNvidiaAndCdi() throws Exception {
        // created only: there are no GPUs here, and the engine resolves device drivers at start
        String nv = runtime.create(spec(runUntilTerm(0)).gpus(GpuAttachMode.NVIDIA, GPU_A, GPU_B).build());
        String cdi = runtime.create(spec(runUntilTerm(0)).gpus(GpuAttachMode.CDI, GPU_A, GPU_B).build());

        JsonNode nvReq = rawInspect(nv).get("HostConfig").get("DeviceRequests");
        assertThat(nvReq).hasSize(1);
        assertThat(nvReq.get(0).get("Driver").asText()).isEqualTo("nvidia");
        assertThat(texts(nvReq.get(0).get("DeviceIDs"))).containsExactly(GPU_A, GPU_B);
        assertThat(nvReq.get(0).get("Capabilities").toString()).isEqualTo("[[\"gpu\"]]");
        assertThat(nvReq.get(0).path("Count").asInt(0)).as("no count: exactly the listed devices").isZero();

        JsonNode cdiReq = rawInspect(cdi).get("HostConfig").get("DeviceRequests");
        assertThat(cdiReq).hasSize(1);
        assertThat(cdiReq.get(0).get("Driver").asText()).isEqualTo("cdi");
        assertThat(texts(cdiReq.get(0).get("DeviceIDs"))).containsExactly("nvidia.com/gpu=" + GPU_A, "nvidia.com/gpu=" + GPU_B);
        assertThat(absentOrEmpty(cdiReq.get(0).get("Capabilities"))).isTrue();
    }

    @Test
    void theDiskLimitIsEnforced() throws Exception {
        ContainerSpec small = spec(List.of("dd", "if=/dev/zero", "of=/tmp/fill", "bs=1M", "count=8")).diskBytes(32L << 20).build();
        ContainerSpec big = spec(List.of("dd", "if=/dev/zero", "of=/tmp/fill", "bs=1M", "count=64")).diskBytes(32L << 20).build();
        runtime.create(small);
        runtime.create(big);
        runtime.start(small.name());
        runtime.start(big.name());

        assertThat(awaitStatus(small.name(), "exited").exitCode()).as("8 MiB fit in 32 MiB").isZero();
        assertThat(awaitStatus(big.name(), "exited").exitCode()).as("64 MiB do not").isNotZero();
        assertThat(String.join("\n", runtime.logTail(big.name(), 5))).containsAnyOf("Disk quota exceeded", "No space left");
    }

    @Test
    void theMemoryLimitIsEnforcedAndTheOomKillReported() throws Exception {
        // busybox tail keeps the current line in memory, and /dev/zero has no newline
        ContainerSpec s = spec(List.of("tail", "/dev/zero")).memoryBytes(32L << 20).build();
        runtime.create(s);
        runtime.start(s.name());

        ContainerState c = awaitStatus(s.name(), "exited");
        assertThat(c.oomKilled()).isTrue();
        assertThat(c.exitCode()).isEqualTo(137);
    }

    @Test
    void aPublishedPortIsReachableOnLoopback() throws Exception {
        // host port 0: the engine binds one the kernel picks when the container starts, and says which
        ContainerSpec s = spec(List.of("httpd", "-f", "-p", "8080", "-h", "/var/www")).port(8080, "tcp", "127.0.0.1", 0).build();
        String id = runtime.create(s);
        runtime.start(s.name());

        int hostPort = await().atMost(patience()).pollInterval(Duration.ofMillis(100))
                .until(() -> publishedPort(id, "8080/tcp"), port -> port > 0);
        await().atMost(patience()).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .until(() -> httpGet(hostPort).contains("gpu-agent test page"));
    }

    @Test
    void stopWaitsOutTheGraceBeforeKilling() throws Exception {
        ContainerSpec s = spec(ignoreTerm()).build();
        runtime.create(s);
        runtime.start(s.name());
        awaitStatus(s.name(), "running");

        long t0 = System.nanoTime();
        runtime.stop(s.name(), Duration.ofSeconds(2));
        Duration took = Duration.ofNanos(System.nanoTime() - t0);

        assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(1800));
        ContainerState c = state(s.name());
        assertThat(c.exitCode()).isEqualTo(137);
        assertThat(Duration.between(c.startedAt(), c.finishedAt())).isGreaterThanOrEqualTo(Duration.ofMillis(1800));
    }

    @Test
    void filesThatCannotBeWrittenFailTheCreateAndLeaveNoContainer() throws Exception {
        // /etc/passwd is a file in the image, so nothing can go below it
        ContainerSpec s = spec(runUntilTerm(0)).file("/etc/passwd/evil", new byte[]{1}, 0644).build();
        assertThatThrownBy(() -> runtime.create(s)).isInstanceOf(ContainerException.class)
                .hasMessageContaining("write files into container " + s.name());
        assertThat(runtime.inspect(s.name())).isEmpty();
    }

    @Test
    void aPullThatCannotReachItsRegistryFailsWithTheEnginesReason() {
        assertThatThrownBy(() -> runtime.pull("127.0.0.1:9/gpu-agent-test/none:1", (st, c, t) -> { }))
                .isInstanceOf(ContainerException.class).hasMessageContaining("pull 127.0.0.1:9/gpu-agent-test/none:1")
                .hasMessageContaining("127.0.0.1:9");
    }

    @Test
    void aPullReportsGrowingProgressAndLeavesTheImagePresent() throws Exception {
        try (LocalRegistry registry = new LocalRegistry(3 << 20)) {
            String image = registry.host() + "/gpu-agent-test/pulled:" + run;
            List<long[]> seen = new ArrayList<>();
            List<String> statuses = new ArrayList<>();
            try {
                assertThat(runtime.imagePresent(image)).isFalse();
                runtime.pull(image, (status, cur, tot) -> {
                    statuses.add(status);
                    seen.add(new long[]{cur, tot});
                });

                assertThat(runtime.imagePresent(image)).isTrue();
                assertThat(statuses).contains("Downloading", "Pull complete");
                long[] last = seen.get(seen.size() - 1);
                assertThat(last[1]).isEqualTo(registry.layerBytes());
                assertThat(last[0]).isEqualTo(last[1]);
                assertThat(seen).anySatisfy(p -> assertThat(p[0]).isPositive().isLessThan(p[1]));
                for (int i = 1; i < seen.size(); i++) {
                    assertThat(seen.get(i)[0]).as("progress never goes back").isGreaterThanOrEqualTo(seen.get(i - 1)[0]);
                }
            } finally {
                delete("/images/" + image + "?force=1");
            }
        }
    }

    @Test
    void theApiVersionIsNegotiatedNeverAboveTheEngines() throws Exception {
        JsonNode v = get("/version");
        String described = runtime.describe();
        assertThat(described).matches("Docker \\S+ \\(API 1\\.\\d+\\)");
        String api = described.replaceAll(".*\\(API (1\\.\\d+)\\)", "$1");
        int minor = Integer.parseInt(api.substring(2));
        assertThat(minor).isLessThanOrEqualTo(Integer.parseInt(v.get("ApiVersion").asText().substring(2)));
        assertThat(minor).isGreaterThanOrEqualTo(Integer.parseInt(v.get("MinAPIVersion").asText().substring(2)));
        assertThat(described).contains(v.get("Version").asText());
    }

    @Test
    void anEngineThatIsNotThereIsAClearErrorNotAHang() {
        Path nowhere = Path.of("/nonexistent/gpu-agent/docker.sock");
        try (DockerContainerRuntime r = new DockerContainerRuntime(nowhere)) {
            assertThatThrownBy(() -> r.inspect("anything")).isInstanceOf(ContainerException.class)
                    .hasMessageContaining(nowhere.toString());
        }
    }

    /** The host port the engine bound for {@code containerPort} ("8080/tcp"), 0 while it has none. */
    private static int publishedPort(String id, String containerPort) throws IOException {
        JsonNode bindings = rawInspect(id).path("NetworkSettings").path("Ports").path(containerPort);
        return bindings.isArray() && !bindings.isEmpty() ? bindings.get(0).path("HostPort").asInt(0) : 0;
    }

    private static String httpGet(int port) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(2000);
            OutputStream out = s.getOutputStream();
            out.write("GET /index.html HTTP/1.0\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
