package io.gpuagent.session;

/** A launch or stop could not be done; {@link #code()} is stable for the scheduler. */
public final class SessionException extends Exception {
    private final String code;

    public SessionException(String code, String message) {
        super(message);
        this.code = code;
    }

    public SessionException(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public String code() {
        return code;
    }
}
