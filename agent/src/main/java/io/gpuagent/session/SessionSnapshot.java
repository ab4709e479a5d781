package io.gpuagent.session;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.List;

/**
 * The session table as one journal snapshot record (type 0): after it is durable the journal
 * deletes the older segments, so a restart replays this and what followed instead of every tick
 * since the first session. Open sessions are all kept; ended ones only the most recent
 * {@link SessionManager#KEEP_ENDED}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record SessionSnapshot(int version, List<Entry> sessions) {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** One session, every field a restart needs. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Entry(LaunchRequest request, SessionState state, List<String> gpus, List<Integer> hostPorts,
                 String containerId, String startedAt, String finishedAt, long billedSeconds, String basis,
                 String reason, Integer exitCode, boolean oomKilled, List<String> logTail, SessionUsage usage) {
    }

    byte[] encode() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("session snapshot not encodable", e);
        }
    }

    static SessionSnapshot decode(byte[] payload) throws IOException {
        return JSON.readValue(payload, SessionSnapshot.class);
    }
}
