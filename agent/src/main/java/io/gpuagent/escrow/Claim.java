package io.gpuagent.escrow;

import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One claim transaction and where it stands: the vouchers it claims, the signed transaction once
 * there is one, and the receipt once mined. Immutable; every change is a new value, persisted
 * before it is acted on ({@link EscrowStore}).
 *
 * @param id       "c-" + a sequence number, unique in this agent's store
 * @param state    see {@link ClaimState}
 * @param reason   why it was made: final (session ended), periodic, close_requested, deadline, amount
 * @param items    the rentals claimed (one: {@code claim}; several: {@code claimBatch})
 * @param tx       the signed transaction (null in PENDING)
 * @param receipt  the receipt (null before MINED / REVERTED)
 * @param detail   the last thing worth telling the owner (an RPC error, why it was skipped), or ""
 * @param created  wall time it was planned
 * @param updated  wall time of its last change
 */
public record Claim(String id, ClaimState state, String reason, List<ClaimItem> items, SignedTx tx, TxReceipt receipt,
                    String detail, Instant created, Instant updated) {
    public Claim {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(state, "state");
        items = List.copyOf(items);
        detail = detail == null ? "" : detail;
    }

    /** This claim in state {@code to}, checked against the transition table. */
    public Claim to(ClaimState to, String detail, Instant now) {
        ClaimState.check(id, state, to);
        return new Claim(id, to, reason, items, tx, receipt, detail, created, now);
    }

    public Claim signed(SignedTx signed, Instant now) {
        ClaimState.check(id, state, ClaimState.SIGNED);
        return new Claim(id, ClaimState.SIGNED, reason, items, signed, null, "", created, now);
    }

    public Claim mined(TxReceipt r, Instant now) {
        ClaimState to = r.success() ? ClaimState.MINED : ClaimState.REVERTED;
        ClaimState.check(id, state, to);
        return new Claim(id, to, reason, items, tx, r, r.success() ? "" : "reverted in block " + r.blockNumber(), created, now);
    }

    /** Back to SENT after a reorg removed the receipt. */
    public Claim unmined(String why, Instant now) {
        ClaimState.check(id, state, ClaimState.SENT);
        return new Claim(id, ClaimState.SENT, reason, items, tx, null, why, created, now);
    }

    /** The same claim with a new detail and no state change. */
    public Claim noting(String newDetail, Instant now) {
        return new Claim(id, state, reason, items, tx, receipt, newDetail, created, now);
    }

    /** Sum of the cumulative amounts of its items (what the rentals will have been paid up to). */
    public BigInteger amount() {
        return items.stream().map(ClaimItem::cumulativeAmount).reduce(BigInteger.ZERO, BigInteger::add);
    }

    /** Wei spent on gas: known once mined or reverted. */
    public BigInteger gasCost() {
        return receipt == null ? BigInteger.ZERO : receipt.gasCost();
    }
}
