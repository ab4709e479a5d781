package io.gpuagent.util;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * Capped exponential backoff with full jitter: attempt n waits a random time in
 * [base*2^n / 2, base*2^n], never more than {@code cap}. Immutable; the caller counts attempts.
 */
public final class Backoff {
    private final Duration base;
    private final Duration cap;
    private final DoubleSupplier random;

    public Backoff(Duration base, Duration cap, DoubleSupplier random) {
        if (base.isNegative() || base.isZero()) {
            throw new IllegalArgumentException("backoff base must be positive, was " + base);
        }
        if (cap.compareTo(base) < 0) {
            throw new IllegalArgumentException("backoff cap " + cap + " is below its base " + base);
        }
        this.base = base;
        this.cap = cap;
        this.random = random;
    }

    public Backoff(Duration base, Duration cap) {
        this(base, cap, Math::random);
    }

    /** The delay before retry number {@code attempt} (0 for the first retry). */
    public Duration delay(int attempt) {
        long baseNanos = base.toNanos();
        long capNanos = cap.toNanos();
        int shift = Math.min(Math.max(attempt, 0), 62);
        long ceiling = baseNanos > (capNanos >> shift) ? capNanos : Math.min(capNanos, baseNanos << shift);
        long half = ceiling / 2;
        return Duration.ofNanos(half + (long) (random.getAsDouble() * (ceiling - half)));
    }
}
