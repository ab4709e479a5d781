package io.gpuagent.market.streams;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of the streams, read by the metrics endpoint ({@code gpu_agent_streams_*}): open now and
 * opened by kind, refused by code, closed by reason, data bytes by kind and direction.
 */
public final class StreamStats implements io.gpuagent.market.StreamLinkStats {
    private final ConcurrentMap<String, AtomicInteger> open = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, LongAdder> opened = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, LongAdder> refused = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, LongAdder> closed = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, LongAdder> bytesIn = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, LongAdder> bytesOut = new ConcurrentHashMap<>();

    private static void add(ConcurrentMap<String, LongAdder> m, String key, long n) {
        m.computeIfAbsent(key, k -> new LongAdder()).add(n);
    }

    private static Map<String, Long> read(ConcurrentMap<String, LongAdder> m) {
        Map<String, Long> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    void opened(String kind) {
        open.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
        add(opened, kind, 1);
    }

    void closed(String kind, String reason) {
        open.computeIfAbsent(kind, k -> new AtomicInteger()).decrementAndGet();
        add(closed, reason, 1);
    }

    void refused(String code) {
        add(refused, code, 1);
    }

    void bytesIn(String kind, long n) {
        add(bytesIn, kind, n);
    }

    void bytesOut(String kind, long n) {
        add(bytesOut, kind, n);
    }

    /** Streams open now, by kind. */
    @Override
    public Map<String, Long> open() {
        Map<String, Long> out = new TreeMap<>();
        open.forEach((k, v) -> out.put(k, (long) v.get()));
        return out;
    }

    @Override
    public Map<String, Long> opened() {
        return read(opened);
    }

    @Override
    public Map<String, Long> refused() {
        return read(refused);
    }

    @Override
    public Map<String, Long> closedByReason() {
        return read(closed);
    }

    /** Data bytes from the scheduler into the container, by kind. */
    @Override
    public Map<String, Long> bytesIn() {
        return read(bytesIn);
    }

    /** Data bytes from the container to the scheduler, by kind. */
    @Override
    public Map<String, Long> bytesOut() {
        return read(bytesOut);
    }
}
