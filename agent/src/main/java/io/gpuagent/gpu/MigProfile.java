package io.gpuagent.gpu;

/**
 * A GPU-instance profile a MIG-capable card offers ({@code nvidia-smi mig -lgip}).
 *
 * @param profileIndex  NVML's profile constant ({@code NVML_GPU_INSTANCE_PROFILE_1_SLICE} = 0, ...),
 *                      what {@code nvmlDeviceGetGpuInstanceProfileInfo} takes
 * @param id            the profile's id as the driver names it ({@code nvmlGpuInstanceProfileInfo_t.id},
 *                      the {@code ID} column of {@code nvidia-smi mig -lgip}: 19 for 1g.10gb on an H100)
 * @param name          {@code 1g.10gb}, {@code 3g.40gb}, ... (the suffix {@code +me} when it has media engines)
 * @param sliceCount    compute slices (the {@code Ng} of the name)
 * @param memoryBytes   the instance's memory
 * @param instanceCount how many instances of it the card can hold at most
 */
public record MigProfile(int profileIndex, int id, String name, int sliceCount, long memoryBytes, int instanceCount) {

    /** The compute slices a profile's name states: the 3 of {@code 3g.40gb}; 0 for a name without one. */
    public static int slicesOf(String name) {
        int g = name == null ? -1 : name.indexOf('g');
        try {
            return g > 0 ? Integer.parseInt(name.substring(0, g)) : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
