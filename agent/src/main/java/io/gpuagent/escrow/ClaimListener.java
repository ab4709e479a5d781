package io.gpuagent.escrow;

/**
 * Told of every change of a claim (created, signed, sent, mined, final, ...), so that the protocol
 * can push claim events. Called on the claim worker thread after the change is durable; must not
 * block. An exception thrown here is logged and ignored.
 */
@FunctionalInterface
public interface ClaimListener {
    void onClaim(ClaimView claim);
}
