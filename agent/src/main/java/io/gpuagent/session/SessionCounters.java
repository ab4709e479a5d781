package io.gpuagent.session;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters for the metrics endpoint: launch requests by result ({@code accepted} or the refusal's
 * stable code) and sessions that ended FAILED by {@link EndReason} code. Thread-safe, lock-free.
 */
final class SessionCounters {
    private final ConcurrentMap<String, LongAdder> launches = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, LongAdder> failures = new ConcurrentHashMap<>();

    void launch(String result) {
        launches.computeIfAbsent(result, k -> new LongAdder()).increment();
    }

    void failed(EndReason code) {
        failures.computeIfAbsent(code.code(), k -> new LongAdder()).increment();
    }

    /** Launch requests by result, sorted by result. */
    Map<String, Long> launches() {
        return sums(launches);
    }

    /** FAILED sessions by end-reason code, sorted by code. */
    Map<String, Long> failures() {
        return sums(failures);
    }

    private static Map<String, Long> sums(Map<String, LongAdder> m) {
        Map<String, Long> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}
