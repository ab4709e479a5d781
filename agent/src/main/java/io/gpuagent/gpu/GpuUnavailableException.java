package io.gpuagent.gpu;

/**
 * The GPU driver library could not be used at all: missing, unloadable, or failing to initialise
 * (driver not loaded, driver/library version mismatch). The message says what was tried and how
 * to fix it; {@link #kind()} tells the CLI which exit code to use.
 */
public final class GpuUnavailableException extends GpuException {
    /** Why the driver is unavailable. */
    public enum Kind {
        /** The library file is missing or cannot be loaded. */
        LIBRARY,
        /** The library loaded but its initialisation failed. */
        INIT
    }

    private final Kind kind;

    public GpuUnavailableException(Kind kind, String code, String message, Throwable cause) {
        super(code, message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
