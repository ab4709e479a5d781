package io.gpuagent.protocol;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One protocol message: {@code {"v": 1, "type": "launch", "id": "c-42", "body": {...}}}.
 * Requests carry an id the single response repeats; events carry none. Unknown top-level fields
 * are ignored (forward compatibility); the body is interpreted by the message's type.
 *
 * @param version protocol version ({@link #VERSION})
 * @param type    message type, {@code [a-z][a-z0-9_.]*}, at most 64 characters
 * @param id      correlation id, at most 128 characters, or null for events
 * @param body    the message's fields (an empty object when absent)
 */
public record Envelope(int version, String type, String id, ObjectNode body) {
    /** The protocol version this agent speaks. */
    public static final int VERSION = 1;
}
