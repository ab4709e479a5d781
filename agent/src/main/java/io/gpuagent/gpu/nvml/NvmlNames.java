package io.gpuagent.gpu.nvml;

/** Names for NVML's enum values, as nvidia-smi prints them. */
final class NvmlNames {
    private NvmlNames() {
    }

    /** {@code nvmlDeviceArchitecture_t}. */
    static String architecture(Integer arch) {
        if (arch == null) {
            return null;
        }
        return switch (arch) {
            case 2 -> "KEPLER";
            case 3 -> "MAXWELL";
            case 4 -> "PASCAL";
            case 5 -> "VOLTA";
            case 6 -> "TURING";
            case 7 -> "AMPERE";
            case 8 -> "ADA";
            case 9 -> "HOPPER";
            case 10 -> "BLACKWELL";
            default -> "UNKNOWN(" + arch + ")";
        };
    }

    /** {@code nvmlBrandType_t}. */
    static String brand(Integer brand) {
        if (brand == null) {
            return null;
        }
        return switch (brand) {
            case 1 -> "QUADRO";
            case 2 -> "TESLA";
            case 3 -> "NVS";
            case 4 -> "GRID";
            case 5 -> "GEFORCE";
            case 6 -> "TITAN";
            case 7 -> "NVIDIA_VAPPS";
            case 8 -> "NVIDIA_VPC";
            case 9 -> "NVIDIA_VCS";
            case 10 -> "NVIDIA_VWS";
            case 11 -> "NVIDIA_CLOUD_GAMING";
            case 12 -> "QUADRO_RTX";
            case 13 -> "NVIDIA_RTX";
            case 14 -> "NVIDIA";
            case 15 -> "GEFORCE_RTX";
            case 16 -> "TITAN_RTX";
            default -> "UNKNOWN(" + brand + ")";
        };
    }
}
