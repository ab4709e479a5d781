package io.gpuagent.gpu;

/**
 * A GPU driver call failed. {@link #code()} is the driver's own name for the failure
 * ({@code NVML_ERROR_GPU_IS_LOST}, ...) so that logs and peers get a stable code.
 */
public class GpuException extends Exception {
    private final String code;

    public GpuException(String code, String message) {
        super(message);
        this.code = code;
    }

    public GpuException(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public String code() {
        return code;
    }
}
