package io.gpuagent.market.streams;

import io.gpuagent.protocol.Message;
import io.netty.channel.EventLoop;

import java.util.concurrent.CompletableFuture;

/**
 * Opens the far ends of streams. In production {@link EngineStreams} (the Docker Engine API and
 * the session's container network); the tests also use local ones.
 */
public interface StreamBackends {
    /**
     * Opens the far end of {@code open} for a session the caller found running, on {@code loop}.
     * The future fails with a {@link StreamException} naming what is wrong (the session's
     * container is gone, the engine does not answer, nothing listens on the port).
     *
     * @param container the session's container id
     */
    CompletableFuture<Backend> open(Message.StreamOpen open, String container, EventLoop loop);
}
