package io.gpuagent.escrow;

import java.math.BigInteger;
import java.time.Instant;

/**
 * What the agent knows about one rental it serves: its session, the highest voucher held, how much
 * of it is claimed on chain, and whether the renter asked to close. Immutable; persisted whole on
 * every change ({@link EscrowStore}).
 *
 * @param sessionId      the session the rental pays for
 * @param ended          the session ended: the next claim closes the rental
 * @param billedSeconds  seconds billed when the session ended (0 while it runs)
 * @param highest        the highest voucher held, or null
 * @param highestAt      wall time it was accepted, or null
 * @param claimed        the rental's claimed amount on chain, as last seen (base units)
 * @param closed         the rental is closed on chain (by our close claim, or by its renter's reclaim)
 * @param closeDeadline  the deadline from a CloseRequested event (epoch seconds), 0 when none was seen
 * @param gaveUpAt       the voucher amount at which claiming was given up (the chain refuses it for
 *                       good: past the deadline, closed by the renter); null when not given up. A
 *                       higher voucher makes the rental claimable again
 * @param note           the last thing worth telling the owner about this rental, or ""
 * @param registered     wall time the rental was first seen
 * @param lastClaimAt    wall time of the last claim planned for it (periodic claims count from it)
 * @param earlier        vouchers the highest replaced, newest first, at most {@link #EARLIER_KEPT}: the
 *                       live meter can run a few seconds ahead of the engine's final billing, so the
 *                       closing claim takes the highest voucher within the billed seconds
 */
public record RentalBook(String rentalId, String sessionId, boolean ended, long billedSeconds, Voucher highest,
                         Instant highestAt, BigInteger claimed, boolean closed, long closeDeadline, BigInteger gaveUpAt,
                         String note, Instant registered, Instant lastClaimAt, java.util.List<Voucher> earlier) {
    /** How many replaced vouchers are kept: more than the meter can run ahead of the engine's times. */
    public static final int EARLIER_KEPT = 16;

    public RentalBook {
        claimed = claimed == null ? BigInteger.ZERO : claimed;
        note = note == null ? "" : note;
        earlier = earlier == null ? java.util.List.of() : java.util.List.copyOf(earlier);
    }

    public static RentalBook registered(String rentalId, String sessionId, Instant now) {
        return new RentalBook(rentalId, sessionId, false, 0, null, null, BigInteger.ZERO, false, 0, null, "", now, now,
                java.util.List.of());
    }

    public RentalBook withVoucher(Voucher v, Instant now) {
        java.util.List<Voucher> kept = new java.util.ArrayList<>();
        if (highest != null) {
            kept.add(highest);
        }
        kept.addAll(earlier);
        return new RentalBook(rentalId, sessionId, ended, billedSeconds, v, now, claimed, closed, closeDeadline, gaveUpAt,
                note, registered, lastClaimAt, kept.subList(0, Math.min(EARLIER_KEPT, kept.size())));
    }

    /**
     * The voucher the closing claim takes: the highest whose seconds are within the billed seconds
     * (a renter who paid ahead of the engine's final billing is not charged for it); when every
     * voucher held runs past them, the lowest of those.
     */
    public Voucher settlementVoucher() {
        if (highest == null || !ended || highest.cumulativeSeconds() <= billedSeconds) {
            return highest;
        }
        Voucher lowest = highest;
        for (Voucher v : earlier) {
            if (v.cumulativeSeconds() <= billedSeconds) {
                return v;
            }
            lowest = v;
        }
        return lowest;
    }

    public RentalBook withSession(String session) {
        return new RentalBook(rentalId, session, ended, billedSeconds, highest, highestAt, claimed, closed, closeDeadline,
                gaveUpAt, note, registered, lastClaimAt, earlier);
    }

    public RentalBook withEnded(long billed) {
        return new RentalBook(rentalId, sessionId, true, billed, highest, highestAt, claimed, closed, closeDeadline, gaveUpAt,
                note, registered, lastClaimAt, earlier);
    }

    public RentalBook withChain(BigInteger claimedOnChain, boolean closedOnChain, String newNote) {
        return new RentalBook(rentalId, sessionId, ended, billedSeconds, highest, highestAt, claimedOnChain.max(claimed),
                closed || closedOnChain, closeDeadline, gaveUpAt, newNote, registered, lastClaimAt, earlier);
    }

    public RentalBook withCloseDeadline(long deadline) {
        return new RentalBook(rentalId, sessionId, ended, billedSeconds, highest, highestAt, claimed, closed, deadline,
                gaveUpAt, note, registered, lastClaimAt, earlier);
    }

    public RentalBook gaveUp(BigInteger amount, String why) {
        return new RentalBook(rentalId, sessionId, ended, billedSeconds, highest, highestAt, claimed, closed, closeDeadline,
                amount, why, registered, lastClaimAt, earlier);
    }

    public RentalBook claimPlanned(Instant now) {
        return new RentalBook(rentalId, sessionId, ended, billedSeconds, highest, highestAt, claimed, closed, closeDeadline,
                gaveUpAt, note, registered, now, earlier);
    }

    /** The highest voucher's amount, or 0. */
    public BigInteger earned() {
        return highest == null ? BigInteger.ZERO : highest.cumulativeAmount();
    }

    /** The highest voucher's seconds, or 0. */
    public long paidSeconds() {
        return highest == null ? 0 : highest.cumulativeSeconds();
    }

    /** Nothing more will ever be claimed: closed on chain. */
    public boolean settled() {
        return closed;
    }
}
