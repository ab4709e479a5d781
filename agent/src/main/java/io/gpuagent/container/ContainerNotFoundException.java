package io.gpuagent.container;

/** No container or image of that name or id. */
public final class ContainerNotFoundException extends ContainerException {
    public ContainerNotFoundException(String message) {
        super(message);
    }
}
