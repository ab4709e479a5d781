package io.gpuagent.escrow;

/** A claim was asked to move along a transition its table does not have: a bug, never input. */
public final class IllegalClaimTransitionException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final String claimId;
    private final ClaimState from;
    private final ClaimState to;

    public IllegalClaimTransitionException(String claimId, ClaimState from, ClaimState to) {
        super("claim " + claimId + ": illegal transition " + from + " -> " + to + " (allowed from " + from + ": "
                + (from.isTerminal() ? "none, it is terminal" : from.next()) + ")");
        this.claimId = claimId;
        this.from = from;
        this.to = to;
    }

    public String claimId() {
        return claimId;
    }

    public ClaimState from() {
        return from;
    }

    public ClaimState to() {
        return to;
    }
}
