package io.gpuagent.escrow;

/**
 * The chain could not be asked: the RPC endpoint is down, timed out or answered garbage. Always
 * retryable: callers wait (with backoff) and try again, never give a claim up for it.
 */
public class ChainException extends Exception {
    private static final long serialVersionUID = 1L;

    public ChainException(String message) {
        super(message);
    }

    public ChainException(String message, Throwable cause) {
        super(message, cause);
    }
}
