package io.gpuagent.market.netty;

import io.gpuagent.market.SchedulerLinkStats;
import io.gpuagent.util.LatencyHistogram;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of the scheduler link, read by the metrics endpoint: connections open (by mode), and
 * opened, refused and closed (by reason); messages by direction and type; errors by code; the
 * heartbeat round trip and the time to answer requests.
 */
public final class MarketStats implements SchedulerLinkStats {
    private final ConcurrentMap<String, AtomicInteger> open = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, LongAdder> opened = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, LongAdder> rejected = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, LongAdder> closed = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, LongAdder> received = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, LongAdder> sent = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final LatencyHistogram roundTrip = new LatencyHistogram();
    private final LatencyHistogram requests = new LatencyHistogram();
    private final LongAdder dialAttempts = new LongAdder();

    private static void inc(ConcurrentMap<String, LongAdder> m, String key) {
        m.computeIfAbsent(key, k -> new LongAdder()).increment();
    }

    private static Map<String, Long> read(ConcurrentMap<String, LongAdder> m) {
        Map<String, Long> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    void connected(String mode) {
        open.computeIfAbsent(mode, k -> new AtomicInteger()).incrementAndGet();
        inc(opened, mode);
    }

    void disconnected(String mode) {
        open.computeIfAbsent(mode, k -> new AtomicInteger()).decrementAndGet();
    }

    void rejected(String reason) {
        inc(rejected, reason);
    }

    void closed(String reason) {
        inc(closed, reason);
    }

    void received(String type) {
        inc(received, type);
    }

    void sent(String type) {
        inc(sent, type);
    }

    void error(String code) {
        inc(errors, code);
    }

    void dialAttempt() {
        dialAttempts.increment();
    }

    void roundTrip(long nanos) {
        roundTrip.record(nanos);
    }

    void request(long nanos) {
        requests.record(nanos);
    }

    /** Connections open now, by mode ({@code listen}, {@code dial}). */
    @Override
    public Map<String, Integer> open() {
        Map<String, Integer> out = new TreeMap<>();
        open.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    @Override
    public Map<String, Long> opened() {
        return read(opened);
    }

    /** Connections refused at accept, by reason ({@code max_connections}, {@code tls_handshake}, ...). */
    @Override
    public Map<String, Long> rejected() {
        return read(rejected);
    }

    /** Connections the agent closed, by reason ({@code idle_timeout}, {@code read_timeout}, ...). */
    @Override
    public Map<String, Long> closed() {
        return read(closed);
    }

    @Override
    public Map<String, Long> received() {
        return read(received);
    }

    @Override
    public Map<String, Long> sent() {
        return read(sent);
    }

    /** Error responses sent, by code. */
    @Override
    public Map<String, Long> errors() {
        return read(errors);
    }

    @Override
    public long dialAttempts() {
        return dialAttempts.sum();
    }

    /** Heartbeat round trips the scheduler answered. */
    @Override
    public LatencyHistogram roundTrip() {
        return roundTrip;
    }

    /** Time from a request's arrival to its response being written. */
    @Override
    public LatencyHistogram requests() {
        return requests;
    }
}
