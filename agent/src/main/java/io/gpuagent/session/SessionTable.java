package io.gpuagent.session;

import io.gpuagent.container.ContainerState;
import io.gpuagent.journal.JournalException;
import io.gpuagent.journal.JournalRecord;
import io.gpuagent.metering.BillingRule;
import io.gpuagent.util.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The one owner of mutable session state: the current {@link Session} value of every session,
 * and the GPUs and host ports each holds. Every change happens under the table's lock, and every
 * change that a restart must see is journaled before it is applied, in the same critical section,
 * so the journal's order is the order changes took effect and a snapshot covers every record
 * appended before it.
 *
 * <p>The lock is held for the journal write (an fsync for transitions, an append for usage) and
 * never for an engine call: callers do those outside, with the immutable {@link Session} copies
 * this table hands out. Listeners are not called from here either; the caller tells them once
 * it has finished its step.
 */
final class SessionTable {
    private static final Logger log = LoggerFactory.getLogger(SessionTable.class);

    private final Object lock = new Object();
    /** Session id -> its current value, in launch order; guarded by {@link #lock}. */
    private final Map<String, Session> sessions = new LinkedHashMap<>();
    private final SessionJournal journal;
    private final GpuAllocator gpus;
    private final PortAllocator ports;
    private final Clock clock;
    private final long epoch;

    /** The physical GPUs these units are on (a MIG instance's GPU; a whole GPU itself), for the CUDA check. */
    List<String> gpusOf(List<String> units) {
        return units.stream().map(u -> gpus.unit(u).map(GpuUnit::gpuUuid).orElse(u)).distinct().toList();
    }

    /** How many GPUs' worth these units are ({@link GpuAllocator#share}). */
    double gpuShare(List<String> units) {
        return gpus.share(units);
    }

    SessionTable(SessionJournal journal, GpuAllocator gpus, PortAllocator ports, Clock clock, long epoch) {
        this.journal = journal;
        this.gpus = gpus;
        this.ports = ports;
        this.clock = clock;
        this.epoch = epoch;
    }

    /** The checks a launch must pass before anything is allocated (draining, journal, policy). */
    @FunctionalInterface
    interface Admission {
        void check(LaunchRequest r) throws SessionException;
    }

    /** A launch's place in the table: {@code fresh} when this call created it (and so must run it). */
    record Admitted(Session session, boolean fresh) {
    }

    /** A journaled transition: the session after it and the journal position of its record. */
    record Transition(Session session, long seq) {
    }

    /** What a stop request did: nothing (ending already), deferred until the launch runs, or STOPPING. */
    enum StopOutcome { NOTHING_TO_DO, DEFERRED, STOPPING }

    record StopDecision(Session session, StopOutcome outcome) {
    }

    /** Rebuilds the table from the journal (start-up, before anything else uses it). */
    void recover(List<JournalRecord> records) throws IOException {
        LinkedHashMap<String, Session> replayed = SessionJournal.replay(records);
        synchronized (lock) {
            sessions.clear();
            sessions.putAll(replayed);
        }
    }

    /**
     * Accepts a launch: idempotent by session id (an existing session with the same image and
     * rental is returned as it is), else the admission checks, the GPUs and ports, and the intent
     * journaled durably, all or nothing.
     */
    Admitted admit(LaunchRequest r, Admission admission) throws SessionException {
        synchronized (lock) {
            Session existing = sessions.get(r.sessionId());
            if (existing != null) {
                if (!existing.request().image().equals(r.image()) || !existing.request().rentalId().equals(r.rentalId())) {
                    throw new SessionException("session_conflict", "session " + r.sessionId() + " exists with "
                            + "another image or rental");
                }
                return new Admitted(existing, false);
            }
            admission.check(r);
            List<String> g;
            try {
                g = gpus.allocate(r.sessionId(), UnitRequest.from(r.gpuUuids(), r.migProfile(), r.gpuCount(), r.topology()));
            } catch (AllocationException e) {
                throw new SessionException(e.code(), e.getMessage(), e);
            }
            List<Integer> p;
            try {
                p = ports.allocate(r.sessionId(), r.ports().size());
            } catch (PolicyViolationException e) {
                gpus.release(r.sessionId());
                throw new SessionException("policy_" + e.rule(), e.getMessage(), e);
            }
            try {
                journal.durably(new SessionRecord.Intent(r, g, p, epoch, now()));
            } catch (JournalException e) {
                gpus.release(r.sessionId());
                ports.release(r.sessionId());
                throw new SessionException("journal", "the launch could not be journaled: " + e.getMessage(), e);
            }
            Session s = Session.accepted(r, g, p);
            sessions.put(r.sessionId(), s);
            return new Admitted(s, true);
        }
    }

    /**
     * Journals a transition durably, then applies it.
     *
     * @param code   why the session ends, for a transition to STOPPING; else null
     * @param reason the new state's detail, or null to keep the current one
     * @throws IllegalTransitionException when the table does not allow it (a bug)
     * @throws SessionException           ({@code journal}) when it could not be journaled; nothing changed
     */
    Transition transition(String id, SessionState to, EndReason code, String reason) throws SessionException {
        synchronized (lock) {
            Session s = require(id);
            SessionState.check(id, s.state(), to);
            long seq;
            try {
                seq = journal.durably(new SessionRecord.StateChange(id, s.state(), to, reason, code, s.containerId(),
                        now()));
            } catch (JournalException e) {
                journal.failed(e);
                throw new SessionException("journal", "session " + id + ": " + s.state() + " -> " + to
                        + " could not be journaled: " + e.getMessage(), e);
            }
            Session next = s.with(d -> {
                d.state = to;
                if (reason != null) {
                    d.reason = reason;
                }
                if (code != null) {
                    d.endReason = code;
                }
            });
            sessions.put(id, next);
            return new Transition(next, seq);
        }
    }

    /**
     * Asks a session to stop: a running one goes to STOPPING (journaled); one still launching
     * remembers the request, which its launch carries out; one already ending is left alone.
     */
    StopDecision requestStop(String id, EndReason code, String reason) throws SessionException {
        synchronized (lock) {
            Session s = sessions.get(id);
            if (s == null) {
                throw new SessionException("unknown_session", "no session " + id);
            }
            if (s.state().terminal() || s.state() == SessionState.STOPPING) {
                return new StopDecision(s, StopOutcome.NOTHING_TO_DO);
            }
            if (s.state() != SessionState.RUNNING) {
                Session next = s.with(d -> d.stopRequested = new Session.StopRequest(code, reason));
                sessions.put(id, next);
                return new StopDecision(next, StopOutcome.DEFERRED);
            }
            return new StopDecision(transition(id, SessionState.STOPPING, code, reason).session(), StopOutcome.STOPPING);
        }
    }

    /** Changes what is not journaled on its own (container id, start time, pull progress, usage). */
    Session update(String id, Consumer<Session.Draft> change) {
        synchronized (lock) {
            Session next = require(id).with(change);
            sessions.put(id, next);
            return next;
        }
    }

    /**
     * Takes back what a container found running after a restart holds: its GPUs (the engine's
     * word over the journal's), its ports, its id and the engine's start time.
     */
    Session adopt(String id, ContainerState c) {
        synchronized (lock) {
            Session s = require(id);
            List<String> held = c.gpuUuids().isEmpty() ? s.gpus() : c.gpuUuids();
            List<UnitConflict> conflicts = gpus.adopt(id, held);
            if (!conflicts.isEmpty()) {
                log.error("session {}: its container holds units the allocator disagrees with: {}", id, conflicts);
            }
            ports.adopt(id, s.hostPorts());
            Session next = s.with(d -> {
                d.gpus = List.copyOf(held);
                d.containerId = c.id();
                d.startedAt = c.startedAt();
            });
            sessions.put(id, next);
            return next;
        }
    }

    /**
     * The in-table part of a session's end: billed from the engine's start and finish times
     * ({@code c}, when known), the END record journaled durably, the state applied, GPUs and ports
     * freed. A journal failure is handled (and the end settled again from the engine after the
     * restart it causes); the state still changes in memory.
     *
     * @return the ended session, or empty when it had ended already
     * @throws IllegalTransitionException when the table does not allow {@code to} from its state (a bug)
     */
    Optional<Session> settle(String id, SessionState to, EndReason code, String reason, ContainerState c,
                             List<String> logTail) {
        synchronized (lock) {
            Session s = require(id);
            if (s.state().terminal()) {
                return Optional.empty();
            }
            SessionState.check(id, s.state(), to);
            Session ended = s.with(d -> {
                if (c != null && c.startedAt() != null) {
                    d.startedAt = c.startedAt();
                    d.finishedAt = c.finishedAt();
                }
                if (d.startedAt != null) {
                    BillingRule.BilledTime b = BillingRule.billedSeconds(d.startedAt, d.finishedAt,
                            d.finishedAt != null ? d.finishedAt : clock.wallTime());
                    d.billedSeconds = b.seconds();
                    d.basis = b.basis().name();
                }
                d.exitCode = c == null ? null : c.exitCode();
                d.oomKilled = c != null && c.oomKilled();
                d.logTail = logTail;
                d.state = to;
                d.reason = reason;
                d.endReason = code;
            });
            try {
                journal.durably(new SessionRecord.End(id, s.state(), to, reason, code,
                        SessionSnapshot.text(ended.startedAt()), SessionSnapshot.text(ended.finishedAt()),
                        ended.billedSeconds(), ended.basis(), ended.exitCode(), ended.oomKilled(), ended.logTail(), now(),
                        ended.view().usage()));
            } catch (JournalException e) {
                journal.failed(e);
            }
            sessions.put(id, ended);
            gpus.release(id);
            ports.release(id);
            return Optional.of(ended);
        }
    }

    /**
     * The tick's billing: every metered session's cumulative billed seconds at {@code now} (never
     * less than before, even if the wall clock stepped back: vouchers only ever grow), each
     * appended as a USAGE record to the next group commit, with its resource usage when that was
     * refreshed since the last one. Metered: RUNNING, and STOPPING (its container still runs until
     * the stop settles it from the engine's times). A container that started after {@code now} (the
     * tick's scheduled instant) and was never billed is metered from the next tick on.
     *
     * @return the metered sessions as billed, in table order
     */
    List<Session> bill(Instant now) {
        return bill(now, startedAt -> Optional.empty());
    }

    /**
     * Bills every running and stopping session at {@code now}, or at {@code until(startedAt)} when
     * that is earlier (the engine's last confirmation plus the hold: the live figure waits for the
     * engine instead of running ahead of its times); a session's billed seconds never go down.
     */
    List<Session> bill(Instant now, java.util.function.Function<Instant, Optional<Instant>> until) {
        synchronized (lock) {
            List<Session> running = new ArrayList<>();
            for (Map.Entry<String, Session> e : sessions.entrySet()) {
                Session s = e.getValue();
                boolean metered = s.state() == SessionState.RUNNING || s.state() == SessionState.STOPPING;
                boolean startsAfterThisTick = s.startedAt() != null && s.startedAt().isAfter(now) && s.billedSeconds() == 0;
                if (!metered || s.startedAt() == null || startsAfterThisTick) {
                    continue; // (a session billed before keeps being reported when the wall clock steps back)
                }
                Instant upTo = until.apply(s.startedAt()).filter(u -> u.isBefore(now)).orElse(now);
                BillingRule.BilledTime b = BillingRule.billedSeconds(s.startedAt(), null, upTo);
                Session next = s.with(d -> {
                    d.billedSeconds = Math.max(s.billedSeconds(), b.seconds());
                    d.basis = b.basis().name();
                    d.usageFresh = false;
                });
                journal.append(new SessionRecord.Usage(s.id(), s.startedAt().toString(), next.billedSeconds(),
                        next.basis(), now.toString(), s.usageFresh() ? next.view().usage() : null));
                e.setValue(next);
                running.add(next);
            }
            return running;
        }
    }

    /**
     * Writes the table as a journal snapshot and forgets the ended sessions it did not keep. Under
     * the lock, so the snapshot covers every record appended before it.
     */
    void compact() throws JournalException {
        synchronized (lock) {
            List<Session> kept = journal.snapshot(List.copyOf(sessions.values()));
            Set<String> ids = kept.stream().map(Session::id).collect(Collectors.toSet());
            sessions.keySet().retainAll(ids);
            log.info("journal compacted: {} sessions in the snapshot", kept.size());
        }
    }

    Optional<Session> get(String id) {
        synchronized (lock) {
            return Optional.ofNullable(sessions.get(id));
        }
    }

    /** Every session, in launch order. */
    List<Session> all() {
        synchronized (lock) {
            return List.copyOf(sessions.values());
        }
    }

    /** Sessions not yet ended or failed. */
    List<Session> open() {
        synchronized (lock) {
            return sessions.values().stream().filter(s -> !s.state().terminal()).toList();
        }
    }

    /**
     * The sessions a fault on a unit concerns: the holder of a MIG instance; for a GPU, the holder
     * of it whole and of each of its MIG instances.
     */
    List<String> sessionsOn(String unitUuid) {
        return gpus.sessionsOn(unitUuid);
    }

    private Session require(String id) {
        Session s = sessions.get(id);
        if (s == null) {
            throw new IllegalStateException("session " + id + " is not in the table");
        }
        return s;
    }

    private String now() {
        return clock.wallTime().toString();
    }
}
