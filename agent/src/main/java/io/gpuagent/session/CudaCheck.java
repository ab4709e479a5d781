package io.gpuagent.session;

import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuInventory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether the host's driver can run an image, judged from the image's environment before any
 * container of it exists, with the NVIDIA Container Toolkit's rules
 * ({@code internal/config/image/cuda_image.go}):
 * <ul>
 *   <li>every {@code NVIDIA_REQUIRE_*} variable but {@code NVIDIA_REQUIRE_JETPACK*} is a
 *       {@link CudaRequirement}, and all of them must hold;</li>
 *   <li>a "legacy" image, with {@code CUDA_VERSION} but no (or an empty) {@code NVIDIA_REQUIRE_CUDA},
 *       requires {@code cuda>=MAJOR.MINOR} of its {@code CUDA_VERSION};</li>
 *   <li>{@code NVIDIA_DISABLE_REQUIRE} true (Go's {@code strconv.ParseBool}: 1, t, true, ...)
 *       turns the checks off: the image's author says it runs anyway (forward-compatibility
 *       libraries), and the toolkit would not check either;</li>
 *   <li>each requirement must hold for every GPU of the session (brand and compute capability are
 *       per GPU; a GPU whose facts are unknown, e.g. a MIG instance, is judged on the driver
 *       alone).</li>
 * </ul>
 * A host whose driver's CUDA version is unknown (no NVML, a CPU-only machine) refuses nothing:
 * {@link #UNKNOWN_DRIVER}. Immutable.
 */
public final class CudaCheck {
    /** Refuses nothing: the driver's CUDA version is not known. */
    public static final CudaCheck UNKNOWN_DRIVER = new CudaCheck(null, null, Map.of());

    static final String REQUIRE_PREFIX = "NVIDIA_REQUIRE_";
    static final String REQUIRE_CUDA = "NVIDIA_REQUIRE_CUDA";
    static final String REQUIRE_JETPACK = "NVIDIA_REQUIRE_JETPACK";
    static final String DISABLE_REQUIRE = "NVIDIA_DISABLE_REQUIRE";
    static final String CUDA_VERSION = "CUDA_VERSION";
    private static final Pattern LEGACY_VERSION = Pattern.compile("v?([0-9]{1,9})(?:\\.([0-9]{1,9}))?(?:\\.[0-9]{1,9})?(?:[-+].*)?");

    private final String cuda;
    private final String driver;
    private final Map<String, CudaRequirement.Facts> gpus;

    /**
     * @param cuda   the highest CUDA the driver supports ({@code 12.4}); null: unknown, nothing refused
     * @param driver the driver version ({@code 550.54.15}), or null
     * @param gpus   per GPU UUID its facts (cuda and driver fields are ignored: the host's count)
     */
    public CudaCheck(String cuda, String driver, Map<String, CudaRequirement.Facts> gpus) {
        this.cuda = blankToNull(cuda);
        this.driver = blankToNull(driver);
        this.gpus = Map.copyOf(gpus);
    }

    /** The driver and GPUs of a probed inventory. */
    public static CudaCheck of(GpuInventory inventory) {
        Map<String, CudaRequirement.Facts> gpus = new HashMap<>();
        for (GpuDevice d : inventory.gpus()) {
            gpus.put(d.uuid(), new CudaRequirement.Facts(null, null, d.computeCapability(), brandWord(d.brand())));
        }
        return new CudaCheck(inventory.driver().cudaDriverVersion(), inventory.driver().driverVersion(), gpus);
    }

    /** The highest CUDA the driver supports, when known. */
    public Optional<String> cudaVersion() {
        return Optional.ofNullable(cuda);
    }

    /**
     * Refuses an image the driver cannot run on these GPUs.
     *
     * @param image the image's name (for the message)
     * @param env   the environment the container would have (the image's, with the renter's on top)
     * @param gpuUuids the session's GPUs
     * @throws ImageCudaException {@link ImageCudaException#UNSUPPORTED} naming both CUDA versions, or
     *                            {@link ImageCudaException#INVALID} naming the malformed variable
     */
    public void check(String image, Map<String, String> env, List<String> gpuUuids) throws ImageCudaException {
        if (cuda == null) {
            return;
        }
        List<CudaRequirement> requirements = requirements(env);
        List<CudaRequirement.Facts> each = new ArrayList<>();
        for (String uuid : gpuUuids.isEmpty() ? List.of("") : gpuUuids) {
            CudaRequirement.Facts g = gpus.get(uuid);
            each.add(new CudaRequirement.Facts(cuda, driver, g == null ? null : g.arch(), g == null ? null : g.brand()));
        }
        for (CudaRequirement r : requirements) {
            for (CudaRequirement.Facts f : each) {
                if (!r.satisfiedBy(f)) {
                    throw unsupported(image, r, f, env);
                }
            }
        }
    }

    /** The requirements of an environment, in variable-name order (deterministic messages). */
    static List<CudaRequirement> requirements(Map<String, String> env) throws ImageCudaException {
        if (parseBool(env.get(DISABLE_REQUIRE))) {
            return List.of();
        }
        List<CudaRequirement> out = new ArrayList<>();
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            if (e.getKey().startsWith(REQUIRE_PREFIX) && !e.getKey().startsWith(REQUIRE_JETPACK)) {
                out.add(CudaRequirement.parse(e.getKey(), e.getValue()));
            }
        }
        String legacy = env.get(CUDA_VERSION);
        String require = env.get(REQUIRE_CUDA);
        if (legacy != null && !legacy.isEmpty() && (require == null || require.isEmpty())) {
            Matcher m = LEGACY_VERSION.matcher(legacy);
            if (!m.matches()) {
                throw new ImageCudaException(ImageCudaException.INVALID, "the image's " + CUDA_VERSION + "=\"" + legacy
                        + "\" is not a version, and it has no " + REQUIRE_CUDA + " to go by");
            }
            String minor = m.group(2) == null ? "0" : m.group(2);
            out.add(CudaRequirement.parse(CUDA_VERSION, "cuda>=" + Long.parseLong(m.group(1)) + "." + Long.parseLong(minor)));
        }
        return out;
    }

    private ImageCudaException unsupported(String image, CudaRequirement r, CudaRequirement.Facts f, Map<String, String> env) {
        String needs = r.cudaNeeded().map(v -> "CUDA " + v).orElseGet(() -> env.containsKey(CUDA_VERSION)
                ? "CUDA " + env.get(CUDA_VERSION) : "what " + r.variable() + " says");
        String gpu = f.brand() == null && f.arch() == null ? "" : " (GPU brand " + Optional.ofNullable(f.brand())
                .orElse("unknown") + ", compute capability " + Optional.ofNullable(f.arch()).orElse("unknown") + ")";
        return new ImageCudaException(ImageCudaException.UNSUPPORTED, "image " + image + " needs " + needs + " ("
                + r.variable() + "=" + abbreviate(r.text()) + "); this host's driver " + Optional.ofNullable(driver)
                .orElse("(version unknown)") + " supports CUDA " + cuda + gpu + ": choose an image built for CUDA "
                + cuda + " or older, or a host with a newer driver");
    }

    /** NVIDIA's requirement strings run to 2 KB of brand alternatives: the first 120 characters name it. */
    private static String abbreviate(String text) {
        return text.length() <= 120 ? text : text.substring(0, 120) + " ...";
    }

    /** Go's strconv.ParseBool, errors read as false (as the toolkit does). */
    static boolean parseBool(String v) {
        return v != null && switch (v) {
            case "1", "t", "T", "TRUE", "true", "True" -> true;
            default -> false;
        };
    }

    /**
     * The brand as NVIDIA's images spell it in {@code brand=} (tesla, geforcertx, cloudgaming...)
     * from the NVML brand name the GPU layer reports ({@code GEFORCE_RTX}); null when NVML could
     * not tell (then brand factors hold).
     */
    static String brandWord(String nvmlBrand) {
        if (nvmlBrand == null) {
            return null;
        }
        String b = nvmlBrand.toUpperCase(Locale.ROOT);
        return switch (b) {
            case "NVIDIA_VAPPS" -> "vapps";
            case "NVIDIA_VPC" -> "vpc";
            case "NVIDIA_VCS" -> "vcs";
            case "NVIDIA_VWS" -> "vws";
            case "NVIDIA_CLOUD_GAMING" -> "cloudgaming";
            default -> b.startsWith("UNKNOWN") ? "unknown" : b.replace("_", "").toLowerCase(Locale.ROOT);
        };
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
