package io.gpuagent.util;

import java.time.Duration;
import java.time.Instant;

/** A clock the test moves by hand. */
public final class ManualClock implements Clock {
    private long mono = 1_000_000_000L;
    private Instant wall = Instant.parse("2026-11-27T00:00:00Z");

    public synchronized void advance(Duration d) {
        mono += d.toNanos();
        wall = wall.plus(d);
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
}
