package io.gpuagent.util;

import java.time.Duration;
import java.time.Instant;

/**
 * Notices when the wall clock leaps or runs backwards relative to the monotonic clock, as
 * HikariCP's housekeeper does. Call {@link #check()} periodically from one thread; it returns the
 * jump seen since the previous call (zero when the two clocks agree within the tolerance).
 */
public final class ClockJumpDetector {
    private final Clock clock;
    private final Duration tolerance;
    private long lastMono;
    private Instant lastWall;

    public ClockJumpDetector(Clock clock, Duration tolerance) {
        this.clock = clock;
        this.tolerance = tolerance;
        this.lastMono = clock.monotonicNanos();
        this.lastWall = clock.wallTime();
    }

    /** @return how far the wall clock moved beyond the elapsed monotonic time (negative: backwards). */
    public Duration check() {
        long mono = clock.monotonicNanos();
        Instant wall = clock.wallTime();
        Duration monoElapsed = Duration.ofNanos(mono - lastMono);
        Duration wallElapsed = Duration.between(lastWall, wall);
        lastMono = mono;
        lastWall = wall;
        Duration jump = wallElapsed.minus(monoElapsed);
        return jump.abs().compareTo(tolerance) > 0 ? jump : Duration.ZERO;
    }
}
