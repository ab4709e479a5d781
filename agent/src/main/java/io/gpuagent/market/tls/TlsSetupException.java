package io.gpuagent.market.tls;

import java.nio.file.Path;

/**
 * The TLS material cannot be used: the message names the file, what is wrong with it and what to
 * do (the command to run where there is one). Thrown before any socket is opened, so the agent
 * refuses to start rather than failing every handshake later.
 */
public final class TlsSetupException extends Exception {
    /** What is wrong; stable, for tests and for mapping to exit codes. */
    public enum Problem {
        /** The file does not exist. */
        MISSING,
        /** The file exists but cannot be read by this process. */
        UNREADABLE,
        /** The private key file is readable or writable by group or others. */
        KEY_PERMISSIONS,
        /** No PEM block of the expected kind, or one that does not decode. */
        NOT_PEM,
        /** A key format the agent does not read (PKCS#1, SEC1, encrypted PKCS#8) or algorithm it does not use. */
        UNSUPPORTED_KEY,
        /** The private key is not the key of the first certificate of the chain. */
        KEY_MISMATCH,
        /** The agent's own certificate has expired. */
        EXPIRED,
        /** The agent's own certificate is not valid yet (or this machine's clock is wrong). */
        NOT_YET_VALID,
        /** Neither a CA nor pins: no peer could be authenticated. */
        NO_TRUST,
        /** A configured pin is not a SHA-256 fingerprint. */
        BAD_PIN
    }

    private final Path file;
    private final Problem problem;

    public TlsSetupException(Path file, Problem problem, String message) {
        super(message);
        this.file = file;
        this.problem = problem;
    }

    public TlsSetupException(Path file, Problem problem, String message, Throwable cause) {
        super(message, cause);
        this.file = file;
        this.problem = problem;
    }

    /** The file at fault, or null when the problem is not one file's (no trust configured, a bad pin). */
    public Path file() {
        return file;
    }

    public Problem problem() {
        return problem;
    }
}
