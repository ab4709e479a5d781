package io.gpuagent.market.streams;

import io.gpuagent.protocol.Message;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;

/**
 * What every connection's {@link StreamMux} shares: where far ends come from, the owner's limits,
 * the counters, which sessions exist and run, and the streams open into each session (the
 * per-session limit holds over all connections).
 */
public final class StreamService {
    /** A session as streams see it: running or not, and its container. */
    public record Target(String session, boolean running, String state, String container) {
    }

    /** Checks a renter's grant before exec and tunnel, where the owner requires one (docs/streams.md). */
    @FunctionalInterface
    public interface GrantCheck {
        /** @throws StreamException {@code grant_required} or {@code grant_invalid} */
        void check(Message.StreamOpen open) throws StreamException;

        GrantCheck NONE = open -> {
        };
    }

    private final StreamBackends backends;
    private final StreamLimits limits;
    private final StreamStats stats;
    private final Function<String, Optional<Target>> sessions;
    private final GrantCheck grants;
    private final ConcurrentMap<String, Integer> perSession = new ConcurrentHashMap<>();
    /** Grant checks may read the chain: one thread of their own, never an event loop. */
    private final java.util.concurrent.ExecutorService grantChecks;

    public StreamService(StreamBackends backends, StreamLimits limits, StreamStats stats,
                         Function<String, Optional<Target>> sessions, GrantCheck grants) {
        this.backends = backends;
        this.limits = limits;
        this.stats = stats;
        this.sessions = sessions;
        this.grants = grants;
        this.grantChecks = grants == GrantCheck.NONE ? null : new java.util.concurrent.ThreadPoolExecutor(1, 1, 0,
                java.util.concurrent.TimeUnit.MILLISECONDS, new java.util.concurrent.LinkedBlockingQueue<>(256),
                r -> {
                    Thread t = new Thread(r, "gpu-agent-stream-grants");
                    t.setDaemon(true);
                    return t;
                });
    }

    /** Whether exec and tunnel need the renter's grant (welcome then lists {@code stream_grants}). */
    public boolean grantsRequired() {
        return grants != GrantCheck.NONE;
    }

    /** Checks the grant of an exec or tunnel off the event loop; logs need none. */
    java.util.concurrent.CompletableFuture<Void> checkGrant(Message.StreamOpen open) {
        if (grantChecks == null || open.kind().equals("logs")) {
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }
        java.util.concurrent.CompletableFuture<Void> out = new java.util.concurrent.CompletableFuture<>();
        try {
            grantChecks.execute(() -> {
                try {
                    grants.check(open);
                    out.complete(null);
                } catch (StreamException | RuntimeException e) {
                    out.completeExceptionally(e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            out.completeExceptionally(new StreamException("unavailable", "too many grant checks waiting; retry"));
        }
        return out;
    }

    /** Stops the grant checks' thread. */
    public void close() {
        if (grantChecks != null) {
            grantChecks.shutdownNow();
        }
    }

    public StreamLimits limits() {
        return limits;
    }

    public StreamStats stats() {
        return stats;
    }

    StreamBackends backends() {
        return backends;
    }

    Optional<Target> session(String id) {
        return sessions.apply(id);
    }

    /** Counts a stream into {@code session}; false when the session already has its limit. */
    boolean acquire(String session) {
        boolean[] ok = {false};
        perSession.compute(session, (k, n) -> {
            int now = n == null ? 0 : n;
            if (now >= limits.perSession()) {
                return n;
            }
            ok[0] = true;
            return now + 1;
        });
        return ok[0];
    }

    void release(String session) {
        perSession.computeIfPresent(session, (k, n) -> n <= 1 ? null : n - 1);
    }

    /** Streams open into a session now (tests, status). */
    public int openInto(String session) {
        return perSession.getOrDefault(session, 0);
    }
}
