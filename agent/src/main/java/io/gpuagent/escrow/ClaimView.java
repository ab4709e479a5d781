package io.gpuagent.escrow;

import java.math.BigInteger;
import java.time.Instant;
import java.util.List;

/**
 * A claim as the owner and the scheduler see it ({@code gpu-agent claims}, claim events): the
 * rentals, amounts, transaction and state, without the raw transaction bytes.
 *
 * @param rentals          the rental ids claimed
 * @param amount           sum of the cumulative amounts claimed (token base units)
 * @param close            whether it closes (all of) its rentals
 * @param txHash           the transaction hash, or "" before signing
 * @param nonce            the nonce, or -1 before signing
 * @param blockNumber      the block it was mined in, or -1
 * @param gasCostWei       gas paid (mined or reverted), else 0
 */
public record ClaimView(String id, ClaimState state, String reason, List<String> rentals, BigInteger amount, boolean close,
                        String txHash, long nonce, long blockNumber, BigInteger gasCostWei, String detail, Instant created,
                        Instant updated) {

    public static ClaimView of(Claim c) {
        return new ClaimView(c.id(), c.state(), c.reason(), c.items().stream().map(ClaimItem::rentalId).toList(), c.amount(),
                c.items().stream().allMatch(ClaimItem::close), c.tx() == null ? "" : c.tx().hash(),
                c.tx() == null ? -1 : c.tx().nonce(), c.receipt() == null ? -1 : c.receipt().blockNumber(), c.gasCost(),
                c.detail(), c.created(), c.updated());
    }
}
