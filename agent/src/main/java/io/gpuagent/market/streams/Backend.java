package io.gpuagent.market.streams;

import io.netty.channel.Channel;

import java.util.concurrent.CompletableFuture;

/**
 * The far end of one stream: a channel to the container engine (an exec's hijacked connection,
 * a log response) or to a container port (a tunnel), registered on the scheduler connection's
 * event loop so that the relay between them needs no locks. Its pipeline delivers
 * {@link StreamChunk}s or plain {@code ByteBuf}s (DATA); the end of its output is the channel's
 * input shutdown or its close.
 */
public interface Backend {
    Channel channel();

    /** Whether bytes from the scheduler go in (exec stdin, tunnels), not logs. */
    boolean acceptsInput();

    /** Whether an exec runs with a PTY (resizable). */
    boolean tty();

    /** The exit code once the output ended: an exec's process; null for the other kinds. */
    CompletableFuture<Integer> exitCode();

    /** Resizes the PTY of an exec; fails for the other kinds. */
    CompletableFuture<Void> resize(int cols, int rows);
}
