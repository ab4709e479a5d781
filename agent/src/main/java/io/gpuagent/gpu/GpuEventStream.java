package io.gpuagent.gpu;

import java.time.Duration;
import java.util.Optional;

/** Health events from the driver, read by one thread. */
public interface GpuEventStream extends AutoCloseable {

    /**
     * Waits up to {@code timeout} for the next event.
     *
     * @return the event, or empty when none arrived in time
     * @throws GpuLostException when a watched GPU fell off the bus (the driver does not say which)
     * @throws GpuException     on any other driver failure
     */
    Optional<GpuEvent> await(Duration timeout) throws GpuException;

    /** The indexes of GPUs whose critical events are watched (some cards support none). */
    java.util.Set<Integer> watchedDevices();

    @Override
    void close();
}
