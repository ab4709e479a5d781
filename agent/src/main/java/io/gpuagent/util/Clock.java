package io.gpuagent.util;

import java.time.Duration;
import java.time.Instant;

/**
 * Time as the agent sees it. Durations come from {@link #monotonicNanos()}, which never goes back;
 * {@link #wallTime()} is only for timestamps shown to people or written into records; a thread
 * that must let time pass (a retry's backoff) calls {@link #sleep(Duration)}, as Netty's
 * {@code Ticker.sleep} does. Injected everywhere so that tests control time instead of sleeping.
 *
 * <p>{@link #SYSTEM} is the one place in the agent's running code that reads this machine's
 * clocks. Elsewhere real time is read only where it is no duration or timestamp the agent's logic
 * depends on: the deadline of a real-time wait in the JDK or Netty, the CLI's and the demo's own
 * waits and timestamps (docs/testing.md lists them).
 */
public interface Clock {

    /** Monotonic nanoseconds with an arbitrary origin; only differences mean anything. */
    long monotonicNanos();

    /** Wall-clock time, which may jump (NTP, an operator); never used to measure a duration. */
    Instant wallTime();

    /**
     * Lets {@code d} of this clock's time pass on the calling thread. The real clock sleeps; a test
     * clock returns once the test has moved it on by {@code d}.
     *
     * @throws InterruptedException when the thread is interrupted meanwhile (a stop request)
     */
    default void sleep(Duration d) throws InterruptedException {
        Thread.sleep(d.toMillis());
    }

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
