package io.gpuagent.session;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * What the session layer writes into the journal: one JSON object per record, the journal's
 * record type telling which of the four it is. Every field a restart needs to rebuild the session
 * table is here; the format is documented in docs/sessions.md and shown by
 * {@code gpu-agent journal dump}.
 *
 * <h2>Compatibility</h2>
 * The bytes are those agents wrote before this family existed (one 18-field record, commit
 * 11d5962): the same property names in the same order, nulls omitted. The only addition is the
 * optional {@code code} (an {@link EndReason}) of {@link StateChange} and {@link End}; a record
 * without it (written by an older agent) gets its code from {@link EndReason#fromLegacyText}, so
 * older journals replay unchanged, and older agents, which ignore unknown properties, still read
 * what this one writes. {@code SessionJournalCompatibilityTest} replays journals of that commit.
 */
public sealed interface SessionRecord {
    /** Journal record types of the session layer (the journal reserves 0 for snapshots). */
    int INTENT = 1;
    int STATE = 2;
    int USAGE = 3;
    int END = 4;

    /** The session the record is about. */
    String session();

    /** Its journal record type. */
    int type();

    /** A launch accepted by the policy, journaled before anything is created. {@code to} is always REQUESTED. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Intent(String session, LaunchRequest request, List<String> gpus, List<Integer> hostPorts, Long epoch,
                  SessionState to, String at) implements SessionRecord {
        public Intent(LaunchRequest request, List<String> gpus, List<Integer> hostPorts, long epoch, String at) {
            this(request.sessionId(), request, gpus, hostPorts, epoch, SessionState.REQUESTED, at);
        }

        @Override
        public int type() {
            return INTENT;
        }
    }

    /** A transition, journaled before it takes effect; {@code code} says why a session is ending (STOPPING). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record StateChange(String session, SessionState from, SessionState to, String reason, EndReason code,
                       String containerId, String at) implements SessionRecord {
        @Override
        public int type() {
            return STATE;
        }

        /** The end reason of a transition to STOPPING, also from records written before codes existed. */
        public Optional<EndReason> endReason() {
            if (code != null) {
                return Optional.of(code);
            }
            return to == SessionState.STOPPING ? Optional.of(EndReason.fromLegacyText(reason)) : Optional.empty();
        }
    }

    /** Cumulative billed seconds of a running session, one per tick; every few ticks its resource usage too. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Usage(String session, String startedAt, Long billedSeconds, String basis, String at, SessionUsage usage)
            implements SessionRecord {
        @Override
        public int type() {
            return USAGE;
        }
    }

    /** The final account: the engine's start and finish times, billed seconds, exit code, OOM, the reason, the last log lines. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record End(String session, SessionState from, SessionState to, String reason, EndReason code, String startedAt,
               String finishedAt, Long billedSeconds, String basis, Integer exitCode, Boolean oomKilled,
               List<String> logTail, String at, SessionUsage usage) implements SessionRecord {
        @Override
        public int type() {
            return END;
        }

        /** The end reason, also for records written before codes existed. */
        public EndReason endReason() {
            return code != null ? code : EndReason.fromLegacyText(reason);
        }
    }

    /** The record as the journal stores it. */
    default byte[] encode() {
        try {
            return Json.MAPPER.writeValueAsBytes(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("session record not encodable", e);
        }
    }

    /**
     * Reads a journal record of the session layer.
     *
     * @return empty for a record type that is not the session layer's
     * @throws IOException when the payload is not a record of its type
     */
    static Optional<SessionRecord> decode(int type, byte[] payload) throws IOException {
        Class<? extends SessionRecord> kind = switch (type) {
            case INTENT -> Intent.class;
            case STATE -> StateChange.class;
            case USAGE -> Usage.class;
            case END -> End.class;
            default -> null;
        };
        return kind == null ? Optional.empty() : Optional.of(Json.MAPPER.readValue(payload, kind));
    }

    /** The one mapper of the session layer's journal records and snapshots. */
    final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper()
                .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

        private Json() {
        }
    }
}
