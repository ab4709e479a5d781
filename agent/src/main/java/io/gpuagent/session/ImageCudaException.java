package io.gpuagent.session;

/**
 * An image's CUDA requirement refuses the launch: the driver cannot run it
 * ({@link #UNSUPPORTED}), or the requirement cannot be read ({@link #INVALID}). {@link #code()}
 * is stable: it is the session's end reason and the scheduler's error code. The message names the
 * image's variable and value, and the host's CUDA and driver versions.
 */
public final class ImageCudaException extends Exception {
    /** The host's driver supports an older CUDA than the image needs. */
    public static final String UNSUPPORTED = "image_cuda_unsupported";
    /** An {@code NVIDIA_REQUIRE_*} value or {@code CUDA_VERSION} is malformed. */
    public static final String INVALID = "image_cuda_requirement_invalid";

    private final String code;

    public ImageCudaException(String code, String message) {
        super(message);
        this.code = code;
    }

    public String code() {
        return code;
    }

    /** The session's end reason of this refusal. */
    EndReason endReason() {
        return code.equals(UNSUPPORTED) ? EndReason.IMAGE_CUDA_UNSUPPORTED : EndReason.IMAGE_CUDA_REQUIREMENT_INVALID;
    }
}
