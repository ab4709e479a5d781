package io.gpuagent.util;

import java.time.Instant;

/**
 * Time as the agent sees it. Durations come from {@link #monotonicNanos()}, which never goes back;
 * {@link #wallTime()} is only for timestamps shown to people or written into records.
 * Injected everywhere so that tests control time instead of sleeping.
 */
public interface Clock {

    /** Monotonic nanoseconds with an arbitrary origin; only differences mean anything. */
    long monotonicNanos();

    /** Wall-clock time, which may jump (NTP, an operator); never used to measure a duration. */
    Instant wallTime();

    /** The real clocks of this machine. */
    Clock SYSTEM = new Clock() {
        @Override
        public long monotonicNanos() {
            return System.nanoTime();
        }

        @Override
        public Instant wallTime() {
            return Instant.now();
        }

        @Override
        public String toString() {
            return "Clock.SYSTEM";
        }
    };
}
