package io.gpuagent.market;

import io.gpuagent.util.LatencyHistogram;

import java.util.Map;

/**
 * The scheduler link's counters, read-only: what the metrics endpoint and {@code /status} see of
 * the link (the link itself counts in {@code market.netty.MarketStats}).
 */
public interface SchedulerLinkStats {
    /** Connections open now, by mode ({@code listen}, {@code dial}). */
    Map<String, Integer> open();

    /** Connections opened, by mode. */
    Map<String, Long> opened();

    /** Connections refused at accept, by reason ({@code max_connections}, {@code tls_handshake}, ...). */
    Map<String, Long> rejected();

    /** Connections the agent closed, by reason ({@code idle_timeout}, {@code read_timeout}, ...). */
    Map<String, Long> closed();

    /** Messages received, by type. */
    Map<String, Long> received();

    /** Messages sent, by type. */
    Map<String, Long> sent();

    /** Error responses sent, by code. */
    Map<String, Long> errors();

    /** Dial-out connection attempts. */
    long dialAttempts();

    /** Heartbeat round trips the scheduler answered. */
    LatencyHistogram roundTrip();

    /** Time from a request's arrival to its response being written. */
    LatencyHistogram requests();
}
