package io.gpuagent.session;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Gives host ports from the owner's range, each to one session at a time. Thread-safe. */
public final class PortAllocator {
    private final int first;
    private final int last;
    private final Map<Integer, String> owner = new TreeMap<>();

    public PortAllocator(int first, int last) {
        this.first = first;
        this.last = last;
    }

    /** Allocates {@code n} ports (idempotent per session). */
    public synchronized List<Integer> allocate(String sessionId, int n) throws PolicyViolationException {
        List<Integer> held = heldBy(sessionId);
        if (!held.isEmpty() || n == 0) {
            return held;
        }
        List<Integer> out = new ArrayList<>();
        for (int p = first; p <= last && out.size() < n; p++) {
            if (!owner.containsKey(p)) {
                out.add(p);
            }
        }
        if (out.size() < n) {
            throw new PolicyViolationException("ports_exhausted", "asked for " + n + " published ports; only "
                    + out.size() + " of the owner's range " + first + "-" + last + " are free");
        }
        out.forEach(p -> owner.put(p, sessionId));
        return out;
    }

    /** Records ports a running container already publishes (restart reconciliation). */
    public synchronized void adopt(String sessionId, List<Integer> ports) {
        ports.forEach(p -> owner.put(p, sessionId));
    }

    public synchronized void release(String sessionId) {
        owner.values().removeIf(sessionId::equals);
    }

    public synchronized List<Integer> heldBy(String sessionId) {
        return owner.entrySet().stream().filter(e -> e.getValue().equals(sessionId)).map(Map.Entry::getKey).toList();
    }
}
