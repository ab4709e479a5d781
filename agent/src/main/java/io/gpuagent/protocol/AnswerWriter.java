package io.gpuagent.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.SerializedString;

import java.io.IOException;
import java.util.List;

/**
 * Writes the bodies the agent sends most (a session for status, launch and stop, the session list,
 * session events and usage, heartbeats, errors) field by field into a generator, as databind would
 * write them with {@link MessageCodec}'s settings: the record's components in order, snake_case
 * names, null fields left out, null list elements written as null. Under the unit's C1-only JIT
 * databind's reflective accessors, boxing and per-value serializer lookups cost twice what the JSON
 * itself does; this costs the JSON. Every other message goes through databind.
 *
 * <p>ProtocolCodecEquivalenceTest holds it to databind's bytes, with records whose components it
 * fills by reflection: a component added to one of these records fails that test until it is
 * written here too.
 */
final class AnswerWriter {
    private static final SerializableString SESSION = name("session");
    private static final SerializableString SESSIONS = name("sessions");
    private static final SerializableString DRAINING = name("draining");
    private static final SerializableString RENTAL = name("rental");
    private static final SerializableString RENTER = name("renter");
    private static final SerializableString IMAGE = name("image");
    private static final SerializableString STATE = name("state");
    private static final SerializableString GPUS = name("gpus");
    private static final SerializableString HOST_PORTS = name("host_ports");
    private static final SerializableString CONTAINER_ID = name("container_id");
    private static final SerializableString STARTED_AT = name("started_at");
    private static final SerializableString FINISHED_AT = name("finished_at");
    private static final SerializableString BILLED_SECONDS = name("billed_seconds");
    private static final SerializableString REASON = name("reason");
    private static final SerializableString END_REASON = name("end_reason");
    private static final SerializableString EXIT_CODE = name("exit_code");
    private static final SerializableString OOM_KILLED = name("oom_killed");
    private static final SerializableString PULL_PROGRESS = name("pull_progress");
    private static final SerializableString USAGE = name("usage");
    private static final SerializableString GPU_SECONDS = name("gpu_seconds");
    private static final SerializableString GPU_UTIL_PERCENT = name("gpu_util_percent");
    private static final SerializableString GPU_MEMORY_BYTES = name("gpu_memory_bytes");
    private static final SerializableString CPU_SECONDS = name("cpu_seconds");
    private static final SerializableString MEMORY_BYTES = name("memory_bytes");
    private static final SerializableString PEAK_MEMORY_BYTES = name("peak_memory_bytes");
    private static final SerializableString NET_RX_BYTES = name("net_rx_bytes");
    private static final SerializableString NET_TX_BYTES = name("net_tx_bytes");
    private static final SerializableString DISK_BYTES = name("disk_bytes");
    private static final SerializableString TIME = name("time");
    private static final SerializableString CODE = name("code");
    private static final SerializableString MESSAGE = name("message");

    private AnswerWriter() {
    }

    private static SerializableString name(String s) {
        return new SerializedString(s);
    }

    /** Writes the body of {@code m} and returns true, or returns false having written nothing (databind's turn). */
    static boolean write(JsonGenerator g, Message m) throws IOException {
        if (m instanceof Message.SessionReply r) {
            sessionBody(g, r.session());
        } else if (m instanceof Message.SessionState s) {
            sessionBody(g, s.session());
        } else if (m instanceof Message.SessionEnded s) {
            sessionBody(g, s.session());
        } else if (m instanceof Message.Sessions s) {
            g.writeStartObject();
            if (s.sessions() != null) {
                g.writeFieldName(SESSIONS);
                g.writeStartArray();
                for (Message.SessionInfo i : s.sessions()) {
                    session(g, i);
                }
                g.writeEndArray();
            }
            g.writeFieldName(DRAINING);
            g.writeBoolean(s.draining());
            g.writeEndObject();
        } else if (m instanceof Message.SessionUsage u) {
            g.writeStartObject();
            string(g, SESSION, u.session());
            string(g, RENTAL, u.rental());
            g.writeFieldName(BILLED_SECONDS);
            g.writeNumber(u.billedSeconds());
            if (u.usage() != null) {
                g.writeFieldName(USAGE);
                usage(g, u.usage());
            }
            g.writeEndObject();
        } else if (m instanceof Message.Heartbeat h) {
            g.writeStartObject();
            string(g, TIME, h.time());
            g.writeEndObject();
        } else if (m instanceof Message.Error e) {
            g.writeStartObject();
            string(g, CODE, e.code());
            string(g, MESSAGE, e.message());
            g.writeEndObject();
        } else {
            return false;
        }
        return true;
    }

    /** {@code {"session": <session>}}. */
    private static void sessionBody(JsonGenerator g, Message.SessionInfo s) throws IOException {
        g.writeStartObject();
        if (s != null) {
            g.writeFieldName(SESSION);
            session(g, s);
        }
        g.writeEndObject();
    }

    private static void session(JsonGenerator g, Message.SessionInfo s) throws IOException {
        if (s == null) {
            g.writeNull();
            return;
        }
        g.writeStartObject();
        string(g, SESSION, s.session());
        string(g, RENTAL, s.rental());
        string(g, RENTER, s.renter());
        string(g, IMAGE, s.image());
        string(g, STATE, s.state());
        if (s.gpus() != null) {
            g.writeFieldName(GPUS);
            strings(g, s.gpus());
        }
        if (s.hostPorts() != null) {
            g.writeFieldName(HOST_PORTS);
            integers(g, s.hostPorts());
        }
        string(g, CONTAINER_ID, s.containerId());
        string(g, STARTED_AT, s.startedAt());
        string(g, FINISHED_AT, s.finishedAt());
        g.writeFieldName(BILLED_SECONDS);
        g.writeNumber(s.billedSeconds());
        string(g, REASON, s.reason());
        string(g, END_REASON, s.endReason());
        if (s.exitCode() != null) {
            g.writeFieldName(EXIT_CODE);
            g.writeNumber(s.exitCode().intValue());
        }
        g.writeFieldName(OOM_KILLED);
        g.writeBoolean(s.oomKilled());
        string(g, PULL_PROGRESS, s.pullProgress());
        if (s.usage() != null) {
            g.writeFieldName(USAGE);
            usage(g, s.usage());
        }
        g.writeEndObject();
    }

    private static void usage(JsonGenerator g, Message.UsageInfo u) throws IOException {
        g.writeStartObject();
        g.writeFieldName(GPU_SECONDS);
        g.writeNumber(u.gpuSeconds());
        if (u.gpuUtilPercent() != null) {
            g.writeFieldName(GPU_UTIL_PERCENT);
            g.writeNumber(u.gpuUtilPercent().intValue());
        }
        g.writeFieldName(GPU_MEMORY_BYTES);
        g.writeNumber(u.gpuMemoryBytes());
        g.writeFieldName(CPU_SECONDS);
        g.writeNumber(u.cpuSeconds());
        g.writeFieldName(MEMORY_BYTES);
        g.writeNumber(u.memoryBytes());
        g.writeFieldName(PEAK_MEMORY_BYTES);
        g.writeNumber(u.peakMemoryBytes());
        g.writeFieldName(NET_RX_BYTES);
        g.writeNumber(u.netRxBytes());
        g.writeFieldName(NET_TX_BYTES);
        g.writeNumber(u.netTxBytes());
        if (u.diskBytes() != null) {
            g.writeFieldName(DISK_BYTES);
            g.writeNumber(u.diskBytes().longValue());
        }
        g.writeEndObject();
    }

    private static void string(JsonGenerator g, SerializableString name, String value) throws IOException {
        if (value != null) {
            g.writeFieldName(name);
            g.writeString(value);
        }
    }

    private static void strings(JsonGenerator g, List<String> values) throws IOException {
        g.writeStartArray();
        for (String v : values) {
            if (v == null) {
                g.writeNull();
            } else {
                g.writeString(v);
            }
        }
        g.writeEndArray();
    }

    private static void integers(JsonGenerator g, List<Integer> values) throws IOException {
        g.writeStartArray();
        for (Integer v : values) {
            if (v == null) {
                g.writeNull();
            } else {
                g.writeNumber(v.intValue());
            }
        }
        g.writeEndArray();
    }
}
