package io.gpuagent.session;

import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerRuntime;
import io.gpuagent.container.ContainerState;
import io.gpuagent.journal.JournalException;
import io.gpuagent.util.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The 1 Hz meter: each {@link #tick} bills every running session and makes it durable in one
 * group commit, ends sessions past their max duration or more than the credit limit ahead of
 * their vouchers ({@code payment_overdue}: that bounds the provider's loss), every
 * {@link #ENGINE_CHECK_EVERY} ticks asks the engine which containers still run (settling those
 * that exited or vanished, refreshing the usage of the rest), and every {@link #COMPACT_EVERY}
 * ticks compacts the journal.
 *
 * <p>Threads: ticks come from one thread (the daemon's {@code gpu-agent-meter}); the tick count
 * and the engine-warning flag are that thread's alone.
 */
final class SessionMeter {
    private static final Logger log = LoggerFactory.getLogger(SessionMeter.class);
    /** How often (in ticks) the engine is asked which containers still run. */
    static final int ENGINE_CHECK_EVERY = 5;
    /** Engine checks between writable-layer size readings (a minute at 1 Hz). */
    static final int DISK_EVERY = 12;
    /** Ticks between journal compactions (an hour at 1 Hz). */
    static final int COMPACT_EVERY = 3600;

    private final SessionTable table;
    private final SessionJournal journal;
    private final ContainerRuntime runtime;
    private final Stopper stopper;
    private final Settler settler;
    private final UsageAttributor usage;
    private final PaymentGate payments;
    private final long creditLimitSeconds;
    private final Clock clock;
    private long ticks;
    private boolean engineWarned;

    SessionMeter(SessionTable table, SessionJournal journal, ContainerRuntime runtime, Stopper stopper, Settler settler,
                 UsageAttributor usage, PaymentGate payments, long creditLimitSeconds, Clock clock) {
        this.table = table;
        this.journal = journal;
        this.runtime = runtime;
        this.stopper = stopper;
        this.settler = settler;
        this.usage = usage;
        this.payments = payments;
        this.creditLimitSeconds = creditLimitSeconds;
        this.clock = clock;
    }

    void tick() {
        List<Session> running = table.bill(clock.wallTime());
        List<Session> expired = running.stream()
                .filter(s -> s.billedSeconds() >= s.request().maxDurationSeconds()).toList();
        List<Session> overdue = new ArrayList<>();
        for (Session s : running) {
            OptionalLong paid = payments.paidSeconds(s.request().rentalId());
            if (paid.isPresent() && s.billedSeconds() - paid.getAsLong() > creditLimitSeconds && !expired.contains(s)) {
                log.warn("session {}: metered {} s but its vouchers pay {} s, more than the credit limit of {} s behind: "
                        + "ending it", s.id(), s.billedSeconds(), paid.getAsLong(), creditLimitSeconds);
                overdue.add(s);
            }
        }
        journal.commit();
        expired.forEach(s -> stopper.stopQuietly(s.id(), EndReason.MAX_DURATION, "max_duration"));
        overdue.forEach(s -> stopper.stopQuietly(s.id(), EndReason.PAYMENT_OVERDUE, "payment_overdue"));
        if (++ticks % ENGINE_CHECK_EVERY == 0 && !running.isEmpty()) {
            checkEngine(running, (ticks / ENGINE_CHECK_EVERY) % DISK_EVERY == 1);
        }
        if (ticks % COMPACT_EVERY == 0 && !journal.isDegraded()) {
            try {
                table.compact();
            } catch (JournalException e) {
                journal.failed(e);
            }
        }
    }

    private void checkEngine(List<Session> running, boolean readDisk) {
        List<ContainerState> containers;
        try {
            containers = runtime.list(Collections.singletonMap(LaunchPolicy.LABEL_SESSION, null));
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
        Map<String, ContainerState> byId = new HashMap<>();
        containers.forEach(c -> byId.put(c.id(), c));
        for (Session billed : running) {
            Session s = table.get(billed.id()).orElse(billed);
            if (s.state() != SessionState.RUNNING) {
                continue; // stopping meanwhile: its stop settles it with its own reason
            }
            ContainerState c = byId.get(s.containerId());
            if (c == null) {
                settler.settle(s.id(), SessionState.FAILED, EndReason.CONTAINER_DISAPPEARED, "the container disappeared",
                        null);
            } else if (!c.running()) {
                settler.settle(s.id(), SessionState.ENDED, EndReason.ofExit(c.oomKilled()),
                        Settler.exitDetail(c, "the container exited"), c);
            } else {
                usage.refresh(s, readDisk);
            }
        }
    }
}
