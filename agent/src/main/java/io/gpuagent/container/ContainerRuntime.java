package io.gpuagent.container;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The container engine as the session layer sees it (Docker in production through
 * {@code container.docker}; a fake with knobs in unit tests, held to the same contract). Every call
 * has a deadline and throws {@link ContainerException} (typed subclasses for conflict and not-found)
 * with the engine's own message. The runtime applies a {@link ContainerSpec} faithfully and adds
 * nothing: the launch policy that decides the spec lives in the session layer.
 */
public interface ContainerRuntime extends AutoCloseable {

    /** The engine's version and negotiated API version, e.g. {@code Docker 20.10.24 (API 1.41)}. */
    String describe() throws ContainerException;

    /** Whether the image is present locally (no pull). */
    boolean imagePresent(String image) throws ContainerException;

    /**
     * The configuration of a local image (its environment and labels), or empty when the engine
     * does not have it. Never pulls: a launch reads it before deciding whether to pull, and again
     * after a pull.
     */
    Optional<ImageConfig> inspectImage(String image) throws ContainerException;

    /** Pulls an image, reporting progress as it goes; returns when the image is present. */
    void pull(String image, PullProgressListener progress) throws ContainerException;

    /**
     * Creates (does not start) a container named {@code spec.name()}.
     *
     * @return the container id
     * @throws ContainerConflictException when a container of that name exists (never a duplicate)
     */
    String create(ContainerSpec spec) throws ContainerException;

    void start(String idOrName) throws ContainerException;

    /** SIGTERM, then SIGKILL after {@code grace}. Stopping a stopped container is not an error. */
    void stop(String idOrName, Duration grace) throws ContainerException;

    /** Removes the container (forcefully when running); a missing one is not an error. */
    void remove(String idOrName) throws ContainerException;

    /** The container's state, or empty when it does not exist. */
    Optional<ContainerState> inspect(String idOrName) throws ContainerException;

    /** All containers, running or not, carrying every given label (value null: any value). */
    List<ContainerState> list(Map<String, String> labels) throws ContainerException;

    /**
     * The ids of the running containers (restarting and paused too: {@link ContainerState#running})
     * carrying every given label (value null: any value). One cheap call, without the per-container
     * inspects of {@link #list}: the meter's look at the engine uses it and inspects only the
     * containers it no longer finds.
     */
    java.util.Set<String> runningIds(Map<String, String> labels) throws ContainerException;

    /** A running container's CPU, memory and network counters and its host PIDs. */
    ContainerUsage usage(String idOrName) throws ContainerException;

    /**
     * Bytes in the container's writable layer (what the renter wrote), or null when the storage
     * driver cannot tell. Costly on some drivers (it walks the layer): call it rarely.
     */
    Long diskUsage(String idOrName) throws ContainerException;

    /** The last {@code lines} lines of the container's stdout and stderr, oldest first. */
    List<String> logTail(String idOrName, int lines) throws ContainerException;

    /** Creates a bridge network for one session (idempotent by name); returns its id. */
    String createNetwork(String name, Map<String, String> labels) throws ContainerException;

    /** Removes a network; a missing one is not an error. */
    void removeNetwork(String name) throws ContainerException;

    @Override
    void close();
}
