package io.gpuagent.escrow;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The states of one claim transaction, with its transition table (docs/payments.md draws it).
 * <pre>
 * PENDING  -> SIGNED | SKIPPED | FAILED
 * SIGNED   -> SENT | REPLACED
 * SENT     -> MINED | REVERTED | REPLACED
 * MINED    -> FINAL | SENT            (SENT again: a reorg took the receipt away)
 * FINAL, SKIPPED, FAILED, REVERTED, REPLACED: terminal
 * </pre>
 * The raw signed transaction is persisted in SIGNED before it is ever broadcast, so that a restart
 * can only re-send those same bytes (one nonce, one hash) and never a second transaction.
 */
public enum ClaimState {
    /** Planned: the vouchers to claim are chosen; nothing signed yet. */
    PENDING,
    /** Signed with a nonce; the raw transaction and its hash are durable; maybe not broadcast yet. */
    SIGNED,
    /** Broadcast (or already known to the node); waiting for a receipt. */
    SENT,
    /** In a block with status 1; waiting for finality. */
    MINED,
    /** In a finalized block (or under enough confirmations): paid. */
    FINAL,
    /** Nothing left to claim: the rental's claimed amount already covers the vouchers. */
    SKIPPED,
    /** Never sent because the chain would refuse it (rental closed by its renter, past its deadline). */
    FAILED,
    /** Mined with status 0: gas spent, nothing paid. */
    REVERTED,
    /** Its nonce was used by another transaction and it is proven not mined; a new claim takes over. */
    REPLACED;

    private static final Map<ClaimState, Set<ClaimState>> NEXT = Map.of(
            PENDING, EnumSet.of(SIGNED, SKIPPED, FAILED),
            SIGNED, EnumSet.of(SENT, REPLACED),
            SENT, EnumSet.of(MINED, REVERTED, REPLACED),
            MINED, EnumSet.of(FINAL, SENT),
            FINAL, EnumSet.noneOf(ClaimState.class),
            SKIPPED, EnumSet.noneOf(ClaimState.class),
            FAILED, EnumSet.noneOf(ClaimState.class),
            REVERTED, EnumSet.noneOf(ClaimState.class),
            REPLACED, EnumSet.noneOf(ClaimState.class));

    /** Whether a claim may go from this state to {@code next}. */
    public boolean canGoTo(ClaimState next) {
        return NEXT.get(this).contains(next);
    }

    /** The states this one may go to. */
    public Set<ClaimState> next() {
        return EnumSet.copyOf(NEXT.get(this));
    }

    /** No transition leaves this state. */
    public boolean isTerminal() {
        return NEXT.get(this).isEmpty();
    }

    /** A transaction exists (signed, maybe on chain) whose outcome is not settled yet. */
    public boolean isInFlight() {
        return this == SIGNED || this == SENT || this == MINED;
    }

    /**
     * Checks a transition.
     *
     * @throws IllegalClaimTransitionException naming the claim, both states and what is allowed
     */
    public static void check(String claimId, ClaimState from, ClaimState to) {
        if (!from.canGoTo(to)) {
            throw new IllegalClaimTransitionException(claimId, from, to);
        }
    }
}
