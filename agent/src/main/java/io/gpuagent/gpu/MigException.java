package io.gpuagent.gpu;

/**
 * A MIG request the GPU cannot carry out, with a stable {@link #code()} ({@code MIG_NO_CAPACITY},
 * ...) so that the session layer can tell "does not fit" from "the driver needs a reset". Thrown
 * before anything changed on the GPU, or after what was half done has been undone.
 */
public final class MigException extends GpuException {
    /** Why the request was refused; the code is {@code "MIG_" + name()}. */
    public enum Reason {
        /** The card or driver has no MIG (GeForce cards, drivers without the MIG calls). */
        NOT_CAPABLE,
        /** MIG mode is off now (or its change waits for a GPU reset). */
        MODE_OFF,
        /** The mode change needs a GPU reset (the GPU is in use, or the card requires one). */
        RESET_REQUIRED,
        /** The card has no GPU-instance profile with that index. */
        NO_SUCH_PROFILE,
        /** The profile does not fit in what is left of the GPU. */
        NO_CAPACITY,
        /** The requested placement is not one the profile can take, or is taken. */
        BAD_PLACEMENT,
        /** No GPU instance with that id exists. */
        NO_SUCH_INSTANCE,
        /** A process still uses the instance. */
        IN_USE
    }

    private final Reason reason;

    public MigException(Reason reason, String message) {
        super("MIG_" + reason.name(), message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
