package io.gpuagent.protocol;

/**
 * A frame or message the agent cannot accept: answered with an {@code error} carrying
 * {@link #code()} (and the request's id when it could be read), never acted on.
 */
public final class ProtocolException extends Exception {
    private final ErrorCode code;
    private final String correlationId;

    public ProtocolException(ErrorCode code, String message, String correlationId) {
        super(message);
        this.code = code;
        this.correlationId = correlationId;
    }

    public ErrorCode code() {
        return code;
    }

    /** The id of the request that failed, or null when it could not be read. */
    public String correlationId() {
        return correlationId;
    }
}
