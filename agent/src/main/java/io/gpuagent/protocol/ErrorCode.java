package io.gpuagent.protocol;

import java.util.Locale;

/**
 * Stable error codes of the scheduler protocol (docs/protocol.md lists each with its meaning).
 * The wire form is the lower-case name, e.g. {@code malformed_json}.
 */
public enum ErrorCode {
    /** The length prefix is negative or the frame cannot be read. */
    MALFORMED_FRAME,
    /** The length prefix is over the agent's limit; the connection is closed. */
    FRAME_TOO_LARGE,
    /** The frame is not UTF-8 JSON. */
    MALFORMED_JSON,
    /** The frame is JSON but not an object. */
    NOT_AN_OBJECT,
    /** A required field is missing. */
    MISSING_FIELD,
    /** A field has the wrong JSON type or an invalid value. */
    WRONG_TYPE,
    /** The protocol version is not one the agent speaks. */
    UNSUPPORTED_VERSION,
    /** The message type is unknown. */
    UNKNOWN_TYPE,
    /** A request came before {@code hello}. */
    HELLO_REQUIRED,
    /** A response or event arrived from the scheduler where a request was expected (replayed, unsolicited). */
    UNEXPECTED_MESSAGE,
    /** The connection sends more messages per second than allowed; this one was dropped. */
    RATE_LIMITED,
    /** The agent cannot serve this now (for instance: sessions are disabled on this host). */
    UNAVAILABLE,
    /** The agent failed in a way it did not expect; details are in its log. */
    INTERNAL,
    /** A launch asks for host access ({@code privileged}, host mounts, host namespaces, devices, capabilities...). */
    POLICY_HOST_ACCESS,
    /**
     * A session id is not one: the same code whether the codec's character rule or the launch policy's
     * stricter rule refuses it (a scheduler needs one branch for "bad id", not two).
     */
    POLICY_SESSION_ID;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }
}
