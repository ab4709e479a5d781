package io.gpuagent.session;

import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerRuntime;
import io.gpuagent.container.ContainerState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The meter's look at the engine, off the meter's thread: which containers still run (settling
 * those that exited or vanished), and the resource usage of the rest, read for all sessions at
 * once. Docker's stats endpoint answers a container's usage only at its next collection, about a
 * second later, so reading eight sessions one after the other held the meter for eight seconds
 * and the live billed seconds stalled, then jumped (issue 13); here the reads run side by side on
 * the usage executor and the meter never waits for them.
 *
 * <p>A check is one call listing the running session containers' ids; only a session whose
 * container is not among them costs an inspect (its exit code and the engine's times, to settle
 * it). Usage comes from the kernel's cgroup files where the runtime can read them (HostCgroups).
 *
 * <p>At most one check runs at a time: a check due while the previous one still runs is skipped
 * (the next one comes five ticks later). The meter's ticks are never delayed by the engine.
 *
 * <p>Two things come out of the checks besides settling (issue 10, item 9): whether the engine
 * answers ({@link #problem()}: launches are refused, {@code /readyz} and the offer say renting is
 * unavailable), and the last instant the engine confirmed the running containers
 * ({@link #billableUntil}): the live meter never bills a session more than {@link #HOLD_SECONDS}
 * past it, so its figures cannot run ahead of the engine's own times while the engine is silent.
 * Checks run every five ticks while sessions run and every thirty while none does, so an engine
 * that went away is seen before most launches without costing the idle agent much.
 */
final class EngineWatch {
    private static final Logger log = LoggerFactory.getLogger(EngineWatch.class);

    private final SessionTable table;
    private final ContainerRuntime runtime;
    private final Settler settler;
    private final Stopper stopper;
    private final UsageAttributor usage;
    private final Executor checks;
    private final Executor reads;
    private final AtomicBoolean busy = new AtomicBoolean();
    /**
     * How far past the engine's last confirmation the live meter may bill: one look's period
     * ({@link SessionMeter#ENGINE_CHECK_EVERY} s) plus two seconds for the look itself, so a
     * running engine never holds the meter back.
     */
    static final long HOLD_SECONDS = SessionMeter.ENGINE_CHECK_EVERY + 2;

    /** Touched only by the check in flight (one at a time). */
    private boolean engineWarned;
    /** Null until the engine's first answer (reconcile or a check): the meter is not held before that. */
    private volatile Instant confirmedAt;
    /** Why the engine is not usable now; null while it answers. */
    private volatile String problem;

    /**
     * @param checks where a check runs (one thread in production; the caller's own thread in tests)
     * @param reads  where the usage reads of one check run side by side
     */
    EngineWatch(SessionTable table, ContainerRuntime runtime, Settler settler, Stopper stopper, UsageAttributor usage,
                Executor checks, Executor reads) {
        this.stopper = stopper;
        this.table = table;
        this.runtime = runtime;
        this.settler = settler;
        this.usage = usage;
        this.checks = checks;
        this.reads = reads;
    }

    /** Why renting is unavailable because of the engine, in words for the operator; empty while it answers. */
    Optional<String> problem() {
        return Optional.ofNullable(problem);
    }

    /**
     * The engine answered at {@code at} (reconcile listed the containers): the meter may bill up to
     * {@link #HOLD_SECONDS} past it.
     */
    void confirmed(Instant at) {
        Instant c = confirmedAt;
        if (c == null || at.isAfter(c)) {
            confirmedAt = at;
        }
        problem = null;
    }

    /**
     * The latest instant the meter may bill a session started at {@code startedAt} up to: the engine's
     * last confirmation (or the start, when later: the engine had just started it) plus
     * {@link #HOLD_SECONDS}; empty before the engine's first answer.
     */
    Optional<Instant> billableUntil(Instant startedAt) {
        Instant c = confirmedAt;
        if (c == null) {
            return Optional.empty();
        }
        Instant base = startedAt != null && startedAt.isAfter(c) ? startedAt : c;
        return Optional.of(base.plusSeconds(HOLD_SECONDS));
    }

    /**
     * Starts a check of {@code running} unless one is still in flight; {@code at} is the tick that
     * asks for it (what a good answer confirms: the containers it lists ran at least until then).
     */
    void check(List<Session> running, boolean readDisk, Instant at) {
        if (!busy.compareAndSet(false, true)) {
            log.debug("the last engine check still runs: this one is skipped");
            return;
        }
        try {
            checks.execute(() -> {
                try {
                    run(running, readDisk, at);
                } catch (RuntimeException e) {
                    log.error("engine check failed", e);
                } finally {
                    busy.set(false);
                }
            });
        } catch (RuntimeException rejected) { // shut down
            busy.set(false);
        }
    }

    private void run(List<Session> running, boolean readDisk, Instant at) {
        java.util.Set<String> alive;
        try {
            alive = runtime.runningIds(Collections.singletonMap(LaunchPolicy.LABEL_SESSION, null));
            confirmed(at);
            stopper.retryFailed();
            if (engineWarned) {
                log.info("the container engine answers again: renting is available");
                engineWarned = false;
            }
        } catch (ContainerException e) {
            if (confirmedAt == null) {
                confirmedAt = at; // never confirmed before: hold from this look on
            }
            problem = "the container engine does not answer (" + e.getMessage() + "): renting is unavailable until it "
                    + "is back";
            if (!engineWarned) {
                log.warn("the container engine does not answer ({}); no launches until it is back; running sessions' "
                        + "live billed seconds are held at {} s past its last answer, and their end is settled from the "
                        + "engine's times once it is back", e.getMessage(), HOLD_SECONDS);
                engineWarned = true;
            }
            return;
        }
        List<CompletableFuture<Void>> pending = new java.util.ArrayList<>();
        for (Session billed : running) {
            Session s = table.get(billed.id()).orElse(billed);
            if (s.state() != SessionState.RUNNING) {
                continue; // stopping meanwhile: its stop settles it with its own reason
            }
            if (!alive.contains(s.containerId())) {
                // not among the running: only now is it worth an inspect, for its exit and times
                Optional<ContainerState> c;
                try {
                    c = runtime.inspect(s.containerId());
                } catch (ContainerException e) {
                    log.debug("session {}: its container could not be inspected ({}): the next check looks again",
                            s.id(), e.getMessage());
                    continue;
                }
                if (c.isEmpty()) {
                    settler.settle(s.id(), SessionState.FAILED, EndReason.CONTAINER_DISAPPEARED,
                            "the container disappeared", null);
                    continue;
                }
                if (!c.get().running()) {
                    settler.settle(s.id(), SessionState.ENDED, EndReason.ofExit(c.get().oomKilled()),
                            Settler.exitDetail(c.get(), "the container exited"), c.get());
                    continue;
                }
            }
            pending.add(CompletableFuture.runAsync(() -> usage.refresh(s, readDisk), reads));
        }
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).exceptionally(e -> {
            log.warn("reading sessions' usage failed: {}", e.toString());
            return null;
        }).join();
    }
}
