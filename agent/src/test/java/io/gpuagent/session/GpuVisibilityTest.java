package io.gpuagent.session;

import io.gpuagent.config.ConfigLoader;
import io.gpuagent.container.ContainerSpec;
import io.gpuagent.container.GpuAttachMode;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The variables through which an image could pick GPUs are the agent's in every mode: the
 * session's UUIDs in {@code nvidia} mode, {@code void} in {@code cdi} and {@code none}; a renter
 * can set none of them. The container's environment overrides the image's at create, which
 * DockerContainerRuntimeIT proves on the engine.
 */
class GpuVisibilityTest {
    private static final List<String> UNITS = List.of("GPU-1b6e5d2a-58c1-4a07-9a2e-0c1f6b0e7a11",
            "MIG-7c0f1e3b-2d44-5b8e-8f51-93a2d6c4e822");

    private static ContainerSpec spec(String mode, Map<String, String> renterEnv) throws Exception {
        LaunchPolicy p = new LaunchPolicy(ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=" + mode)).sessions());
        LaunchRequest r = new LaunchRequest("s-1", "r-1", "0xRenter", 2, List.of(), "docker.io/library/ubuntu:24.04",
                List.of(), renterEnv, List.of(), null, "1", 60);
        return p.containerSpec(r, UNITS, List.of(), 1, 2);
    }

    @Test
    void nvidiaModeNamesExactlyTheSessionsUnitsWholeGpuAndMig() throws Exception {
        ContainerSpec s = spec("nvidia", Map.of());
        assertThat(s.gpuMode()).isEqualTo(GpuAttachMode.NVIDIA);
        assertThat(s.env()).containsEntry("NVIDIA_VISIBLE_DEVICES", String.join(",", UNITS))
                .containsEntry("DOCKER_RESOURCE_GPU", String.join(",", UNITS))
                .containsEntry("NVIDIA_IMEX_CHANNELS", "void")
                .containsEntry("NVIDIA_MIG_CONFIG_DEVICES", "").containsEntry("NVIDIA_MIG_MONITOR_DEVICES", "");
    }

    @Test
    void cdiAndNoneModesSayVoidSoNoDefaultNvidiaRuntimeAddsAGpu() throws Exception {
        for (String mode : List.of("cdi", "none")) {
            ContainerSpec s = spec(mode, Map.of());
            assertThat(s.env()).as(mode).containsEntry("NVIDIA_VISIBLE_DEVICES", "void")
                    .containsEntry("DOCKER_RESOURCE_GPU", "void").containsEntry("NVIDIA_IMEX_CHANNELS", "void");
        }
        assertThat(spec("cdi", Map.of()).gpuUuids()).as("CDI still names the units").isEqualTo(UNITS);
        assertThat(spec("none", Map.of()).gpuUuids()).isEmpty();
    }

    @Test
    void aRenterCannotSetAnyOfThemNorWidenThroughOtherNvidiaVariables() throws Exception {
        ContainerSpec s = spec("cdi", Map.of("NVIDIA_VISIBLE_DEVICES", "all", "nvidia_visible_devices", "all",
                "DOCKER_RESOURCE_GPU", "all", "docker_resource_gpu", "all", "NVIDIA_IMEX_CHANNELS", "0",
                "NVIDIA_DRIVER_CAPABILITIES", "all", "NVIDIA_DISABLE_REQUIRE", "1", "KEEP", "me"));
        assertThat(s.env()).containsEntry("NVIDIA_VISIBLE_DEVICES", "void").containsEntry("DOCKER_RESOURCE_GPU", "void")
                .containsEntry("NVIDIA_IMEX_CHANNELS", "void").containsEntry("KEEP", "me")
                .doesNotContainKeys("nvidia_visible_devices", "docker_resource_gpu", "NVIDIA_DRIVER_CAPABILITIES",
                        "NVIDIA_DISABLE_REQUIRE");
        assertThat(s.env().values()).doesNotContain("all");
    }
}
