package io.gpuagent.util;

import java.time.Duration;
import java.time.Instant;

/**
 * A clock the test moves by hand. A thread that {@link #sleep sleeps} on it stays asleep until the
 * test has advanced the clock by the time it asked for (as Netty's {@code MockTicker} does), so a
 * backoff is tested without waiting for it.
 */
public final class ManualClock implements Clock {
    private long mono = 1_000_000_000L;
    private Instant wall = Instant.parse("2026-11-27T00:00:00Z");
    private int sleepers;

    public synchronized void advance(Duration d) {
        mono += d.toNanos();
        wall = wall.plus(d);
        notifyAll();
    }

    public synchronized void jumpWall(Duration d) {
        wall = wall.plus(d);
    }

    @Override
    public synchronized long monotonicNanos() {
        return mono;
    }

    @Override
    public synchronized Instant wallTime() {
        return wall;
    }

    /** Returns once {@link #advance} has moved the monotonic time on by {@code d}. */
    @Override
    public synchronized void sleep(Duration d) throws InterruptedException {
        long until = mono + d.toNanos();
        sleepers++;
        try {
            while (mono < until) {
                wait();
            }
        } finally {
            sleepers--;
        }
    }

    /** Threads in {@link #sleep} now: a test waits for a component to reach its pause before advancing. */
    public synchronized int sleepers() {
        return sleepers;
    }
}
