package io.gpuagent.session;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.container.FakeContainerRuntime;
import io.gpuagent.journal.FakeJournalFiles;
import io.gpuagent.journal.Journal;
import io.gpuagent.journal.JournalOptions;
import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Where the CUDA check sits in a launch: an image already local is judged before any pull; one
 * that is not, right after its pull; a refused one leaves no container or network, frees its
 * GPUs, and fails the session with the stable code, as other launch failures do.
 */
class CudaAtLaunchTest {
    private static final String NEW = "docker.io/example/cuda:12.8";
    private static final String OLD = "docker.io/example/cuda:12.2";
    private final ManualClock clock = new ManualClock();
    private final FakeContainerRuntime engine = new FakeContainerRuntime(clock);
    private final GpuAllocator gpus = new GpuAllocator(List.of("GPU-a", "GPU-b"), u -> true);
    private Journal journal;
    private SessionCore core;

    @BeforeEach
    void open() throws Exception {
        journal = Journal.open(new FakeJournalFiles(), JournalOptions.DEFAULTS, clock, r -> { });
        AgentConfig c = ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=nvidia"));
        CudaCheck driver = new CudaCheck("12.4", "550.54.15", Map.of());
        core = SessionCore.builder().runtime(engine).journal(journal).policy(new LaunchPolicy(c.sessions(), driver))
                .gpus(gpus, 2).ports(new PortAllocator(40000, 40009)).clock(clock).stopGrace(Duration.ofSeconds(1))
                .fatal(t -> { throw new AssertionError(t); }).build();
    }

    @AfterEach
    void close() {
        core.close();
        journal.close();
    }

    private static LaunchRequest request(String id, String image, Map<String, String> env) {
        return new LaunchRequest(id, "r-" + id, "0xRenter", 1, List.of(), image, FakeContainerRuntime.runUntilTerm(0),
                env, List.of(), null, "100", 3600);
    }

    private SessionView settled(String id) {
        await().atMost(Duration.ofSeconds(10)).until(() -> core.get(id).orElseThrow().state().terminal()
                || core.get(id).orElseThrow().state() == SessionState.RUNNING);
        return core.get(id).orElseThrow();
    }

    @Test
    void aLocalImageNeedingANewerCudaIsRefusedBeforeAnyPullAndLeavesNothing() throws Exception {
        engine.addImage(NEW, Map.of("NVIDIA_REQUIRE_CUDA", "cuda>=12.8", "NVIDIA_VISIBLE_DEVICES", "all"), Map.of());
        core.launch(request("s-new", NEW, Map.of()));

        SessionView v = settled("s-new");

        assertThat(v.state()).isEqualTo(SessionState.FAILED);
        assertThat(v.endReason()).isEqualTo(EndReason.IMAGE_CUDA_UNSUPPORTED);
        assertThat(v.endReason().code()).isEqualTo("image_cuda_unsupported");
        assertThat(v.reason()).contains("CUDA 12.8").contains("CUDA 12.4");
        assertThat(v.billedSeconds()).isZero();
        assertThat(engine.calls("pull")).as("no pull").isZero();
        assertThat(engine.calls("create")).as("no container").isZero();
        assertThat(engine.calls("createNetwork")).as("no network").isZero();
        assertThat(engine.list(Map.of())).isEmpty();
        assertThat(gpus.free()).as("the GPU is back").extracting(GpuUnit::uuid).containsExactlyInAnyOrder("GPU-a", "GPU-b");
        assertThat(core.failureCounts()).containsEntry("image_cuda_unsupported", 1L);
    }

    @Test
    void anImageThatIsNotLocalIsJudgedRightAfterItsPullBeforeCreate() throws Exception {
        engine.registryHas(NEW, 1 << 20, Map.of("NVIDIA_REQUIRE_CUDA", "cuda>=12.8"));
        core.launch(request("s-pulled", NEW, Map.of()));

        SessionView v = settled("s-pulled");

        assertThat(v.endReason()).isEqualTo(EndReason.IMAGE_CUDA_UNSUPPORTED);
        assertThat(engine.calls("pull")).isEqualTo(1);
        assertThat(engine.calls("create")).isZero();
        assertThat(gpus.free()).hasSize(2);
    }

    @Test
    void anImageTheDriverCanRunStartsAndGetsOnlyItsGpu() throws Exception {
        engine.addImage(OLD, Map.of("NVIDIA_REQUIRE_CUDA", "cuda>=12.2", "NVIDIA_VISIBLE_DEVICES", "all"), Map.of());
        core.launch(request("s-old", OLD, Map.of()));

        SessionView v = settled("s-old");

        assertThat(v.state()).isEqualTo(SessionState.RUNNING);
        assertThat(engine.inspect("gpu-agent-s-old").orElseThrow().gpuUuids()).isEqualTo(v.gpus());
    }

    @Test
    void aMalformedRequirementIsRefusedWithItsOwnCode() throws Exception {
        engine.addImage(NEW, Map.of("NVIDIA_REQUIRE_CUDA", "cuda>=12.x"), Map.of());
        core.launch(request("s-bad", NEW, Map.of()));

        SessionView v = settled("s-bad");

        assertThat(v.endReason()).isEqualTo(EndReason.IMAGE_CUDA_REQUIREMENT_INVALID);
        assertThat(v.reason()).contains("NVIDIA_REQUIRE_CUDA").contains("12.x");
        assertThat(engine.calls("create")).isZero();
    }

    @Test
    void theRenterCannotTurnTheCheckOffButTheirCudaVersionCounts() throws Exception {
        engine.addImage(OLD, Map.of("CUDA_VERSION", "12.2.2"), Map.of());
        core.launch(request("s-dis", OLD, Map.of("NVIDIA_DISABLE_REQUIRE", "1", "CUDA_VERSION", "12.6.0")));

        SessionView v = settled("s-dis");

        assertThat(v.endReason()).as("the renter's CUDA_VERSION is the container's, NVIDIA_* is stripped")
                .isEqualTo(EndReason.IMAGE_CUDA_UNSUPPORTED);
        assertThat(v.reason()).contains("12.6");
    }
}
