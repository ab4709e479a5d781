package io.gpuagent.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The frame payload: UTF-8 JSON object &harr; {@link Envelope}. Pure (no I/O, no Netty), so the
 * same rules serve the server, the dial-out link, the Java scheduler client and the fuzzer.
 * Strict where it matters (valid UTF-8, an object, a supported version, a well-formed type and
 * id) and lenient where compatibility needs it (unknown fields are ignored).
 */
public final class EnvelopeCodec {
    private static final Pattern TYPE = Pattern.compile("[a-z][a-z0-9_.]{0,63}");
    private static final int MAX_ID = 128;
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        // a frame is already bounded by its length prefix; bound nesting too (a cheap DoS otherwise)
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
    }

    private EnvelopeCodec() {
    }

    /** Decodes one frame's payload. */
    public static Envelope decode(byte[] payload) throws ProtocolException {
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

    /** An empty body to fill. */
    public static ObjectNode body() {
        return JSON.createObjectNode();
    }
}
