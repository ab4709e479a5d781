package io.gpuagent.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.container.ContainerSpec;
import io.gpuagent.container.ContainerState;
import io.gpuagent.container.docker.DockerContainerRuntime;
import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuInventory;
import io.gpuagent.gpu.nvml.NvmlGpuDriver;
import io.gpuagent.journal.Journal;
import io.gpuagent.testsupport.SimNvml;
import io.gpuagent.util.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * No image widens its GPU access, and no image the driver cannot run gets a container, on the
 * real test engine (scripts/docker-test-env.sh start) with the driver facts of the simulated NVML
 * (server-8x-h100: driver 550.54.15, CUDA 12.4). Images are made locally by {@code docker commit
 * --change}: nothing is pulled.
 *
 * <p>What the engine decided is read where the runtime reads it: the container's
 * {@code Config.Env} (create merges the image's environment under the container's), and for a
 * running container the OCI spec the engine wrote for runc ({@code process.env} of the bundle's
 * {@code config.json} under the engine's containerd state), which is what NVIDIA's hook reads.
 * The test engine (Docker 20.10) has neither NVIDIA's runtime nor CDI, so {@code nvidia} and
 * {@code cdi} containers are created, never started: their environment is checked as data.
 */
class ImageGpuAccessIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BASE = SessionsOnDockerIT.IMAGE;
    private static final int FIRST_HOST_PORT = 31300;

    @TempDir
    Path dir;
    private Path socket;
    private DockerContainerRuntime runtime;
    private final List<String> images = new ArrayList<>();
    private GpuInventory inventory;

    @BeforeEach
    void engineAndDriver() throws Exception {
        socket = io.gpuagent.container.docker.DockerContainerRuntimeIT.socketFromEnvironment();
        runtime = new DockerContainerRuntime(socket);
        try {
            runtime.describe();
        } catch (Exception e) {
            fail("no Docker engine at " + socket + " (" + e.getMessage() + "): start it with scripts/docker-test-env.sh start");
        }
        SimNvml.use(SimNvml.machine("server-8x-h100.conf"), null);
        try (NvmlGpuDriver nvml = NvmlGpuDriver.open(SimNvml.library(), Clock.SYSTEM)) {
            List<GpuDevice> gpus = new ArrayList<>();
            for (int i = 0; i < nvml.deviceCount(); i++) {
                gpus.add(nvml.describe(i));
            }
            inventory = new GpuInventory(nvml.driverInfo(), gpus);
        }
        assertThat(inventory.driver().cudaDriverVersion()).as("the simulated driver").isEqualTo("12.4");
    }

    @AfterEach
    void clean() throws Exception {
        for (ContainerState c : runtime.list(Collections.singletonMap(LaunchPolicy.LABEL_SESSION, null))) {
            if (c.name().startsWith("gpu-agent-it-gpu-")) {
                runtime.remove(c.id());
                runtime.removeNetwork(c.name());
            }
        }
        for (String image : images) {
            docker("rmi", "-f", image);
        }
        runtime.close();
    }

    /** A local image from the busybox test image whose config adds these ENV lines. */
    private String imageWith(String tag, String... envLines) throws Exception {
        String from = "gpu-agent-it-gpu-base-" + tag;
        docker("create", "--name", from, "--network", "none", BASE, "true");
        List<String> cmd = new ArrayList<>(List.of("commit"));
        for (String line : envLines) {
            cmd.add("--change");
            cmd.add("ENV " + line);
        }
        String image = "gpu-agent-test/gpu-access:" + tag;
        cmd.add(from);
        cmd.add(image);
        docker(cmd.toArray(String[]::new));
        docker("rm", "-f", from);
        images.add(image);
        return image;
    }

    private String docker(String... args) throws Exception {
        List<String> c = new ArrayList<>(List.of("docker", "-H", "unix://" + socket));
        c.addAll(List.of(args));
        Process p = new ProcessBuilder(c).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", c) + ": " + out).isZero();
        return out;
    }

    private List<String> configEnv(String name) throws Exception {
        List<String> env = new ArrayList<>();
        JSON.readTree(docker("inspect", name)).get(0).get("Config").get("Env").forEach(e -> env.add(e.asText()));
        return env;
    }

    /** process.env of the OCI spec the engine handed to runc for a running container. */
    private List<String> ociProcessEnv(String containerId) throws Exception {
        Path bundle = socket.getParent().resolve("exec/containerd/io.containerd.runtime.v2.task/moby")
                .resolve(containerId).resolve("config.json");
        assertThat(bundle).as("the OCI spec under the test engine's containerd state (scripts/docker-test-env.sh)").exists();
        List<String> env = new ArrayList<>();
        JSON.readTree(Files.readString(bundle)).get("process").get("env").forEach(e -> env.add(e.asText()));
        return env;
    }

    private static LaunchRequest request(String id, String image, Map<String, String> env) {
        return new LaunchRequest(id, "rental-" + id, "0xRenter", 1, List.of(), image, List.of("sleep", "600"), env,
                List.of(), null, "100", 3600);
    }

    private SessionCore core(Journal journal, String mode, List<String> gpus) throws Exception {
        AgentConfig c = ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=" + mode,
                "sessions.memory_per_gpu_mb=256", "sessions.cpus_per_gpu=1", "sessions.disk_per_gpu_gb=0"));
        return SessionCore.builder().runtime(runtime).journal(journal)
                .policy(new LaunchPolicy(c.sessions(), CudaCheck.of(inventory)))
                .gpus(new GpuAllocator(gpus, u -> true), gpus.size())
                .ports(new PortAllocator(FIRST_HOST_PORT, FIRST_HOST_PORT + 9)).clock(Clock.SYSTEM).epoch(1)
                .stopGrace(Duration.ofSeconds(2)).fatal(t -> fail("fatal: " + t)).engineExecutors(Runnable::run, Runnable::run)
                .build();
    }

    private static SessionView settled(SessionCore m, String id) {
        await().atMost(Duration.ofSeconds(60)).until(() -> m.get(id).orElseThrow().state().terminal()
                || m.get(id).orElseThrow().state() == SessionState.RUNNING);
        return m.get(id).orElseThrow();
    }

    @Test
    void anImageBakingVisibleDevicesAllGetsVoidInNoneModeInTheEnginesOwnSpec() throws Exception {
        String image = imageWith("all", "NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_IMEX_CHANNELS=0",
                "NVIDIA_MIG_CONFIG_DEVICES=all", "NVIDIA_REQUIRE_CUDA=cuda>=12.2");
        String gpu = inventory.gpus().get(0).uuid();
        try (Journal journal = Journal.open(dir.resolve("journal"), Clock.SYSTEM, r -> { })) {
            SessionCore m = core(journal, "none", List.of(gpu));
            m.launch(request("it-gpu-none", image, Map.of("NVIDIA_VISIBLE_DEVICES", "all")));
            SessionView v = settled(m, "it-gpu-none");
            assertThat(v.state()).as(v.toString()).isEqualTo(SessionState.RUNNING);

            List<String> env = configEnv("gpu-agent-it-gpu-none");
            assertThat(env).contains("NVIDIA_VISIBLE_DEVICES=void", "NVIDIA_IMEX_CHANNELS=void", "NVIDIA_MIG_CONFIG_DEVICES=",
                    "NVIDIA_REQUIRE_CUDA=cuda>=12.2").doesNotContain("NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_IMEX_CHANNELS=0",
                    "NVIDIA_MIG_CONFIG_DEVICES=all");
            List<String> oci = ociProcessEnv(v.containerId());
            assertThat(oci).as("what a prestart hook would read").contains("NVIDIA_VISIBLE_DEVICES=void")
                    .noneMatch(e -> e.equals("NVIDIA_VISIBLE_DEVICES=all") || e.equals("NVIDIA_IMEX_CHANNELS=0"));
            assertThat(oci.stream().filter(e -> e.startsWith("NVIDIA_VISIBLE_DEVICES="))).as("one value only").hasSize(1);
            assertThat(docker("exec", "gpu-agent-it-gpu-none", "sh", "-c", "echo $NVIDIA_VISIBLE_DEVICES").strip())
                    .as("the program's own environment").isEqualTo("void");
            m.stop("it-gpu-none", "test_end");
            await().atMost(Duration.ofSeconds(30)).until(() -> m.get("it-gpu-none").orElseThrow().state().terminal());
            m.close();
        }
    }

    @Test
    void inNvidiaAndCdiModesTheCreatedContainerCarriesTheAgentsValueNotTheImages() throws Exception {
        String image = imageWith("all-modes", "NVIDIA_VISIBLE_DEVICES=all", "DOCKER_RESOURCE_GPU=all");
        List<String> units = List.of(inventory.gpus().get(2).uuid(), inventory.gpus().get(3).uuid());
        for (String mode : List.of("nvidia", "cdi")) {
            AgentConfig c = ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=" + mode,
                    "sessions.memory_per_gpu_mb=128", "sessions.cpus_per_gpu=1", "sessions.disk_per_gpu_gb=0"));
            LaunchPolicy policy = new LaunchPolicy(c.sessions(), CudaCheck.of(inventory));
            ContainerSpec spec = policy.containerSpec(request("it-gpu-" + mode, image, Map.of()), units, List.of(), 1, 1);
            runtime.createNetwork(spec.network(), Map.of(LaunchPolicy.LABEL_SESSION, "it-gpu-" + mode));
            runtime.create(spec); // never started: no NVIDIA runtime or CDI on the test engine

            String expected = mode.equals("nvidia") ? String.join(",", units) : "void";
            assertThat(configEnv(spec.name())).as(mode).contains("NVIDIA_VISIBLE_DEVICES=" + expected,
                    "DOCKER_RESOURCE_GPU=" + expected).doesNotContain("NVIDIA_VISIBLE_DEVICES=all", "DOCKER_RESOURCE_GPU=all");
            JsonNode requests = JSON.readTree(docker("inspect", spec.name())).get(0).get("HostConfig").get("DeviceRequests");
            List<String> ids = new ArrayList<>();
            requests.get(0).get("DeviceIDs").forEach(x -> ids.add(x.asText()));
            assertThat(ids).as(mode + ": the device request names exactly the units")
                    .containsExactlyElementsOf(mode.equals("nvidia") ? units : units.stream().map(u -> "nvidia.com/gpu=" + u).toList());
        }
    }

    @Test
    void anImageNeedingCuda128IsRefusedOnTheSimulatedCuda124DriverBeforeAnyContainerAndCuda122Runs() throws Exception {
        String newer = imageWith("cuda-12.8", "NVIDIA_REQUIRE_CUDA=cuda>=12.8", "CUDA_VERSION=12.8.1");
        String older = imageWith("cuda-12.2", "NVIDIA_REQUIRE_CUDA=cuda>=12.2", "CUDA_VERSION=12.2.2");
        String gpu = inventory.gpus().get(1).uuid();
        try (Journal journal = Journal.open(dir.resolve("journal"), Clock.SYSTEM, r -> { })) {
            SessionCore m = core(journal, "none", List.of(gpu));
            m.launch(request("it-gpu-cuda128", newer, Map.of()));
            SessionView refused = settled(m, "it-gpu-cuda128");
            assertThat(refused.state()).isEqualTo(SessionState.FAILED);
            assertThat(refused.endReason().code()).isEqualTo("image_cuda_unsupported");
            assertThat(refused.reason()).contains("CUDA 12.8").contains("CUDA 12.4").contains("550.54.15");
            assertThat(refused.containerId()).isNull();
            assertThat(runtime.inspect("gpu-agent-it-gpu-cuda128")).as("no container").isEmpty();
            assertThat(docker("network", "ls", "--format", "{{.Name}}")).doesNotContain("gpu-agent-it-gpu-cuda128");

            m.launch(request("it-gpu-cuda122", older, Map.of()));
            SessionView ran = settled(m, "it-gpu-cuda122");
            assertThat(ran.state()).as(ran.toString()).isEqualTo(SessionState.RUNNING);
            assertThat(ran.gpus()).as("the GPU the refused session freed").containsExactly(gpu);
            m.stop("it-gpu-cuda122", "test_end");
            await().atMost(Duration.ofSeconds(30)).until(() -> m.get("it-gpu-cuda122").orElseThrow().state().terminal());
            m.close();
        }
    }
}
