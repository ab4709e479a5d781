package io.gpuagent.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The frame payload: UTF-8 JSON object &harr; {@link Envelope}. Pure (no I/O, no Netty), so the
 * same rules serve the server, the dial-out link, the Java scheduler client and the fuzzer.
 * Strict where it matters (valid UTF-8, an object, a supported version, a well-formed type and
 * id) and lenient where compatibility needs it (unknown fields are ignored).
 *
 * <p>Two readers, one set of rules. The reference reader ({@link #decodeTree}) checks the whole
 * payload as UTF-8 into a String, builds a Jackson tree of it and checks the tree; it alone says
 * what is wrong with a payload. The streaming reader, tried first, reads the common case (an ASCII
 * object with a version of 1, a well-formed type and id, an object body or none) in one pass over
 * the bytes, building a tree of the body only; the moment anything is out of the ordinary (a byte
 * over 0x7f, a number with a fraction outside the body, a wrongly typed field, a syntax error) it
 * gives up and the reference reader decides. So every error, its code and its message come from
 * the reference reader, and the streaming reader only ever returns what the reference reader would
 * return (ProtocolCodecEquivalenceTest replays the fuzz corpus and mutations of it through both).
 */
public final class EnvelopeCodec {
    private static final Pattern TYPE = Pattern.compile("[a-z][a-z0-9_.]{0,63}");
    private static final int MAX_ID = 128;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFactory FACTORY;
    /** Writes into a generator that writes more after: no flush of the frame buffer per value. */
    private static final ObjectWriter TREE_WRITER;

    static {
        // a frame is already bounded by its length prefix; bound nesting too (a cheap DoS otherwise)
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
        JSON.getFactory().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        FACTORY = JSON.getFactory();
        TREE_WRITER = JSON.writer().without(SerializationFeature.FLUSH_AFTER_WRITE_VALUE);
    }

    private EnvelopeCodec() {
    }

    /** Decodes one frame's payload. */
    public static Envelope decode(byte[] payload) throws ProtocolException {
        Envelope e = stream(payload);
        return e != null ? e : decodeTree(payload);
    }

    /** The reference reader: what the agent accepts, and every error it answers (see the class comment). */
    static Envelope decodeTree(byte[] payload) throws ProtocolException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(payload)).toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolException(ErrorCode.MALFORMED_JSON, "the frame is not valid UTF-8", null);
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ProtocolException(ErrorCode.MALFORMED_JSON, "the frame is not JSON: " + e.getOriginalMessage(), null);
        }
        if (root == null || !root.isObject()) {
            throw new ProtocolException(ErrorCode.NOT_AN_OBJECT, "a frame must hold one JSON object", null);
        }
        JsonNode idNode = root.get("id");
        String id = null;
        if (idNode != null && !idNode.isNull()) {
            if (!idNode.isTextual() || idNode.asText().isEmpty() || idNode.asText().length() > MAX_ID) {
                throw new ProtocolException(ErrorCode.WRONG_TYPE, "\"id\" must be a string of 1.." + MAX_ID
                        + " characters", null);
            }
            id = idNode.asText();
        }
        if (hasInfinity(root)) {
            // 1e400 reads as a double infinity, which JSON cannot carry: re-encoded it would be the
            // string "Infinity" (fuzzing found it, docs/fuzzing.md)
            throw new ProtocolException(ErrorCode.WRONG_TYPE, "a number is out of range (over 1.7976931348623157e308)", id);
        }
        JsonNode v = root.get("v");
        if (v == null) {
            throw new ProtocolException(ErrorCode.MISSING_FIELD, "\"v\" (the protocol version) is missing", id);
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new ProtocolException(ErrorCode.WRONG_TYPE, "\"v\" must be an integer, got " + v, id);
        }
        if (v.asInt() != Envelope.VERSION) {
            throw new ProtocolException(ErrorCode.UNSUPPORTED_VERSION, "protocol version " + v.asInt()
                    + " is not supported; this agent speaks " + Envelope.VERSION, id);
        }
        JsonNode type = root.get("type");
        if (type == null) {
            throw new ProtocolException(ErrorCode.MISSING_FIELD, "\"type\" is missing", id);
        }
        if (!type.isTextual() || !TYPE.matcher(type.asText()).matches()) {
            throw new ProtocolException(ErrorCode.WRONG_TYPE, "\"type\" must match [a-z][a-z0-9_.]{0,63}", id);
        }
        JsonNode body = root.get("body");
        if (body != null && !body.isNull() && !body.isObject()) {
            throw new ProtocolException(ErrorCode.WRONG_TYPE, "\"body\" must be an object", id);
        }
        ObjectNode b = body == null || body.isNull() ? JSON.createObjectNode() : (ObjectNode) body;
        return new Envelope(v.asInt(), type.asText(), id, b);
    }

    /**
     * The streaming reader: the envelope of a payload in the common shape, or null when the
     * reference reader must decide. Duplicate fields end with the last one, as in the tree; what
     * follows the object is not read, as the tree reader does not read it either.
     */
    static Envelope stream(byte[] payload) {
        // Only ASCII without NUL, starting with '{': the UTF-8 check cannot fail, and Jackson's byte
        // reader cannot take the payload for UTF-16 or UTF-32 (it guesses from zero bytes) or skip a BOM.
        if (payload.length == 0 || payload[0] != '{') {
            return null;
        }
        for (byte b : payload) {
            if (b <= 0) {
                return null;
            }
        }
        boolean versionSeen = false;
        String type = null;
        String id = null;
        ObjectNode body = null;
        try (JsonParser p = FACTORY.createParser(payload)) {
            p.nextToken(); // START_OBJECT
            for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                switch (name) {
                    case "v" -> {
                        if (value != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT
                                || p.getIntValue() != Envelope.VERSION) {
                            return null;
                        }
                        versionSeen = true;
                    }
                    case "type" -> {
                        if (value != JsonToken.VALUE_STRING) {
                            return null;
                        }
                        type = p.getText();
                    }
                    case "id" -> {
                        if (value == JsonToken.VALUE_NULL) {
                            id = null;
                        } else if (value == JsonToken.VALUE_STRING) {
                            id = p.getText();
                        } else {
                            return null;
                        }
                    }
                    case "body" -> {
                        if (value == JsonToken.VALUE_NULL) {
                            body = null;
                        } else if (value == JsonToken.START_OBJECT) {
                            body = body(p);
                            if (body == null || hasInfinity(body)) {
                                return null;
                            }
                        } else {
                            return null;
                        }
                    }
                    default -> {
                        if (!skipWithoutFractions(p, value)) {
                            return null;
                        }
                    }
                }
            }
        } catch (IOException e) {
            return null; // not JSON, too deep, too long: the reference reader says which, in its words
        }
        if (!versionSeen || type == null || !validType(type) || id != null && (id.isEmpty() || id.length() > MAX_ID)) {
            return null;
        }
        return new Envelope(Envelope.VERSION, type, id, body != null ? body : JSON.createObjectNode());
    }

    /**
     * The body object, the parser at its start, as the tree reader builds it: its fields in order, a
     * repeated one replaced where it first stood, strings, integers, booleans and nulls as their
     * nodes, nested values by the tree reader itself; null (give up) on a number with a fraction,
     * whose node type the tree reader picks by rules this method does not repeat.
     */
    private static ObjectNode body(JsonParser p) throws IOException {
        ObjectNode body = JSON.createObjectNode();
        for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
            String name = p.currentName();
            JsonNode value = switch (p.nextToken()) {
                case VALUE_STRING -> body.textNode(p.getText());
                case VALUE_NUMBER_INT -> switch (p.getNumberType()) {
                    case INT -> body.numberNode(p.getIntValue());
                    case LONG -> body.numberNode(p.getLongValue());
                    default -> body.numberNode(p.getBigIntegerValue());
                };
                case VALUE_TRUE -> body.booleanNode(true);
                case VALUE_FALSE -> body.booleanNode(false);
                case VALUE_NULL -> body.nullNode();
                case START_OBJECT, START_ARRAY -> JSON.readTree(p);
                default -> null;
            };
            if (value == null) {
                return null;
            }
            body.replace(name, value);
        }
        return body;
    }

    /** Skips one value (whatever its depth); false if it holds a number with a fraction or an exponent. */
    private static boolean skipWithoutFractions(JsonParser p, JsonToken first) throws IOException {
        if (first == JsonToken.VALUE_NUMBER_FLOAT) {
            return false;
        }
        if (first != JsonToken.START_OBJECT && first != JsonToken.START_ARRAY) {
            return true;
        }
        int depth = 1;
        while (depth > 0) {
            JsonToken t = p.nextToken();
            if (t == null || t == JsonToken.VALUE_NUMBER_FLOAT) {
                return false;
            }
            if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                depth++;
            } else if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
                depth--;
            }
        }
        return true;
    }

    /** {@code [a-z][a-z0-9_.]{0,63}}, as {@link #TYPE} says, without a regex engine per message. */
    private static boolean validType(String s) {
        int n = s.length();
        if (n == 0 || n > 64 || s.charAt(0) < 'a' || s.charAt(0) > 'z') {
            return false;
        }
        for (int i = 1; i < n; i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.')) {
                return false;
            }
        }
        return true;
    }

    /** Whether a number in the tree overflowed to infinity (depth is bounded by the read constraints). */
    private static boolean hasInfinity(JsonNode node) {
        if (node.isFloatingPointNumber()) {
            return Double.isInfinite(node.doubleValue());
        }
        for (JsonNode child : node) {
            if (hasInfinity(child)) {
                return true;
            }
        }
        return false;
    }

    /** Encodes an envelope as the frame payload. */
    public static byte[] encode(Envelope e) {
        ObjectNode root = JSON.createObjectNode();
        root.put("v", e.version());
        root.put("type", e.type());
        if (e.id() != null) {
            root.put("id", e.id());
        }
        root.set("body", e.body() == null ? JSON.createObjectNode() : e.body());
        try {
            return JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException("envelope not encodable", ex);
        }
    }

    /**
     * Writes the same bytes as {@link #encode} to {@code out} (a frame buffer), without the
     * intermediate array; {@code out} is flushed, not closed.
     */
    public static void write(Envelope e, OutputStream out) throws IOException {
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("v", e.version());
            g.writeStringField("type", e.type());
            if (e.id() != null) {
                g.writeStringField("id", e.id());
            }
            g.writeFieldName("body");
            if (e.body() == null) {
                g.writeStartObject();
                g.writeEndObject();
            } else {
                TREE_WRITER.writeValue(g, e.body());
            }
            g.writeEndObject();
        }
    }

    /** An empty body to fill. */
    public static ObjectNode body() {
        return JSON.createObjectNode();
    }
}
