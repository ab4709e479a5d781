package io.gpuagent.market;

import java.util.Map;

/**
 * The streams' counters, read-only (the metrics endpoint's view; the streams count in
 * {@code market.streams.StreamStats}).
 */
public interface StreamLinkStats {
    /** Streams open now, by kind ({@code exec}, {@code tunnel}, {@code logs}). */
    Map<String, Long> open();

    /** Streams opened, by kind. */
    Map<String, Long> opened();

    /** Stream opens refused, by error code. */
    Map<String, Long> refused();

    /** Streams ended, by reason ({@code exited}, {@code eof}, {@code closed}, {@code idle_timeout}, ...). */
    Map<String, Long> closedByReason();

    /** Data bytes from the scheduler into containers, by kind. */
    Map<String, Long> bytesIn();

    /** Data bytes from containers to the scheduler, by kind. */
    Map<String, Long> bytesOut();
}
