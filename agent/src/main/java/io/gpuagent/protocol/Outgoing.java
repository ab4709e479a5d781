package io.gpuagent.protocol;

/**
 * A message on its way to the peer, not yet encoded: written by the frame encoder straight from
 * the record into the frame ({@link MessageCodec#write}), with the same bytes as the
 * {@link Envelope} that {@link MessageCodec#encode} would make of it, minus the tree.
 *
 * @param message the message
 * @param id      the correlation id (a response's request, a request of ours), or null for events
 */
public record Outgoing(Message message, String id) {
    public Outgoing {
        java.util.Objects.requireNonNull(message, "message");
    }

    /** The wire type, e.g. {@code "session"}. */
    public String type() {
        return MessageCodec.typeOf(message);
    }
}
