package io.gpuagent.daemon;

/**
 * Exit codes of every {@code gpu-agent} command, documented in README.md and docs/operations.md.
 * The systemd unit does not restart on {@link #USAGE} and {@link #CONFIG}: those need the owner.
 */
public final class ExitCodes {
    /** Success. */
    public static final int OK = 0;
    /** An unexpected internal error (a bug): the log has the stack trace. */
    public static final int INTERNAL = 1;
    /** Bad command line (picocli's usage error code). */
    public static final int USAGE = 2;
    /** The configuration file is missing or invalid; the message names the key. */
    public static final int CONFIG = 3;
    /** The NVML library is missing or cannot be loaded. */
    public static final int NVML_LIBRARY = 4;
    /** NVML loaded but failed to initialise (driver not loaded, driver/library version mismatch). */
    public static final int NVML_INIT = 5;
    /** A critical thread died or the journal could not be made durable: systemd restarts the agent. */
    public static final int FATAL = 6;
    /** The daemon could not be reached (status and other client commands). */
    public static final int UNREACHABLE = 7;
    /** The agent answered a request with an error ({@code gpu-agent scheduler}): the error's code is printed. */
    public static final int REFUSED = 8;

    private ExitCodes() {
    }
}
