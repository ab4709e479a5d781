package io.gpuagent.session;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Gives each GPU to at most one session. Never hands out a GPU the health predicate rejects.
 * After an agent restart the allocation is rebuilt from the running containers' own device
 * requests ({@link #adopt}), not from memory. Thread-safe (one monitor; every operation is tiny).
 */
public final class GpuAllocator {
    /** GPU UUID -> session id; insertion order = the machine's GPU order. */
    private final Map<String, String> owner = new LinkedHashMap<>();
    private final Predicate<String> healthy;

    /**
     * @param gpuUuids the machine's GPUs in index order
     * @param healthy  whether a GPU may be given out now
     */
    public GpuAllocator(List<String> gpuUuids, Predicate<String> healthy) {
        for (String u : gpuUuids) {
            owner.put(u, null);
        }
        this.healthy = healthy;
    }

    /**
     * Allocates {@code count} free healthy GPUs (lowest index first), or exactly {@code wanted} when
     * given. Idempotent per session: a session that already holds GPUs gets the same ones back.
     *
     * @throws AllocationException naming what is missing; nothing is allocated then
     */
    public synchronized List<String> allocate(String sessionId, int count, List<String> wanted)
            throws AllocationException {
        List<String> held = heldBy(sessionId);
        if (!held.isEmpty()) {
            return held;
        }
        List<String> chosen = new ArrayList<>();
        if (wanted != null && !wanted.isEmpty()) {
            for (String u : wanted) {
                if (!owner.containsKey(u)) {
                    throw new AllocationException("gpu_unknown", "GPU " + u + " is not on this machine");
                }
                if (owner.get(u) != null) {
                    throw new AllocationException("gpu_busy", "GPU " + u + " is rented by session " + owner.get(u));
                }
                if (!healthy.test(u)) {
                    throw new AllocationException("gpu_unhealthy", "GPU " + u + " is not healthy");
                }
                chosen.add(u);
            }
        } else {
            if (count < 0 || count > owner.size()) {
                throw new AllocationException("gpu_count", "asked for " + count + " GPUs; this machine has "
                        + owner.size());
            }
            for (Map.Entry<String, String> e : owner.entrySet()) {
                if (chosen.size() == count) {
                    break;
                }
                if (e.getValue() == null && healthy.test(e.getKey())) {
                    chosen.add(e.getKey());
                }
            }
            if (chosen.size() < count) {
                throw new AllocationException("gpus_unavailable", "asked for " + count + " GPUs; " + chosen.size()
                        + " are free and healthy");
            }
        }
        for (String u : chosen) {
            owner.put(u, sessionId);
        }
        return List.copyOf(chosen);
    }

    /** Records GPUs a running container already has (restart reconciliation); conflicts are reported. */
    public synchronized List<String> adopt(String sessionId, Collection<String> gpuUuids) {
        List<String> conflicts = new ArrayList<>();
        for (String u : gpuUuids) {
            String cur = owner.get(u);
            if (owner.containsKey(u) && (cur == null || cur.equals(sessionId))) {
                owner.put(u, sessionId);
            } else {
                conflicts.add(u + (cur != null ? " (held by " + cur + ")" : " (not on this machine)"));
            }
        }
        return conflicts;
    }

    /** Frees the session's GPUs (idempotent). */
    public synchronized void release(String sessionId) {
        owner.replaceAll((u, s) -> sessionId.equals(s) ? null : s);
    }

    public synchronized List<String> heldBy(String sessionId) {
        return owner.entrySet().stream().filter(e -> sessionId.equals(e.getValue())).map(Map.Entry::getKey).toList();
    }

    public synchronized Optional<String> ownerOf(String gpuUuid) {
        return Optional.ofNullable(owner.get(gpuUuid));
    }

    /** GPUs neither allocated nor unhealthy: what the offer may list as free. */
    public synchronized List<String> free() {
        return owner.entrySet().stream().filter(e -> e.getValue() == null && healthy.test(e.getKey()))
                .map(Map.Entry::getKey).toList();
    }

    public synchronized Set<String> gpus() {
        return Set.copyOf(owner.keySet());
    }
}
