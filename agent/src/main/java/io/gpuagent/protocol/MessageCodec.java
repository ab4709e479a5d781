package io.gpuagent.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;

import java.io.IOException;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@link Envelope} &harr; {@link Message}: the type registry of protocol version 1 and the strict
 * binding of bodies to records. Pure, like {@link EnvelopeCodec}. Strict on types (a string is
 * never coerced to a number or back), lenient on unknown fields (ignored), except the launch fields
 * that ask for host access ({@link HostAccessFields}), which are refused.
 */
public final class MessageCodec {
    private static final Map<String, Class<? extends Message>> TYPES = new LinkedHashMap<>();
    private static final Map<Class<? extends Message>, String> NAMES;

    static {
        TYPES.put("hello", Message.Hello.class);
        TYPES.put("welcome", Message.Welcome.class);
        TYPES.put("heartbeat", Message.Heartbeat.class);
        TYPES.put("offer.get", Message.GetOffer.class);
        TYPES.put("offer", Message.Offer.class);
        TYPES.put("launch", Message.Launch.class);
        TYPES.put("stop", Message.Stop.class);
        TYPES.put("status", Message.Status.class);
        TYPES.put("list", Message.ListSessions.class);
        TYPES.put("session", Message.SessionReply.class);
        TYPES.put("sessions", Message.Sessions.class);
        TYPES.put("voucher", Message.Voucher.class);
        TYPES.put("voucher.ack", Message.VoucherAck.class);
        TYPES.put("session.state", Message.SessionState.class);
        TYPES.put("session.usage", Message.SessionUsage.class);
        TYPES.put("session.ended", Message.SessionEnded.class);
        TYPES.put("gpu.health", Message.GpuHealth.class);
        TYPES.put("drain", Message.Drain.class);
        TYPES.put("claim", Message.Claim.class);
        TYPES.put("stream.open", Message.StreamOpen.class);
        TYPES.put("stream.opened", Message.StreamOpened.class);
        TYPES.put("stream.resize", Message.StreamResize.class);
        TYPES.put("stream.close", Message.StreamClose.class);
        TYPES.put("stream.ack", Message.StreamAck.class);
        TYPES.put("stream.closed", Message.StreamClosed.class);
        TYPES.put("error", Message.Error.class);
        NAMES = TYPES.entrySet().stream().collect(Collectors.toMap(Map.Entry::getValue, Map.Entry::getKey));
    }

    private static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true)
            .configure(DeserializationFeature.ACCEPT_FLOAT_AS_INT, false)
            .configure(MapperFeature.ALLOW_COERCION_OF_SCALARS, false)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .build();

    static {
        // no "12" -> 12, no 12 -> "12", no "" -> null: a wrongly typed field is an error, never a guess
        JSON.coercionConfigFor(LogicalType.Textual).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        JSON.coercionConfigFor(LogicalType.Integer).setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
        JSON.coercionConfigFor(LogicalType.Float).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        JSON.coercionConfigFor(LogicalType.Boolean).setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
    }

    private static final SerializableString V = new SerializedString("v");
    private static final SerializableString TYPE = new SerializedString("type");
    private static final SerializableString ID = new SerializedString("id");
    private static final SerializableString BODY = new SerializedString("body");
    /** The wire types, quoted once. */
    private static final Map<Class<? extends Message>, SerializableString> WIRE_TYPES = NAMES.entrySet().stream()
            .collect(Collectors.toUnmodifiableMap(Map.Entry::getKey, e -> new SerializedString(e.getValue())));

    /** The body of an envelope written into a generator that goes on writing: no flush per value. */
    private static final ObjectWriter BODY_WRITER = JSON.writer().without(SerializationFeature.FLUSH_AFTER_WRITE_VALUE);

    private MessageCodec() {
    }

    /** The wire type of a message class, e.g. {@code "launch"}. */
    public static String typeOf(Class<? extends Message> type) {
        String name = NAMES.get(type);
        if (name == null) {
            throw new IllegalArgumentException(type + " has no wire type");
        }
        return name;
    }

    public static String typeOf(Message m) {
        return typeOf(m.getClass());
    }

    /** Every wire type, in registry order (for docs and tests). */
    public static Map<String, Class<? extends Message>> types() {
        return java.util.Collections.unmodifiableMap(TYPES);
    }

    /** The message class of a wire type, or null for a type this protocol version does not have. */
    public static Class<? extends Message> classOf(String type) {
        return TYPES.get(type);
    }

    /** The message an envelope carries. */
    public static Message decode(Envelope e) throws ProtocolException {
        Class<? extends Message> type = TYPES.get(e.type());
        if (type == null) {
            throw new ProtocolException(ErrorCode.UNKNOWN_TYPE, "unknown message type \"" + e.type()
                    + "\"; this agent speaks " + String.join(", ", TYPES.keySet()), e.id());
        }
        Message common = bindCommon(type, e.body());
        if (common != null) {
            return common;
        }
        if (type == Message.Launch.class) {
            try {
                HostAccessFields.refuse(e.body()); // before binding: the record would drop them unread
            } catch (FieldException f) {
                throw new ProtocolException(f.code(), e.type() + ": " + f.getMessage(), e.id());
            }
        }
        return bind(e, type);
    }

    /**
     * The requests a scheduler sends most (status, heartbeat, offer.get, list) in their common shape,
     * straight from the tree; null when anything is unusual (a field of another type, an invalid
     * session id), and {@link #bind} then decides, so the rules and the errors stay databind's.
     */
    static Message bindCommon(Class<? extends Message> type, ObjectNode body) {
        if (body == null) {
            return null;
        }
        if (type == Message.Status.class) {
            JsonNode session = body.get("session");
            return session != null && session.isTextual() && FieldException.isId(session.textValue())
                    ? new Message.Status(session.textValue()) : null;
        }
        if (type == Message.Heartbeat.class) {
            JsonNode time = body.get("time");
            if (time == null || time.isNull()) {
                return new Message.Heartbeat(null);
            }
            return time.isTextual() ? new Message.Heartbeat(time.textValue()) : null;
        }
        if (type == Message.GetOffer.class) {
            return new Message.GetOffer();
        }
        if (type == Message.ListSessions.class) {
            return new Message.ListSessions();
        }
        return null;
    }

    /** The reference binding: databind with the strict coercion rules above. */
    static Message bind(Envelope e, Class<? extends Message> type) throws ProtocolException {
        try {
            return JSON.treeToValue(e.body(), type);
        } catch (ValueInstantiationException ex) {
            Throwable c = ex.getCause();
            if (c instanceof FieldException f) {
                throw new ProtocolException(f.code(), e.type() + ": " + f.getMessage(), e.id());
            }
            throw new ProtocolException(ErrorCode.WRONG_TYPE, e.type() + ": " + ex.getOriginalMessage(), e.id());
        } catch (JsonMappingException ex) {
            String path = ex.getPath().stream()
                    .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining("."));
            throw new ProtocolException(ErrorCode.WRONG_TYPE, e.type() + ": field \"" + path + "\" has the wrong type or value ("
                    + firstLine(ex.getOriginalMessage()) + ")", e.id());
        } catch (JsonProcessingException | IllegalArgumentException ex) {
            throw new ProtocolException(ErrorCode.WRONG_TYPE, e.type() + ": " + firstLine(ex.getMessage()), e.id());
        }
    }

    /** An envelope carrying a message, with a correlation id (responses, requests) or null (events). */
    public static Envelope encode(Message m, String id) {
        ObjectNode body = JSON.valueToTree(m);
        return new Envelope(Envelope.VERSION, typeOf(m), id, body);
    }

    /**
     * Writes the frame payload of {@code m} with {@code id} (null for events) straight from the
     * record (the common answers field by field by {@link AnswerWriter}, the others by databind):
     * the same bytes as {@code EnvelopeCodec.encode(encode(m, id))} (field order, numbers,
     * escapes; ProtocolCodecEquivalenceTest holds it), without the tree and the array in between.
     * {@code out} (a frame buffer) is flushed, not closed.
     */
    public static void write(Message m, String id, OutputStream out) throws IOException {
        SerializableString type = WIRE_TYPES.get(m.getClass());
        if (type == null) {
            throw new IllegalArgumentException(m.getClass() + " has no wire type");
        }
        boolean common = AnswerWriter.handles(m);
        if (common && AnswerWriter.writePlain(m, type.getValue(), id, out)) {
            return;
        }
        try (JsonGenerator g = BODY_WRITER.createGenerator(out)) {
            g.writeStartObject();
            g.writeFieldName(V);
            g.writeNumber(Envelope.VERSION);
            g.writeFieldName(TYPE);
            g.writeString(type);
            if (id != null) {
                g.writeFieldName(ID);
                g.writeString(id);
            }
            g.writeFieldName(BODY);
            if (common) {
                AnswerWriter.writeBody(g, m);
            } else {
                BODY_WRITER.writeValue(g, m);
            }
            g.writeEndObject();
        }
    }

    /** An error message for a request that failed. */
    public static Envelope error(String code, String message, String id) {
        return encode(new Message.Error(code, message), id);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "invalid";
        }
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl);
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }
}
