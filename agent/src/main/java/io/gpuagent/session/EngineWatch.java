package io.gpuagent.session;

import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerRuntime;
import io.gpuagent.container.ContainerState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 */
final class EngineWatch {
    private static final Logger log = LoggerFactory.getLogger(EngineWatch.class);

    private final SessionTable table;
    private final ContainerRuntime runtime;
    private final Settler settler;
    private final UsageAttributor usage;
    private final Executor checks;
    private final Executor reads;
    private final AtomicBoolean busy = new AtomicBoolean();
    /** Touched only by the check in flight (one at a time). */
    private boolean engineWarned;

    /**
     * @param checks where a check runs (one thread in production; the caller's own thread in tests)
     * @param reads  where the usage reads of one check run side by side
     */
    EngineWatch(SessionTable table, ContainerRuntime runtime, Settler settler, UsageAttributor usage, Executor checks,
                Executor reads) {
        this.table = table;
        this.runtime = runtime;
        this.settler = settler;
        this.usage = usage;
        this.checks = checks;
        this.reads = reads;
    }

    /** Starts a check of {@code running} unless one is still in flight. */
    void check(List<Session> running, boolean readDisk) {
        if (!busy.compareAndSet(false, true)) {
            log.debug("the last engine check still runs: this one is skipped");
            return;
        }
        try {
            checks.execute(() -> {
                try {
                    run(running, readDisk);
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

    private void run(List<Session> running, boolean readDisk) {
        java.util.Set<String> alive;
        try {
            alive = runtime.runningIds(Collections.singletonMap(LaunchPolicy.LABEL_SESSION, null));
            if (engineWarned) {
                log.info("the container engine answers again");
                engineWarned = false;
            }
        } catch (ContainerException e) {
            if (!engineWarned) {
                log.warn("the container engine does not answer ({}); sessions keep being metered from their start "
                        + "times, and their end is settled from the engine's times once it is back", e.getMessage());
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
