package io.gpuagent.market.netty;

/**
 * A token bucket per connection: {@code perSecond} messages a second, bursts up to twice that.
 * Owned by one channel's event loop (not thread-safe by design).
 */
final class RateLimiter {
    private final double perNano;
    private final double capacity;
    private double tokens;
    private long last;

    RateLimiter(long perSecond, long nowNanos) {
        this.perNano = perSecond / 1e9;
        this.capacity = 2.0 * perSecond;
        this.tokens = capacity;
        this.last = nowNanos;
    }

    /** Takes one token; false when the bucket is empty (the message is refused). */
    boolean tryAcquire(long nowNanos) {
        tokens = Math.min(capacity, tokens + (nowNanos - last) * perNano);
        last = nowNanos;
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }
}
