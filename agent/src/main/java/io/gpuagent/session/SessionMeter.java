package io.gpuagent.session;

import io.gpuagent.journal.JournalException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The 1 Hz meter: each {@link #tick} bills every metered session at the tick's instant and makes
 * it durable in one group commit, ends sessions past their max duration or more than the credit
 * limit ahead of their vouchers ({@code payment_overdue}: that bounds the provider's loss), tells
 * the listener every metered session's billed seconds (the live meter), every
 * {@link #ENGINE_CHECK_EVERY} ticks starts a look at the engine ({@link EngineWatch}, which never
 * holds the tick), and every {@link #COMPACT_EVERY} ticks compacts the journal.
 *
 * <p>Threads: ticks come from one thread (the daemon's {@code gpu-agent-meter}); the tick count
 * is that thread's alone.
 */
final class SessionMeter {
    private static final Logger log = LoggerFactory.getLogger(SessionMeter.class);
    /** How often (in ticks) the engine is asked which containers still run. */
    static final int ENGINE_CHECK_EVERY = 5;
    /** How often (in ticks) the engine is looked at while no session runs (whether it answers). */
    static final int IDLE_ENGINE_CHECK_EVERY = 30;
    /** Engine checks between writable-layer size readings (a minute at 1 Hz). */
    static final int DISK_EVERY = 12;
    /** Ticks between journal compactions (an hour at 1 Hz). */
    static final int COMPACT_EVERY = 3600;

    private final SessionTable table;
    private final SessionJournal journal;
    private final Stopper stopper;
    private final EngineWatch engine;
    private final SessionListener listener;
    private final PaymentGate payments;
    private final long creditLimitSeconds;
    private long ticks;

    SessionMeter(SessionTable table, SessionJournal journal, Stopper stopper, EngineWatch engine,
                 SessionListener listener, PaymentGate payments, long creditLimitSeconds) {
        this.table = table;
        this.journal = journal;
        this.stopper = stopper;
        this.engine = engine;
        this.listener = listener;
        this.payments = payments;
        this.creditLimitSeconds = creditLimitSeconds;
    }

    /**
     * One tick at {@code now}: the daemon passes the tick's scheduled instant (a whole number of
     * seconds after the meter started), so consecutive ticks are exactly a second apart and each
     * session's billed seconds rise by exactly one per tick however late the thread runs.
     */
    void tick(Instant now) {
        List<Session> metered = table.bill(now, engine::billableUntil);
        List<Session> running = metered.stream().filter(s -> s.state() == SessionState.RUNNING).toList();
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
        if (!metered.isEmpty()) {
            listener.onUsage(metered.stream().map(Session::view).toList());
        }
        expired.forEach(s -> stopper.stopQuietly(s.id(), EndReason.MAX_DURATION, "max_duration"));
        overdue.forEach(s -> stopper.stopQuietly(s.id(), EndReason.PAYMENT_OVERDUE, "payment_overdue"));
        // with no session running or stopping, less often: renting needs to know the engine answers, but each look costs
        // the idle agent ~0.2 % of a core at every 5 s (docs/benchmarks.md, issue 10)
        if (++ticks % (metered.isEmpty() ? IDLE_ENGINE_CHECK_EVERY : ENGINE_CHECK_EVERY) == 0) { // stopping ones too
            engine.check(running, (ticks / ENGINE_CHECK_EVERY) % DISK_EVERY == 1, now);
        }
        if (ticks % COMPACT_EVERY == 0 && !journal.isDegraded()) {
            try {
                table.compact();
            } catch (JournalException e) {
                journal.failed(e);
            }
        }
    }
}
