package io.gpuagent.session;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.List;

/**
 * What the session layer writes into the journal: one JSON object per record, its journal type
 * telling which. Every field a restart needs to rebuild the session table is here; the format is
 * documented in docs/sessions.md and shown by {@code gpu-agent journal dump}.
 *
 * <ul>
 *   <li>{@link #INTENT} (type 1): a launch accepted by the policy, before anything is created;</li>
 *   <li>{@link #STATE} (type 2): a transition, journaled before it takes effect;</li>
 *   <li>{@link #USAGE} (type 3): cumulative billed seconds of a running session, one per tick, all
 *       sessions in one group commit; every few ticks also its resource usage;</li>
 *   <li>{@link #END} (type 4): the final account: Docker's start and finish times, billed seconds,
 *       exit code, OOM, the reason and the last log lines.</li>
 * </ul>
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SessionRecord(String session, LaunchRequest request, List<String> gpus, List<Integer> hostPorts,
                            Long epoch, SessionState from, SessionState to, String reason, String containerId,
                            String startedAt, String finishedAt, Long billedSeconds, String basis, Integer exitCode,
                            Boolean oomKilled, List<String> logTail, String at, SessionUsage usage) {
    public static final int INTENT = 1;
    public static final int STATE = 2;
    public static final int USAGE = 3;
    public static final int END = 4;

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public byte[] encode() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("session record not encodable", e);
        }
    }

    public static SessionRecord decode(byte[] payload) throws IOException {
        return JSON.readValue(payload, SessionRecord.class);
    }

    static SessionRecord intent(LaunchRequest r, List<String> gpus, List<Integer> hostPorts, long epoch, String at) {
        return new SessionRecord(r.sessionId(), r, gpus, hostPorts, epoch, null, SessionState.REQUESTED, null, null,
                null, null, null, null, null, null, null, at, null);
    }

    static SessionRecord state(String id, SessionState from, SessionState to, String reason, String containerId,
                               String at) {
        return new SessionRecord(id, null, null, null, null, from, to, reason, containerId, null, null, null, null, null,
                null, null, at, null);
    }

    static SessionRecord usage(String id, String startedAt, long billed, String basis, String at, SessionUsage usage) {
        return new SessionRecord(id, null, null, null, null, null, null, null, null, startedAt, null, billed, basis,
                null, null, null, at, usage);
    }

    static SessionRecord end(String id, SessionState from, SessionState to, String reason, String startedAt,
                             String finishedAt, long billed, String basis, Integer exitCode, Boolean oom,
                             List<String> logTail, String at, SessionUsage usage) {
        return new SessionRecord(id, null, null, null, null, from, to, reason, null, startedAt, finishedAt, billed, basis,
                exitCode, oom, logTail, at, usage);
    }
}
