package io.gpuagent.session;

import io.gpuagent.gpu.DriverInfo;
import io.gpuagent.gpu.GpuInventory;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which of an image's variables count, and how, as the toolkit's hook reads them (cuda_image.go). */
class CudaCheckTest {
    private static final String H100 = "GPU-h100";
    private static final String RTX = "GPU-4090";
    private final CudaCheck host = new CudaCheck("12.4", "550.54.15", Map.of(
            H100, new CudaRequirement.Facts(null, null, "9.0", CudaCheck.brandWord("NVIDIA")),
            RTX, new CudaRequirement.Facts(null, null, "8.9", CudaCheck.brandWord("GEFORCE"))));

    private static ImageCudaException refused(CudaCheck c, Map<String, String> env, String... gpus) {
        try {
            c.check("example/cuda:x", env, List.of(gpus));
        } catch (ImageCudaException e) {
            return e;
        }
        throw new AssertionError("not refused: " + env);
    }

    @Test
    void aNewerCudaIsRefusedWithBothVersionsNamed() {
        ImageCudaException e = refused(host, Map.of("NVIDIA_REQUIRE_CUDA", "cuda>=12.8", "CUDA_VERSION", "12.8.1"), H100);
        assertThat(e.code()).isEqualTo("image_cuda_unsupported");
        assertThat(e.getMessage()).contains("example/cuda:x").contains("needs CUDA 12.8").contains("supports CUDA 12.4")
                .contains("550.54.15").contains("NVIDIA_REQUIRE_CUDA=cuda>=12.8");
    }

    @Test
    void anOlderOrEqualCudaRuns() {
        assertThatCode(() -> host.check("i", Map.of("NVIDIA_REQUIRE_CUDA", "cuda>=12.2"), List.of(H100, RTX)))
                .doesNotThrowAnyException();
        assertThatCode(() -> host.check("i", Map.of("NVIDIA_REQUIRE_CUDA", "cuda>=12.4"), List.of(H100)))
                .doesNotThrowAnyException();
        assertThatCode(() -> host.check("i", Map.of(), List.of(H100))).as("no requirement at all").doesNotThrowAnyException();
    }

    @Test
    void everyGpuOfTheSessionMustPassBrandAndArch() {
        Map<String, String> env = Map.of("NVIDIA_REQUIRE_CUDA", CudaRequirementTest.CUDA_12_8);
        assertThatCode(() -> host.check("i", env, List.of(H100))).as("forward compatibility on an NVIDIA-brand GPU")
                .doesNotThrowAnyException();
        assertThat(refused(host, env, H100, RTX).getMessage()).as("the GeForce of the pair fails")
                .contains("brand geforce").contains("compute capability 8.9");
        assertThat(refused(host, Map.of("NVIDIA_REQUIRE_ARCH", "arch>=9.0"), RTX).code()).isEqualTo("image_cuda_unsupported");
        assertThatCode(() -> host.check("i", env, List.of("MIG-0f1e"))).as("a GPU without facts: the driver decides")
                .doesNotThrowAnyException();
    }

    @Test
    void allRequireVariablesCountButJetpack() {
        assertThat(refused(host, Map.of("NVIDIA_REQUIRE_CUDA", "cuda>=12.0", "NVIDIA_REQUIRE_DRIVER", "driver>=555"), H100)
                .getMessage()).contains("NVIDIA_REQUIRE_DRIVER");
        assertThatCode(() -> host.check("i", Map.of("NVIDIA_REQUIRE_JETPACK", "csv-mounts=all"), List.of(H100)))
                .as("JetPack's is not a requirement (and not in this language)").doesNotThrowAnyException();
    }

    @Test
    void aLegacyImageRequiresItsCudaVersion() {
        assertThat(refused(host, Map.of("CUDA_VERSION", "12.6.3"), H100).getMessage()).contains("CUDA_VERSION=cuda>=12.6");
        assertThatCode(() -> host.check("i", Map.of("CUDA_VERSION", "12.4.1"), List.of(H100))).doesNotThrowAnyException();
        assertThatCode(() -> host.check("i", Map.of("CUDA_VERSION", "12.6.3", "NVIDIA_REQUIRE_CUDA", "cuda>=12.1"),
                List.of(H100))).as("NVIDIA_REQUIRE_CUDA wins over CUDA_VERSION").doesNotThrowAnyException();
        assertThat(refused(host, Map.of("CUDA_VERSION", "12.6.3", "NVIDIA_REQUIRE_CUDA", ""), H100).code())
                .as("an empty NVIDIA_REQUIRE_CUDA is a legacy image").isEqualTo("image_cuda_unsupported");
        assertThatThrownBy(() -> host.check("i", Map.of("CUDA_VERSION", "twelve"), List.of(H100)))
                .isInstanceOfSatisfying(ImageCudaException.class, e -> assertThat(e.code())
                        .isEqualTo("image_cuda_requirement_invalid")).hasMessageContaining("CUDA_VERSION=\"twelve\"");
    }

    @Test
    void disableRequireTurnsTheCheckOffAsTheToolkitDoes() {
        for (String yes : List.of("1", "t", "true", "TRUE", "True")) {
            assertThatCode(() -> host.check("i", Map.of("NVIDIA_REQUIRE_CUDA", "cuda>=13.0", "NVIDIA_DISABLE_REQUIRE", yes),
                    List.of(H100))).as(yes).doesNotThrowAnyException();
        }
        for (String no : List.of("0", "false", "yes", "")) {
            assertThat(refused(host, Map.of("NVIDIA_REQUIRE_CUDA", "cuda>=13.0", "NVIDIA_DISABLE_REQUIRE", no), H100).code())
                    .as(no).isEqualTo("image_cuda_unsupported");
        }
    }

    @Test
    void aHostWhoseCudaIsUnknownRefusesNothing() {
        assertThatCode(() -> CudaCheck.UNKNOWN_DRIVER.check("i", Map.of("NVIDIA_REQUIRE_CUDA", "cuda>=99"), List.of(H100)))
                .doesNotThrowAnyException();
        assertThat(new CudaCheck(" ", null, Map.of()).cudaVersion()).isEmpty();
    }

    @Test
    void theInventorysDriverAndBrandsAreUsed() {
        GpuInventory inv = new GpuInventory(new DriverInfo("/sim/libnvidia-ml.so.1", true, "550.54.15", "12.550.54.15", "12.4"),
                List.of());
        assertThat(CudaCheck.of(inv).cudaVersion()).contains("12.4");
        assertThat(CudaCheck.brandWord("GEFORCE_RTX")).isEqualTo("geforcertx");
        assertThat(CudaCheck.brandWord("NVIDIA_RTX")).isEqualTo("nvidiartx");
        assertThat(CudaCheck.brandWord("NVIDIA_CLOUD_GAMING")).isEqualTo("cloudgaming");
        assertThat(CudaCheck.brandWord("TESLA")).isEqualTo("tesla");
        assertThat(CudaCheck.brandWord("UNKNOWN(0)")).isEqualTo("unknown");
        assertThat(CudaCheck.brandWord(null)).isNull();
    }
}
