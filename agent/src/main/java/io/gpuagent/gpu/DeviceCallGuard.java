package io.gpuagent.gpu;

import io.gpuagent.util.Clock;
import io.gpuagent.util.NamedThreadFactory;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs one GPU's driver calls on that GPU's own thread with a deadline, so that a hung driver call
 * (a known field failure: {@code nvidia-smi} itself hangs) never blocks the agent. A call that
 * misses its deadline is left running; until it returns, further calls on that GPU are refused at
 * once instead of piling more threads into the same hung driver path. Other GPUs keep their own
 * threads and keep answering.
 */
public final class DeviceCallGuard implements AutoCloseable {
    /** The outcome of a guarded call. */
    public sealed interface Outcome<T> {
        /** The call returned a value. */
        record Done<T>(T value, long nanos) implements Outcome<T> {
        }

        /** The call threw a driver error. */
        record Failed<T>(GpuException error) implements Outcome<T> {
        }

        /** The call did not return in time (or an earlier one still has not). */
        record Hung<T>(String reason) implements Outcome<T> {
        }
    }

    /** What the calls are about, for messages: {@code GPU 3}. */
    private final String subject;
    private final Clock clock;
    private final GpuCallStats stats;
    private final ExecutorService worker;
    /** True from submission until the call returns (cleared before its outcome is published). */
    private final AtomicBoolean busy = new AtomicBoolean();

    public DeviceCallGuard(int index, Clock clock, GpuCallStats stats) {
        this("GPU " + index, "gpu-agent-nvml-gpu" + index, clock, stats);
    }

    /**
     * A guard for calls that concern no single GPU (the topology touches every pair), on a thread of
     * its own, so that a GPU that hangs in such a call holds no other GPU's thread.
     */
    public DeviceCallGuard(String subject, String threadName, Clock clock, GpuCallStats stats) {
        this.subject = subject;
        this.clock = clock;
        this.stats = stats;
        // daemon: a thread stuck in a hung driver call must not keep the JVM alive at exit
        this.worker = Executors.newSingleThreadExecutor(new NamedThreadFactory(threadName, true));
    }

    /** Whether a call on this GPU is still stuck past its deadline. */
    public boolean isHung() {
        return busy.get();
    }

    /** Starts a call; the future completes with its outcome within about {@code timeout}. */
    public <T> CompletableFuture<Outcome<T>> submit(String what, Callable<T> call, Duration timeout) {
        if (!busy.compareAndSet(false, true)) {
            stats.recordSkipped();
            return CompletableFuture.completedFuture(new Outcome.Hung<>(
                    "an earlier NVML call on " + subject + " has not returned; " + what + " not attempted"));
        }
        CompletableFuture<Outcome<T>> result = new CompletableFuture<>();
        long start = clock.monotonicNanos();
        try {
            worker.execute(() -> {
                Outcome<T> outcome;
                try {
                    T value = call.call();
                    long nanos = clock.monotonicNanos() - start;
                    stats.recordLatency(nanos);
                    outcome = new Outcome.Done<>(value, nanos);
                } catch (GpuException e) {
                    stats.recordLatency(clock.monotonicNanos() - start);
                    outcome = new Outcome.Failed<>(e);
                } catch (Exception | Error e) {
                    busy.set(false);
                    result.completeExceptionally(e);
                    return;
                }
                busy.set(false);
                result.complete(outcome);
            });
        } catch (RejectedExecutionException closed) {
            busy.set(false);
            return CompletableFuture.completedFuture(new Outcome.Failed<>(
                    new GpuException("NVML_ERROR_UNINITIALIZED", subject + " is no longer being sampled")));
        }
        return result.completeOnTimeout(null, timeout.toNanos(), TimeUnit.NANOSECONDS).thenApply(o -> {
            if (o != null) {
                return o;
            }
            stats.recordTimeout();
            return new Outcome.Hung<>("NVML call " + what + " on " + subject + " did not return within "
                    + timeout.toMillis() + " ms");
        });
    }

    /** Runs a call and waits for its outcome (at most about {@code timeout}). */
    public <T> Outcome<T> call(String what, Callable<T> call, Duration timeout) {
        return submit(what, call, timeout).join();
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
