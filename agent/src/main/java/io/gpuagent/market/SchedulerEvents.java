package io.gpuagent.market;

import io.gpuagent.protocol.Message;

/** Where the agent's events go to reach every welcomed scheduler (the link's hub). */
public interface SchedulerEvents {
    /**
     * Sends {@code event} to every welcomed scheduler; a {@code droppable} one is skipped for a
     * connection whose send buffer is full (a later one supersedes it).
     */
    void publish(Message.Event event, boolean droppable);

    /**
     * Sends {@code events} in this order to every welcomed scheduler in one flush (one TLS record
     * where they fit); droppable ones, as in {@link #publish}.
     */
    void publishAll(java.util.List<? extends Message.Event> events, boolean droppable);

    /** Re-sends the offer when it changed ({@code force}: even when it did not). */
    void offer(boolean force);
}
