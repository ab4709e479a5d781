package io.gpuagent.session;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The toolkit's requirement language: alternatives separated by spaces, factors by commas;
 * versions compared part by part; brand by word. The strings are NVIDIA's own, from the CUDA
 * images' {@code ENV NVIDIA_REQUIRE_CUDA} (nvidia/cuda 11.8.0, 12.4.1, 12.8.1).
 */
class CudaRequirementTest {
    /** nvidia/cuda:11.8.0: 10 brands on the 470 branch. */
    static final String CUDA_11_8 = "cuda>=11.8" + brands("470", "tesla", "unknown", "nvidia", "nvidiartx", "geforce",
            "geforcertx", "quadro", "quadrortx", "titan", "titanrtx");
    /** nvidia/cuda:12.4.1: the same 10 brands on the 470, 525 and 535 branches. */
    static final String CUDA_12_4 = "cuda>=12.4" + brands("470", "tesla", "unknown", "nvidia", "nvidiartx", "geforce",
            "geforcertx", "quadro", "quadrortx", "titan", "titanrtx") + brands("525", "tesla", "unknown", "nvidia",
            "nvidiartx", "geforce", "geforcertx", "quadro", "quadrortx", "titan", "titanrtx") + brands("535", "tesla",
            "unknown", "nvidia", "nvidiartx", "geforce", "geforcertx", "quadro", "quadrortx", "titan", "titanrtx");
    /**
     * nvidia/cuda:12.8.1: data-center and virtual brands only (no GeForce); its 470, 535 and 550
     * branches (the image's string goes on with later ones).
     */
    static final String CUDA_12_8 = "cuda>=12.8" + brands12x("470") + brands12x("535") + brands12x("550");

    private static String brands12x(String branch) {
        return brands(branch, "unknown", "grid", "tesla", "nvidia", "quadro", "quadrortx", "nvidiartx", "vapps", "vpc",
                "vcs", "vws", "cloudgaming");
    }

    private static String brands(String branch, String... names) {
        int next = Integer.parseInt(branch) + 1;
        return java.util.Arrays.stream(names).map(b -> " brand=" + b + ",driver>=" + branch + ",driver<" + next)
                .collect(Collectors.joining());
    }

    private static CudaRequirement.Facts host(String cuda, String driver, String brand) {
        return new CudaRequirement.Facts(cuda, driver, "9.0", brand);
    }

    @Test
    void nvidiasStringsParseIntoTheirAlternatives() throws Exception {
        CudaRequirement r = CudaRequirement.parse("NVIDIA_REQUIRE_CUDA", CUDA_12_4);
        assertThat(r.terms()).hasSize(31);
        assertThat(r.terms().get(0)).extracting(Object::toString).containsExactly("cuda>=12.4");
        assertThat(r.terms().get(1)).extracting(Object::toString).containsExactly("brand=tesla", "driver>=470", "driver<471");
        assertThat(r.cudaNeeded()).contains("12.4");
        assertThat(CudaRequirement.parse("NVIDIA_REQUIRE_CUDA", CUDA_12_8).terms()).hasSize(37);
    }

    /** cuda, driver, brand of the host; expected. */
    @ParameterizedTest(name = "{0} on CUDA {1}, driver {2}, {3}: {4}")
    @CsvSource(delimiter = '|', value = {
            "12.4 | 12.4 | 550.54.15 | geforce | true",
            "12.4 | 12.3 | 545.23.08 | tesla   | false",
            "12.4 | 12.2 | 535.104.05 | tesla  | true",   // the 535 branch, forward compatibility
            "12.4 | 12.2 | 535.104.05 | geforce | true",  // 12.4 still lists GeForce on 535
            "12.8 | 12.4 | 550.54.15 | tesla   | true",   // the 550 branch: forward compatibility on a data-center GPU
            "12.8 | 12.4 | 550.54.15 | geforce | false",  // ... but not on a GeForce: 12.8 lists none
            "12.8 | 12.4 | 550.54.15 | nvidia  | true",   // an H100's NVML brand
            "12.8 | 12.4 | 550.54.15 |         | true",   // brand unknown to the agent: judged on the driver alone
            "12.8 | 12.8 | 570.86.15 | geforce | true",
            "12.8 | 12.6 | 560.35.03 | tesla   | false",  // a branch this string does not list
            "11.8 | 12.4 | 550.54.15 | geforce | true",
            "11.8 | 11.4 | 470.82.01 | geforce | true",
            "11.8 | 11.6 | 510.47.03 | tesla   | false",
    })
    void nvidiasImagesAgainstRealDrivers(String image, String cuda, String driver, String brand, boolean expected)
            throws Exception {
        String text = switch (image) {
            case "11.8" -> CUDA_11_8;
            case "12.4" -> CUDA_12_4;
            default -> CUDA_12_8;
        };
        assertThat(CudaRequirement.parse("NVIDIA_REQUIRE_CUDA", text).satisfiedBy(host(cuda, driver, brand)))
                .isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} with CUDA 12.4, driver 550.54.15, arch 8.6, GeForce: {1}")
    @CsvSource(delimiter = '|', value = {
            "cuda>=12.4             | true",
            "cuda>=12.4.0           | true",   // missing parts are zero
            "cuda>=12.4.1           | false",
            "cuda>12.4              | false",
            "cuda=12.4              | true",
            "cuda!=12.4             | false",
            "cuda<=12.10            | true",   // 10 > 4: numbers, not text
            "CUDA>=12.2             | true",   // names in any case
            "cuda>=12.8  cuda>=12.2 | true",   // doubled space: an empty alternative, skipped
            "'cuda>=12.2,,arch>=8.0' | true",  // doubled comma: an empty factor, skipped
            "arch>=9.0              | false",
            "brand=GeForce          | true",   // brands in any case
            "brand!=geforce         | false",
            "driver>=550,driver<551 | true",
            "''                     | true",   // nothing required
    })
    void factorsAlternativesAndComparisons(String text, boolean expected) throws Exception {
        CudaRequirement.Facts f = new CudaRequirement.Facts("12.4", "550.54.15", "8.6", "geforce");
        assertThat(CudaRequirement.parse("NVIDIA_REQUIRE_CUDA", text).satisfiedBy(f)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} is refused: {1}")
    @CsvSource(delimiter = '|', value = {
            "cuda                      | not NAME OP VALUE",
            "cuda>=                    | not NAME OP VALUE",
            ">=12.4                    | not NAME OP VALUE",
            "cuda==12.4                | unknown operator ==",
            "cuda=>12.4                | unknown operator =>",
            "cuda>=12.4a               | is not a version",
            "cuda>=twelve              | is not a version",
            "brand>=tesla              | a brand takes only = or !=",
            "gpu>=1                    | unknown property gpu",
            "cuda>=12.2 brand=tesla,driver>=x | is not a version",   // even in an alternative the toolkit would not reach
    })
    void aMalformedRequirementIsATypedErrorThatNamesIt(String text, String why) {
        assertThatThrownBy(() -> CudaRequirement.parse("NVIDIA_REQUIRE_CUDA", text))
                .isInstanceOfSatisfying(ImageCudaException.class, e -> assertThat(e.code()).isEqualTo(ImageCudaException.INVALID))
                .hasMessageContaining("NVIDIA_REQUIRE_CUDA=\"" + text + "\"").hasMessageContaining(why);
    }

    @Test
    void versionsCompareByNumbers() {
        assertThat(CudaRequirement.compareVersions("12.10", "12.9")).isPositive();
        assertThat(CudaRequirement.compareVersions("12.4", "12.4.0.0")).isZero();
        assertThat(CudaRequirement.compareVersions("550.54.15", "551")).isNegative();
        assertThat(IntStream.of(1, 2).mapToObj(i -> CudaRequirement.compareVersions("9." + i, "10.0"))).allMatch(c -> c < 0);
    }
}
