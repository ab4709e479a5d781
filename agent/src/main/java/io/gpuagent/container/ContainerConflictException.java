package io.gpuagent.container;

/** A container (or network) of that name already exists: a repeated create never makes a duplicate. */
public final class ContainerConflictException extends ContainerException {
    public ContainerConflictException(String message) {
        super(message);
    }
}
