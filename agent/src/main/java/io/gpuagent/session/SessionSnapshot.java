package io.gpuagent.session;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;

import java.io.IOException;
import java.time.Instant;
import java.util.List;

/**
 * The session table as one journal snapshot record (type 0): after it is durable the journal
 * deletes the older segments, so a restart replays this and what followed instead of every tick
 * since the first session. {@link SessionJournal#snapshot} decides which sessions it keeps.
 * Same compatibility rule as {@link SessionRecord}: the old properties in the old order, plus an
 * optional {@code endReason}, derived from the reason when absent.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record SessionSnapshot(int version, List<Entry> sessions) {

    /** One session, every field a restart needs. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Entry(LaunchRequest request, SessionState state, List<String> gpus, List<Integer> hostPorts,
                 String containerId, String startedAt, String finishedAt, long billedSeconds, String basis,
                 String reason, EndReason endReason, Integer exitCode, boolean oomKilled, List<String> logTail,
                 SessionUsage usage) {

        static Entry of(Session s) {
            return new Entry(s.request(), s.state(), s.gpus(), s.hostPorts(), s.containerId(), text(s.startedAt()),
                    text(s.finishedAt()), s.billedSeconds(), s.basis(), s.reason(), s.endReason(), s.exitCode(),
                    s.oomKilled(), s.logTail(), s.usage());
        }

        Session toSession() {
            EndReason code = endReason;
            if (code == null && (state.terminal() || state == SessionState.STOPPING)) {
                code = EndReason.fromLegacyText(reason); // written before codes existed
            }
            return new Session(request, state, gpus, hostPorts, containerId, instant(startedAt), instant(finishedAt),
                    billedSeconds, basis, code, reason, exitCode, oomKilled, null, logTail, usage, false, null);
        }
    }

    static String text(Instant t) {
        return t == null ? null : t.toString();
    }

    static Instant instant(String t) {
        return t == null ? null : Instant.parse(t);
    }

    byte[] encode() {
        try {
            return SessionRecord.Json.MAPPER.writeValueAsBytes(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("session snapshot not encodable", e);
        }
    }

    static SessionSnapshot decode(byte[] payload) throws IOException {
        return SessionRecord.Json.MAPPER.readValue(payload, SessionSnapshot.class);
    }
}
