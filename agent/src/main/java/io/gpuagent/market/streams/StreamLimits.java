package io.gpuagent.market.streams;

import java.time.Duration;

/**
 * The owner's bounds on streams ({@code market.stream_*}, docs/configuration.md).
 *
 * @param perConnection streams open at once on one scheduler connection
 * @param perSession    streams open at once into one session, over all connections
 * @param window        the bytes a scheduler may send on a stream before the agent grants more; also the
 *                      most the agent buffers for a stream in that direction
 * @param idleTimeout   a stream with no data either way for this long is closed; zero: never
 * @param linkBudget    data bytes of all streams of a connection written but not yet taken by the socket;
 *                      above it no stream sends until the socket has taken some, so requests, answers and
 *                      heartbeats wait behind at most this much data
 */
public record StreamLimits(int perConnection, int perSession, long window, Duration idleTimeout, long linkBudget) {
    public static final StreamLimits DEFAULTS = new StreamLimits(16, 4, 256 * 1024, Duration.ofHours(1), 256 * 1024);

    /** Largest data bytes in one frame the agent sends. */
    public static final int MAX_CHUNK = 32 * 1024;
}
