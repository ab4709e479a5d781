package io.gpuagent.container;

/** The container engine refused or failed a call; the message carries the engine's own words. */
public class ContainerException extends Exception {
    public ContainerException(String message) {
        super(message);
    }

    public ContainerException(String message, Throwable cause) {
        super(message, cause);
    }
}
