package io.gpuagent.metrics.http;

/** The metrics endpoint could not start; the message says which address and what to change. */
public final class MetricsServerException extends Exception {
    public MetricsServerException(String message, Throwable cause) {
        super(message, cause);
    }
}
