package io.gpuagent.protocol;

/**
 * A message's field is missing or invalid: thrown by the message records' constructors and turned
 * by {@link MessageCodec} into a {@link ProtocolException} with the request's id.
 */
public final class FieldException extends IllegalArgumentException {
    private final ErrorCode code;
    private final String field;

    public FieldException(ErrorCode code, String field, String problem) {
        super("\"" + field + "\" " + problem);
        this.code = code;
        this.field = field;
    }

    public ErrorCode code() {
        return code;
    }

    public String field() {
        return field;
    }

    static <T> T require(T value, String field) {
        if (value == null) {
            throw new FieldException(ErrorCode.MISSING_FIELD, field, "is required");
        }
        return value;
    }

    static String maxLength(String value, int max, String field) {
        if (value.length() > max) {
            throw new FieldException(ErrorCode.WRONG_TYPE, field, "must be at most " + max + " characters");
        }
        return value;
    }

    /** A session id: 1..128 of letters, digits, '.', '_', ':' and '-' (it names a container). */
    static String id(String value, String field) {
        require(value, field);
        if (!isId(value)) {
            throw new FieldException(ErrorCode.POLICY_SESSION_ID, field, "is " + quoted(value)
                    + ": a session id is 1..128 letters, digits, '.', '_', ':' or '-' (a new session's: 1-63 of"
                    + " a-z, 0-9, '_', '.', '-', starting with a letter or digit)");
        }
        return value;
    }

    /** The value for a message: at most 64 characters of it, control characters escaped. */
    private static String quoted(String value) {
        StringBuilder b = new StringBuilder("\"");
        int n = Math.min(value.length(), 64);
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append(value.length() > n ? "\"..." : "\"").toString();
    }

    /** {@code [A-Za-z0-9._:-]{1,128}}, checked without a regex engine (every status and stop has one). */
    static boolean isId(String value) {
        int n = value.length();
        if (n == 0 || n > 128) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':'
                    || c == '-')) {
                return false;
            }
        }
        return true;
    }
}
