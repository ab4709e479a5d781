package io.gpuagent.session;

/** A state change the transition table does not allow: a bug, never a renter's doing. */
public final class IllegalTransitionException extends IllegalStateException {
    private final String sessionId;
    private final SessionState from;
    private final SessionState to;

    public IllegalTransitionException(String sessionId, SessionState from, SessionState to) {
        super("session " + sessionId + ": illegal transition " + from + " -> " + to);
        this.sessionId = sessionId;
        this.from = from;
        this.to = to;
    }

    public String sessionId() {
        return sessionId;
    }

    public SessionState from() {
        return from;
    }

    public SessionState to() {
        return to;
    }
}
