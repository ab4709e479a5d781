package io.gpuagent.gpu;

/**
 * The driver stack as NVML reports it.
 *
 * @param library           the path of the NVML library that was loaded
 * @param simulated         true when the library is gpu-agent's simulated NVML: such GPUs must
 *                          never be sold as real
 * @param cudaDriverVersion {@code 12.4}, from NVML's integer 12040
 */
public record DriverInfo(String library, boolean simulated, String driverVersion, String nvmlVersion,
                         String cudaDriverVersion) {

    /** Formats NVML's CUDA driver version integer (1000 * major + 10 * minor). */
    public static String formatCudaVersion(int version) {
        return (version / 1000) + "." + (version % 1000) / 10;
    }
}
