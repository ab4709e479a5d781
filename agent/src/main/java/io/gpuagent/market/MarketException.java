package io.gpuagent.market;

/** The scheduler link cannot start (a port taken, TLS files unusable); the daemon exits with the message. */
public final class MarketException extends Exception {
    public MarketException(String message, Throwable cause) {
        super(message, cause);
    }
}
