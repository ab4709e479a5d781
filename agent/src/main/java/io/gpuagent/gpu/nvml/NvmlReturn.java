package io.gpuagent.gpu.nvml;

/**
 * {@code nvmlReturn_t}, with NVIDIA's own messages so that errors read the same whether or not the
 * library (and its {@code nvmlErrorString}) could be loaded.
 */
public enum NvmlReturn {
    SUCCESS(0, "Success"),
    ERROR_UNINITIALIZED(1, "Uninitialized"),
    ERROR_INVALID_ARGUMENT(2, "Invalid Argument"),
    ERROR_NOT_SUPPORTED(3, "Not Supported"),
    ERROR_NO_PERMISSION(4, "Insufficient Permissions"),
    ERROR_ALREADY_INITIALIZED(5, "Already Initialized"),
    ERROR_NOT_FOUND(6, "Not Found"),
    ERROR_INSUFFICIENT_SIZE(7, "Insufficient Size"),
    ERROR_INSUFFICIENT_POWER(8, "Insufficient External Power"),
    ERROR_DRIVER_NOT_LOADED(9, "Driver Not Loaded"),
    ERROR_TIMEOUT(10, "Timeout"),
    ERROR_IRQ_ISSUE(11, "Interrupt request issue"),
    ERROR_LIBRARY_NOT_FOUND(12, "NVML Shared Library Not Found"),
    ERROR_FUNCTION_NOT_FOUND(13, "Function Not Found"),
    ERROR_CORRUPTED_INFOROM(14, "Corrupted infoROM"),
    ERROR_GPU_IS_LOST(15, "GPU is lost"),
    ERROR_RESET_REQUIRED(16, "GPU requires restart"),
    ERROR_OPERATING_SYSTEM(17, "The operating system has blocked the request."),
    ERROR_LIB_RM_VERSION_MISMATCH(18, "RM has detected an NVML/RM version mismatch."),
    ERROR_IN_USE(19, "In use by another client"),
    ERROR_MEMORY(20, "Insufficient Memory"),
    ERROR_NO_DATA(21, "No data"),
    ERROR_VGPU_ECC_NOT_SUPPORTED(22, "Not supported when ECC is enabled"),
    ERROR_INSUFFICIENT_RESOURCES(23, "Insufficient resources"),
    ERROR_FREQ_NOT_SUPPORTED(24, "Frequency not supported"),
    ERROR_ARGUMENT_VERSION_MISMATCH(25, "Argument version mismatch"),
    ERROR_DEPRECATED(26, "Deprecated"),
    ERROR_NOT_READY(27, "Not ready"),
    ERROR_GPU_NOT_FOUND(28, "GPU not found"),
    ERROR_INVALID_STATE(29, "Invalid state"),
    ERROR_UNKNOWN(999, "Unknown Error");

    private static final NvmlReturn[] BY_CODE = new NvmlReturn[30];

    static {
        for (NvmlReturn r : values()) {
            if (r.code < BY_CODE.length) {
                BY_CODE[r.code] = r;
            }
        }
    }

    private final int code;
    private final String message;

    NvmlReturn(int code, String message) {
        this.code = code;
        this.message = message;
    }

    public int code() {
        return code;
    }

    public String message() {
        return message;
    }

    /** The NVML constant's name, {@code NVML_ERROR_GPU_IS_LOST}. */
    public String nvmlName() {
        return "NVML_" + name();
    }

    /** Maps a raw return code; codes this build does not know map to {@link #ERROR_UNKNOWN}. */
    public static NvmlReturn of(int code) {
        if (code >= 0 && code < BY_CODE.length && BY_CODE[code] != null) {
            return BY_CODE[code];
        }
        return ERROR_UNKNOWN;
    }
}
