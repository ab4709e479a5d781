package io.gpuagent.session;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.container.ContainerSpec;
import io.gpuagent.container.GpuAttachMode;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LaunchPolicyTest {
    private static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl renter@laptop";

    private static LaunchPolicy policy(String... sets) throws Exception {
        AgentConfig c = ConfigLoader.load(null, Map.of(), List.of(sets));
        return new LaunchPolicy(c.sessions());
    }

    private static LaunchRequest request(String image, Map<String, String> env, List<Integer> ports, String key) {
        return new LaunchRequest("sess-1", "42", "0xRenter", 2, List.of(), image, List.of("sleep", "60"), env, ports,
                key, "1000", 3600);
    }

    private static LaunchRequest ok() {
        return request("docker.io/pytorch/pytorch:2.4", Map.of("A", "1"), List.of(22, 8888), KEY);
    }

    @Test
    void anAcceptedRequestBecomesAHardenedContainer() throws Exception {
        LaunchPolicy p = policy("sessions.memory_per_gpu_mb=1024", "sessions.cpus_per_gpu=2", "sessions.disk_per_gpu_gb=5");
        LaunchRequest r = request("docker.io/pytorch/pytorch:2.4",
                Map.of("A", "1", "NVIDIA_VISIBLE_DEVICES", "all", "nvidia_driver_capabilities", "all"), List.of(22), KEY);
        p.check(r, 4);
        ContainerSpec s = p.containerSpec(r, List.of("GPU-a", "GPU-b"), List.of(40000), 7, 1234);
        assertThat(s.name()).isEqualTo("gpu-agent-sess-1");
        assertThat(s.network()).isEqualTo("gpu-agent-sess-1");
        assertThat(s.gpuMode()).isEqualTo(GpuAttachMode.NVIDIA);
        assertThat(s.gpuUuids()).containsExactly("GPU-a", "GPU-b");
        assertThat(s.env()).as("renter NVIDIA_* stripped, the agent's pinned").containsEntry("A", "1")
                .containsEntry("NVIDIA_VISIBLE_DEVICES", "GPU-a,GPU-b").doesNotContainKey("nvidia_driver_capabilities")
                .doesNotContainKey("NVIDIA_DRIVER_CAPABILITIES");
        assertThat(s.capAdd()).isEqualTo(LaunchPolicy.CAP_ADD).doesNotContain("SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE");
        assertThat(s.securityOpts()).containsExactly("no-new-privileges:true");
        assertThat(s.memoryBytes()).isEqualTo(2L * 1024 * 1024 * 1024);
        assertThat(s.nanoCpus()).isEqualTo(4_000_000_000L);
        assertThat(s.diskBytes()).isEqualTo(10L * 1024 * 1024 * 1024);
        assertThat(s.pidsLimit()).isEqualTo(4096);
        assertThat(s.log()).as("the default cap, per session however many GPUs")
                .isEqualTo(new ContainerSpec.LogLimit(10L << 20, 3));
        assertThat(s.ports()).containsExactly(new ContainerSpec.PortBinding(22, "tcp", "0.0.0.0", 40000));
        assertThat(s.labels()).containsEntry(LaunchPolicy.LABEL_SESSION, "sess-1").containsEntry(LaunchPolicy.LABEL_RENTAL, "42")
                .containsEntry(LaunchPolicy.LABEL_RENTER, "0xRenter").containsEntry(LaunchPolicy.LABEL_EPOCH, "7")
                .containsEntry(LaunchPolicy.LABEL_JOURNAL, "1234");
        assertThat(s.files()).singleElement().satisfies(f -> {
            assertThat(f.path()).isEqualTo("/root/.ssh/authorized_keys");
            assertThat(new String(f.content(), StandardCharsets.UTF_8)).isEqualTo(KEY + "\n");
            assertThat(f.mode()).isEqualTo(0600);
        });
    }

    @Test
    void withoutGpuAttachmentNoGpusAreAttachedAndNoDiskLimitWhenZero() throws Exception {
        LaunchPolicy p = policy("sessions.gpu_attach=none", "sessions.disk_per_gpu_gb=0");
        ContainerSpec s = p.containerSpec(ok(), List.of("GPU-a"), List.of(40000, 40001), 1, 1);
        assertThat(s.gpuMode()).isEqualTo(GpuAttachMode.NONE);
        assertThat(s.gpuUuids()).isEmpty();
        assertThat(s.diskBytes()).isNull();
    }

    @Test
    void theLogCapIsTheOwnersWhateverTheRequest() throws Exception {
        LaunchPolicy p = policy("sessions.log_max_size_mb=2", "sessions.log_max_files=4");
        ContainerSpec s = p.containerSpec(ok(), List.of("GPU-a", "GPU-b", "GPU-c"), List.of(40000, 40001), 1, 1);
        assertThat(s.log()).isEqualTo(new ContainerSpec.LogLimit(2L << 20, 4));
        assertThat(s.log().totalBytes()).isEqualTo(8L << 20);
    }

    @Test
    void imagesFollowTheAllowAndDenyLists() throws Exception {
        LaunchPolicy p = policy("sessions.allowed_images=docker.io/pytorch/*,nvcr.io/nvidia/**",
                "sessions.denied_images=**:latest");
        p.check(request("pytorch/pytorch:2.4", Map.of(), List.of(), null), 4);
        p.check(request("nvcr.io/nvidia/cuda/base:12.4", Map.of(), List.of(), null), 4);
        assertThatThrownBy(() -> p.check(request("docker.io/library/ubuntu:22.04", Map.of(), List.of(), null), 4))
                .isInstanceOfSatisfying(PolicyViolationException.class, e -> assertThat(e.rule()).isEqualTo("image_not_allowed"))
                .hasMessageContaining("docker.io/library/ubuntu:22.04");
        assertThatThrownBy(() -> p.check(request("pytorch/pytorch", Map.of(), List.of(), null), 4))
                .isInstanceOfSatisfying(PolicyViolationException.class, e -> assertThat(e.rule()).isEqualTo("image_denied"));
    }

    @Test
    void everyRuleRejectsWithItsNameAndTheValue() throws Exception {
        LaunchPolicy p = policy("sessions.max_ports=2", "sessions.max_duration_s=7200");
        assertRule(p, new LaunchRequest("Bad Id", "1", "r", 1, List.of(), "busybox", List.of(), Map.of(), List.of(), null,
                "1", 60), "session_id");
        assertRule(p, request("Ubuntu;rm -rf", Map.of(), List.of(), null), "image");
        assertRule(p, request("busybox", Map.of("1BAD", "x"), List.of(), null), "env");
        assertRule(p, request("busybox", Map.of(), List.of(1, 2, 3), null), "ports");
        assertRule(p, request("busybox", Map.of(), List.of(80, 80), null), "ports");
        assertRule(p, request("busybox", Map.of(), List.of(70000), null), "ports");
        assertRule(p, request("busybox", Map.of(), List.of(), "not a key"), "ssh_key");
        assertRule(p, request("busybox", Map.of(), List.of(), KEY + "\nssh-rsa AAAA second"), "ssh_key");
        assertRule(p, new LaunchRequest("s", "1", "r", 5, List.of(), "busybox", List.of(), Map.of(), List.of(), null,
                "1", 60), "gpu_count");
        assertRule(p, new LaunchRequest("s", "1", "r", 1, List.of(), "busybox", List.of(), Map.of(), List.of(), null,
                "-3", 60), "price");
        assertRule(p, new LaunchRequest("s", "1", "r", 1, List.of(), "busybox", List.of(), Map.of(), List.of(), null,
                "1", 7201), "max_duration");
        assertRule(p, new LaunchRequest("s", "", "r", 1, List.of(), "busybox", List.of(), Map.of(), List.of(), null,
                "1", 60), "rental_id");
        assertRule(p, new LaunchRequest("s", "1", "r", 1, List.of(), "busybox", List.of("a\0b"), Map.of(), List.of(), null,
                "1", 60), "command");
    }

    @Test
    void aLaunchWithoutARenterIsAcceptedAsProtocolMdSaysAndABadOneIsRefused() throws Exception {
        // issue 10 (conformance): protocol.md lists renter as optional; vouchers are checked against the
        // rental's voucher signer, never against it
        LaunchPolicy p = policy();
        p.check(new LaunchRequest("s", "1", "", 1, List.of(), "busybox", List.of("true"), Map.of(), List.of(), null, "1", 60), 4);
        p.check(new LaunchRequest("s", "1", null, 1, List.of(), "busybox", List.of("true"), Map.of(), List.of(), null, "1", 60), 4);
        assertRule(p, new LaunchRequest("s", "1", "r".repeat(129), 1, List.of(), "busybox", List.of("true"), Map.of(),
                List.of(), null, "1", 60), "renter");
        assertRule(p, new LaunchRequest("s", "1", "0xab\ncd", 1, List.of(), "busybox", List.of("true"), Map.of(),
                List.of(), null, "1", 60), "renter");
    }

    private static void assertRule(LaunchPolicy p, LaunchRequest r, String rule) {
        assertThatThrownBy(() -> p.check(r, 4)).isInstanceOfSatisfying(PolicyViolationException.class,
                e -> assertThat(e.rule()).isEqualTo(rule));
    }

    @Test
    void imageReferencesAreNormalisedForMatching() {
        assertThat(ImagePattern.normalise("ubuntu")).isEqualTo("docker.io/library/ubuntu:latest");
        assertThat(ImagePattern.normalise("pytorch/pytorch:2.4")).isEqualTo("docker.io/pytorch/pytorch:2.4");
        assertThat(ImagePattern.normalise("nvcr.io/nvidia/cuda:12.4")).isEqualTo("nvcr.io/nvidia/cuda:12.4");
        assertThat(ImagePattern.normalise("localhost:5000/x")).isEqualTo("localhost:5000/x:latest");
        assertThat(new ImagePattern("docker.io/pytorch/*").matches("docker.io/pytorch/pytorch:2.4")).isTrue();
        assertThat(new ImagePattern("docker.io/pytorch/*").matches("docker.io/pytorch/x/y:1")).isFalse();
        assertThat(new ImagePattern("nvcr.io/**").matches("nvcr.io/nvidia/x/y:1")).isTrue();
    }

    @Test
    void portsComeFromTheOwnersRangeOncePerSession() throws Exception {
        PortAllocator ports = new PortAllocator(40000, 40002);
        assertThat(ports.allocate("a", 2)).containsExactly(40000, 40001);
        assertThat(ports.allocate("a", 2)).containsExactly(40000, 40001);
        assertThatThrownBy(() -> ports.allocate("b", 2)).isInstanceOfSatisfying(PolicyViolationException.class,
                e -> assertThat(e.rule()).isEqualTo("ports_exhausted"));
        assertThat(ports.heldBy("b")).isEmpty();
        ports.release("a");
        assertThat(ports.allocate("b", 2)).containsExactly(40000, 40001);
    }
}
