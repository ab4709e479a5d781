package io.gpuagent.gpu;

/**
 * Whether a GPU may be rented. Only {@link #HEALTHY} GPUs are offered; any other state takes the
 * GPU out of the offer at once.
 */
public enum GpuHealth {
    /** Answering and no critical error seen. */
    HEALTHY,
    /** A critical XID or a double-bit ECC error: needs the owner's attention (often a reset). */
    UNHEALTHY,
    /** Fallen off the bus ({@code NVML_ERROR_GPU_IS_LOST}). */
    LOST,
    /** NVML did not answer in time (a hung driver): we cannot vouch for it. */
    UNKNOWN
}
