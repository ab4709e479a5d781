package io.gpuagent.market.streams;

/**
 * A stream could not be opened or served; {@link #code()} is the stable error code the scheduler
 * gets (docs/protocol.md, "Streams"). Nothing was opened.
 */
public final class StreamException extends Exception {
    private final String code;

    public StreamException(String code, String message) {
        super(message);
        this.code = code;
    }

    public StreamException(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public String code() {
        return code;
    }
}
