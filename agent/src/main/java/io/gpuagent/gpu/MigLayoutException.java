package io.gpuagent.gpu;

/**
 * A MIG layout ({@code gpu.mig_layouts}) that cannot be made on this machine: an unknown GPU, a GPU
 * without MIG, a profile the card does not offer, or more than the card holds. Nothing was changed.
 */
public final class MigLayoutException extends Exception {
    private final String gpu;

    public MigLayoutException(String gpu, String message) {
        super("gpu.mig_layouts: " + message);
        this.gpu = gpu;
    }

    /** The GPU reference of the offending entry, as configured. */
    public String gpu() {
        return gpu;
    }
}
