package io.gpuagent.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.SerializedString;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Writes the messages the agent sends most (a session for status, launch and stop, the session
 * list, session events and usage, heartbeats, errors) field by field, as databind writes them with
 * {@link MessageCodec}'s settings: the record's components in order, snake_case names, null fields
 * left out, null list elements written as null. Under the unit's C1-only JIT databind's reflective
 * accessors, boxing and serializer lookups cost more than the JSON itself, and a Jackson generator
 * per message costs its objects; so the whole frame payload goes first into a reused byte array
 * with no escaping at all ({@link Ascii}), which is exact as long as every string is printable ASCII
 * without a quote or a backslash and every double is finite; when one is not, the message is written
 * again through a Jackson generator ({@link Generated}), which escapes as Jackson does. Every other
 * message goes through databind.
 *
 * <p>ProtocolCodecEquivalenceTest holds both to databind's bytes, with records whose components it
 * fills by reflection at random: a component added to one of these records fails that test until it
 * is written here too.
 *
 * <p>Why this class is long (over 400 lines): each common message is written twice, once into the
 * unescaped byte array and once through a generator, and the two writers of a message must change
 * together; they sit side by side here rather than in classes that would each need the other's names.
 */
final class AnswerWriter {
    private static final Name SESSION = new Name("session");
    private static final Name SESSIONS = new Name("sessions");
    private static final Name DRAINING = new Name("draining");
    private static final Name RENTAL = new Name("rental");
    private static final Name RENTER = new Name("renter");
    private static final Name IMAGE = new Name("image");
    private static final Name STATE = new Name("state");
    private static final Name GPUS = new Name("gpus");
    private static final Name HOST_PORTS = new Name("host_ports");
    private static final Name CONTAINER_ID = new Name("container_id");
    private static final Name STARTED_AT = new Name("started_at");
    private static final Name FINISHED_AT = new Name("finished_at");
    private static final Name BILLED_SECONDS = new Name("billed_seconds");
    private static final Name REASON = new Name("reason");
    private static final Name END_REASON = new Name("end_reason");
    private static final Name EXIT_CODE = new Name("exit_code");
    private static final Name OOM_KILLED = new Name("oom_killed");
    private static final Name PULL_PROGRESS = new Name("pull_progress");
    private static final Name USAGE = new Name("usage");
    private static final Name GPU_SECONDS = new Name("gpu_seconds");
    private static final Name GPU_UTIL_PERCENT = new Name("gpu_util_percent");
    private static final Name GPU_MEMORY_BYTES = new Name("gpu_memory_bytes");
    private static final Name CPU_SECONDS = new Name("cpu_seconds");
    private static final Name MEMORY_BYTES = new Name("memory_bytes");
    private static final Name PEAK_MEMORY_BYTES = new Name("peak_memory_bytes");
    private static final Name NET_RX_BYTES = new Name("net_rx_bytes");
    private static final Name NET_TX_BYTES = new Name("net_tx_bytes");
    private static final Name DISK_BYTES = new Name("disk_bytes");
    private static final Name TIME = new Name("time");
    private static final Name CODE = new Name("code");
    private static final Name MESSAGE = new Name("message");
    private static final Name V = new Name("v");
    private static final Name TYPE = new Name("type");
    private static final Name ID = new Name("id");
    private static final Name BODY = new Name("body");

    /** The byte array of each thread that writes frames (the event loops, the dispatch thread), reused. */
    private static final ThreadLocal<Ascii> ASCII = ThreadLocal.withInitial(Ascii::new);

    private AnswerWriter() {
    }

    /** Whether {@link #write} writes {@code m} (else databind does). */
    static boolean handles(Message m) {
        return m instanceof Message.SessionReply || m instanceof Message.SessionState || m instanceof Message.SessionEnded
                || m instanceof Message.Sessions || m instanceof Message.SessionUsage || m instanceof Message.Heartbeat
                || m instanceof Message.Error;
    }

    /**
     * Writes the whole frame payload of {@code m} ({@link #handles} it; {@code type} its wire type,
     * {@code id} its correlation id or null) through a reused array into {@code out}; false, with
     * nothing written, when a value needs Jackson's escaping ({@link #writeBody} then).
     */
    static boolean writePlain(Message m, String type, String id, OutputStream out) throws IOException {
        Ascii a = ASCII.get();
        a.reset();
        envelope(a, m, type, id);
        if (!a.plain) {
            return false;
        }
        a.writeTo(out);
        return true;
    }

    /** Writes the body of {@code m} ({@link #handles} it) into a Jackson generator, escaping as Jackson does. */
    static void writeBody(JsonGenerator g, Message m) throws IOException {
        body(new Generated(g), m);
    }

    private static void envelope(Sink s, Message m, String type, String id) throws IOException {
        s.startObject();
        s.field(V);
        s.number(Envelope.VERSION);
        s.field(TYPE);
        s.string(type);
        if (id != null) {
            s.field(ID);
            s.string(id);
        }
        s.field(BODY);
        body(s, m);
        s.endObject();
    }

    private static void body(Sink s, Message m) throws IOException {
        if (m instanceof Message.SessionReply r) {
            sessionBody(s, r.session());
        } else if (m instanceof Message.SessionState st) {
            sessionBody(s, st.session());
        } else if (m instanceof Message.SessionEnded e) {
            sessionBody(s, e.session());
        } else if (m instanceof Message.Sessions l) {
            s.startObject();
            if (l.sessions() != null) {
                s.field(SESSIONS);
                s.startArray();
                for (Message.SessionInfo i : l.sessions()) {
                    session(s, i);
                }
                s.endArray();
            }
            s.field(DRAINING);
            s.bool(l.draining());
            s.endObject();
        } else if (m instanceof Message.SessionUsage u) {
            s.startObject();
            string(s, SESSION, u.session());
            string(s, RENTAL, u.rental());
            s.field(BILLED_SECONDS);
            s.number(u.billedSeconds());
            if (u.usage() != null) {
                s.field(USAGE);
                usage(s, u.usage());
            }
            s.endObject();
        } else if (m instanceof Message.Heartbeat h) {
            s.startObject();
            string(s, TIME, h.time());
            s.endObject();
        } else if (m instanceof Message.Error e) {
            s.startObject();
            string(s, CODE, e.code());
            string(s, MESSAGE, e.message());
            s.endObject();
        } else {
            throw new IllegalArgumentException(m.getClass() + " is written by databind");
        }
    }

    /** {@code {"session": <session>}}. */
    private static void sessionBody(Sink s, Message.SessionInfo session) throws IOException {
        s.startObject();
        if (session != null) {
            s.field(SESSION);
            session(s, session);
        }
        s.endObject();
    }

    private static void session(Sink s, Message.SessionInfo i) throws IOException {
        if (i == null) {
            s.nul();
            return;
        }
        s.startObject();
        string(s, SESSION, i.session());
        string(s, RENTAL, i.rental());
        string(s, RENTER, i.renter());
        string(s, IMAGE, i.image());
        string(s, STATE, i.state());
        if (i.gpus() != null) {
            s.field(GPUS);
            s.startArray();
            for (String g : i.gpus()) {
                if (g == null) {
                    s.nul();
                } else {
                    s.string(g);
                }
            }
            s.endArray();
        }
        if (i.hostPorts() != null) {
            s.field(HOST_PORTS);
            s.startArray();
            for (Integer p : i.hostPorts()) {
                if (p == null) {
                    s.nul();
                } else {
                    s.number(p.intValue());
                }
            }
            s.endArray();
        }
        string(s, CONTAINER_ID, i.containerId());
        string(s, STARTED_AT, i.startedAt());
        string(s, FINISHED_AT, i.finishedAt());
        s.field(BILLED_SECONDS);
        s.number(i.billedSeconds());
        string(s, REASON, i.reason());
        string(s, END_REASON, i.endReason());
        if (i.exitCode() != null) {
            s.field(EXIT_CODE);
            s.number(i.exitCode().intValue());
        }
        s.field(OOM_KILLED);
        s.bool(i.oomKilled());
        string(s, PULL_PROGRESS, i.pullProgress());
        if (i.usage() != null) {
            s.field(USAGE);
            usage(s, i.usage());
        }
        s.endObject();
    }

    private static void usage(Sink s, Message.UsageInfo u) throws IOException {
        s.startObject();
        s.field(GPU_SECONDS);
        s.number(u.gpuSeconds());
        if (u.gpuUtilPercent() != null) {
            s.field(GPU_UTIL_PERCENT);
            s.number(u.gpuUtilPercent().intValue());
        }
        s.field(GPU_MEMORY_BYTES);
        s.number(u.gpuMemoryBytes());
        s.field(CPU_SECONDS);
        s.number(u.cpuSeconds());
        s.field(MEMORY_BYTES);
        s.number(u.memoryBytes());
        s.field(PEAK_MEMORY_BYTES);
        s.number(u.peakMemoryBytes());
        s.field(NET_RX_BYTES);
        s.number(u.netRxBytes());
        s.field(NET_TX_BYTES);
        s.number(u.netTxBytes());
        if (u.diskBytes() != null) {
            s.field(DISK_BYTES);
            s.number(u.diskBytes().longValue());
        }
        s.endObject();
    }

    private static void string(Sink s, Name name, String value) throws IOException {
        if (value != null) {
            s.field(name);
            s.string(value);
        }
    }

    /** A field name, quoted once for each sink. */
    private static final class Name {
        final SerializableString jackson;
        final byte[] ascii;

        Name(String name) {
            jackson = new SerializedString(name);
            ascii = ("\"" + name + "\":").getBytes(StandardCharsets.US_ASCII);
        }
    }

    /** What the fields are written into. */
    private interface Sink {
        void startObject() throws IOException;

        void endObject() throws IOException;

        void startArray() throws IOException;

        void endArray() throws IOException;

        void field(Name name) throws IOException;

        void string(String value) throws IOException;

        void number(long value) throws IOException;

        void number(int value) throws IOException;

        void number(double value) throws IOException;

        void bool(boolean value) throws IOException;

        void nul() throws IOException;
    }

    /** A Jackson generator: Jackson's escaping and number formats, whatever the values. */
    private record Generated(JsonGenerator g) implements Sink {
        @Override
        public void startObject() throws IOException {
            g.writeStartObject();
        }

        @Override
        public void endObject() throws IOException {
            g.writeEndObject();
        }

        @Override
        public void startArray() throws IOException {
            g.writeStartArray();
        }

        @Override
        public void endArray() throws IOException {
            g.writeEndArray();
        }

        @Override
        public void field(Name name) throws IOException {
            g.writeFieldName(name.jackson);
        }

        @Override
        public void string(String value) throws IOException {
            g.writeString(value);
        }

        @Override
        public void number(long value) throws IOException {
            g.writeNumber(value);
        }

        @Override
        public void number(int value) throws IOException {
            g.writeNumber(value);
        }

        @Override
        public void number(double value) throws IOException {
            g.writeNumber(value);
        }

        @Override
        public void bool(boolean value) throws IOException {
            g.writeBoolean(value);
        }

        @Override
        public void nul() throws IOException {
            g.writeNull();
        }
    }

    /**
     * JSON into a byte array, for values that need no escaping: strings of printable ASCII (0x20 to
     * 0x7e) without '"' or '\', finite doubles (written as {@link Double#toString}, as Jackson does).
     * Anything else clears {@link #plain} and the caller writes the message through Jackson instead;
     * what was written here is then thrown away.
     */
    private static final class Ascii implements Sink {
        /** Kept between messages up to this size; a larger one (a long session list) is dropped after use. */
        private static final int KEEP = 16 * 1024;
        private byte[] buf = new byte[2048];
        private char[] chars = new char[256];
        private int len;
        private boolean plain;
        /** Per open container, whether a value was written in it (a comma before the next); 32 levels are plenty here. */
        private int written;
        private int depth;
        /** A field name was just written: the value follows without a comma. */
        private boolean afterName;

        void reset() {
            if (buf.length > KEEP) {
                buf = new byte[2048];
            }
            if (chars.length > KEEP) {
                chars = new char[256];
            }
            len = 0;
            plain = true;
            written = 0;
            depth = 0;
            afterName = false;
        }

        void writeTo(OutputStream out) throws IOException {
            out.write(buf, 0, len);
        }

        private void room(int n) {
            if (len + n > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
            }
        }

        private void put(byte b) {
            room(1);
            buf[len++] = b;
        }

        /** The comma a value or a name needs when it is not the first in its container. */
        private void beforeValue() {
            if (afterName) {
                afterName = false;
                return;
            }
            if (depth > 0) {
                int bit = 1 << (depth - 1);
                if ((written & bit) != 0) {
                    put((byte) ',');
                } else {
                    written |= bit;
                }
            }
        }

        private void open(byte b) {
            beforeValue();
            put(b);
            depth++;
            written &= ~(1 << (depth - 1));
        }

        private void close(byte b) {
            depth--;
            put(b);
        }

        @Override
        public void startObject() {
            open((byte) '{');
        }

        @Override
        public void endObject() {
            close((byte) '}');
        }

        @Override
        public void startArray() {
            open((byte) '[');
        }

        @Override
        public void endArray() {
            close((byte) ']');
        }

        @Override
        public void field(Name name) {
            beforeValue();
            byte[] n = name.ascii;
            room(n.length);
            System.arraycopy(n, 0, buf, len, n.length);
            len += n.length;
            afterName = true;
        }

        @Override
        public void string(String value) {
            beforeValue();
            int n = value.length();
            if (chars.length < n) {
                chars = new char[Math.max(n, 2 * chars.length)];
            }
            value.getChars(0, n, chars, 0); // one copy, then a loop over an array: C1 makes charAt a call per char
            room(n + 2);
            byte[] b = buf;
            char[] c = chars;
            int at = len;
            b[at++] = '"';
            for (int i = 0; i < n; i++) {
                char ch = c[i];
                if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\') {
                    plain = false; // Jackson escapes it or encodes it: its turn
                    return;
                }
                b[at++] = (byte) ch;
            }
            b[at++] = '"';
            len = at;
        }

        @Override
        public void number(long value) {
            beforeValue();
            if (value == Long.MIN_VALUE) {
                ascii(Long.toString(value));
                return;
            }
            room(20);
            if (value < 0) {
                buf[len++] = '-';
                value = -value;
            }
            int start = len;
            do {
                buf[len++] = (byte) ('0' + (int) (value % 10));
                value /= 10;
            } while (value != 0);
            for (int i = start, j = len - 1; i < j; i++, j--) {
                byte t = buf[i];
                buf[i] = buf[j];
                buf[j] = t;
            }
        }

        @Override
        public void number(int value) {
            number((long) value);
        }

        @Override
        public void number(double value) {
            if (!Double.isFinite(value)) {
                beforeValue();
                plain = false; // Jackson writes "NaN" and the infinities as strings: its turn
                return;
            }
            beforeValue();
            ascii(Double.toString(value));
        }

        @Override
        public void bool(boolean value) {
            beforeValue();
            ascii(value ? "true" : "false");
        }

        @Override
        public void nul() {
            beforeValue();
            ascii("null");
        }

        /** A value's text that is ASCII by construction (numbers, literals). */
        private void ascii(String s) {
            int n = s.length();
            room(n);
            for (int i = 0; i < n; i++) {
                buf[len++] = (byte) s.charAt(i);
            }
        }
    }
}
