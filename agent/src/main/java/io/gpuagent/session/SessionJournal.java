package io.gpuagent.session;

import io.gpuagent.journal.Journal;
import io.gpuagent.journal.JournalException;
import io.gpuagent.journal.JournalFatalException;
import io.gpuagent.journal.JournalRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The session layer's side of the write-ahead {@link Journal}: writes {@link SessionRecord}s,
 * rebuilds the table from them after a restart ({@link #replay}), and writes the snapshots that
 * let the journal drop old segments ({@link #snapshot}). It keeps no session state of its own:
 * {@link SessionTable} calls it under the table's lock, so records reach the journal in the order
 * their changes took effect.
 *
 * <p>Failures: a {@link JournalFatalException} (fsync failed) goes to the daemon's fatal handler,
 * which exits so that systemd restarts the agent; others (a full disk) are logged, and the journal
 * keeps the records until it can write them.
 */
final class SessionJournal {
    private static final Logger log = LoggerFactory.getLogger(SessionJournal.class);
    /** Ended sessions kept in a snapshot (and so in the table after a restart). */
    static final int KEEP_ENDED = 200;

    private final Journal journal;
    private final Consumer<Throwable> fatal;

    SessionJournal(Journal journal, Consumer<Throwable> fatal) {
        this.journal = journal;
        this.fatal = fatal;
    }

    /** Appends a record and waits until it is durable; returns its sequence number. */
    long durably(SessionRecord r) throws JournalException {
        return journal.appendDurably(r.type(), r.encode());
    }

    /** Appends a record to the next group commit (usage ticks); a failure is handled here. */
    void append(SessionRecord r) {
        try {
            journal.append(r.type(), r.encode());
        } catch (JournalException e) {
            failed(e);
        }
    }

    /** The tick's group commit: everything appended since the last one, one write and one fdatasync. */
    void commit() {
        try {
            journal.commit();
        } catch (JournalException e) {
            failed(e);
        }
    }

    boolean isDegraded() {
        return journal.isDegraded();
    }

    Optional<String> degradedReason() {
        return journal.degradedReason();
    }

    /** A journal failure seen by the session layer: fatal ones end the agent, the rest are logged. */
    void failed(JournalException e) {
        if (e instanceof JournalFatalException) {
            fatal.accept(e);
        } else {
            log.warn("journal: {}", e.getMessage());
        }
    }

    /**
     * Writes {@code table} as a snapshot (every open session and the newest {@link #KEEP_ENDED}
     * ended ones) and lets the journal delete older segments.
     *
     * @return the sessions the snapshot kept, in table order
     */
    List<Session> snapshot(Collection<Session> table) throws JournalException {
        List<Session> ended = table.stream().filter(s -> s.state().terminal()).toList();
        List<Session> dropped = ended.subList(0, Math.max(0, ended.size() - KEEP_ENDED));
        List<Session> kept = new ArrayList<>(table);
        kept.removeAll(dropped);
        journal.snapshot(new SessionSnapshot(1, kept.stream().map(SessionSnapshot.Entry::of).toList()).encode());
        return kept;
    }

    /**
     * Rebuilds the session table from the journal's records, in order: a snapshot replaces what
     * came before it; records of other layers' types are skipped.
     */
    static LinkedHashMap<String, Session> replay(List<JournalRecord> records) throws IOException {
        LinkedHashMap<String, Session> table = new LinkedHashMap<>();
        for (JournalRecord r : records) {
            if (r.isSnapshot()) {
                table.clear();
                for (SessionSnapshot.Entry e : SessionSnapshot.decode(r.payload()).sessions()) {
                    table.put(e.request().sessionId(), e.toSession());
                }
                continue;
            }
            Optional<SessionRecord> decoded = SessionRecord.decode(r.type(), r.payload());
            if (decoded.isEmpty()) {
                continue;
            }
            SessionRecord sr = decoded.get();
            if (sr instanceof SessionRecord.Intent i) {
                table.put(i.session(), Session.accepted(i.request(), i.gpus(), i.hostPorts()));
            } else {
                table.computeIfPresent(sr.session(), (id, s) -> apply(s, sr));
            }
        }
        return table;
    }

    private static Session apply(Session s, SessionRecord r) {
        if (r instanceof SessionRecord.StateChange c) {
            return s.with(d -> {
                d.state = c.to();
                d.reason = c.reason();
                c.endReason().ifPresent(code -> d.endReason = code);
                if (c.containerId() != null) {
                    d.containerId = c.containerId();
                }
            });
        }
        if (r instanceof SessionRecord.Usage u) {
            return s.with(d -> {
                if (u.usage() != null) {
                    d.usage = u.usage();
                }
                d.billedSeconds = Math.max(d.billedSeconds, u.billedSeconds() == null ? 0 : u.billedSeconds());
                if (u.startedAt() != null) {
                    d.startedAt = SessionSnapshot.instant(u.startedAt());
                }
            });
        }
        if (r instanceof SessionRecord.End e) {
            return s.with(d -> {
                d.state = e.to();
                d.reason = e.reason();
                d.endReason = e.endReason();
                d.billedSeconds = e.billedSeconds() == null ? 0 : e.billedSeconds();
                d.exitCode = e.exitCode();
                d.oomKilled = Boolean.TRUE.equals(e.oomKilled());
                if (e.startedAt() != null) {
                    d.startedAt = SessionSnapshot.instant(e.startedAt());
                }
                d.finishedAt = SessionSnapshot.instant(e.finishedAt());
                d.logTail = e.logTail();
                if (e.usage() != null) {
                    d.usage = e.usage();
                }
            });
        }
        return s; // intents never get here: replay puts them
    }
}
