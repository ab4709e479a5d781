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
 */
public record RentalBook(String rentalId, String sessionId, boolean ended, long billedSeconds, Voucher highest,
                         Instant highestAt, BigInteger claimed, boolean closed, long closeDeadline, BigInteger gaveUpAt,
                         String note, Instant registered, Instant lastClaimAt) {
    public RentalBook {
        claimed = claimed == null ? BigInteger.ZERO : claimed;
        note = note == null ? "" : note;
    }

    public static RentalBook registered(String rentalId, String sessionId, Instant now) {
        return new RentalBook(rentalId, sessionId, false, 0, null, null, BigInteger.ZERO, false, 0, null, "", now, now);
    }

    public RentalBook withVoucher(Voucher v, Instant now) {
        return new RentalBook(rentalId, sessionId, ended, billedSeconds, v, now, claimed, closed, closeDeadline, gaveUpAt,
                note, registered, lastClaimAt);
    }

    public RentalBook withSession(String session) {
        return new RentalBook(rentalId, session, ended, billedSeconds, highest, highestAt, claimed, closed, closeDeadline,
                gaveUpAt, note, registered, lastClaimAt);
    }

    public RentalBook withEnded(long billed) {
        return new RentalBook(rentalId, sessionId, true, billed, highest, highestAt, claimed, closed, closeDeadline, gaveUpAt,
                note, registered, lastClaimAt);
    }

    public RentalBook withChain(BigInteger claimedOnChain, boolean closedOnChain, String newNote) {
        return new RentalBook(rentalId, sessionId, ended, billedSeconds, highest, highestAt, claimedOnChain.max(claimed),
                closed || closedOnChain, closeDeadline, gaveUpAt, newNote, registered, lastClaimAt);
    }

    public RentalBook withCloseDeadline(long deadline) {
        return new RentalBook(rentalId, sessionId, ended, billedSeconds, highest, highestAt, claimed, closed, deadline,
                gaveUpAt, note, registered, lastClaimAt);
    }

    public RentalBook gaveUp(BigInteger amount, String why) {
        return new RentalBook(rentalId, sessionId, ended, billedSeconds, highest, highestAt, claimed, closed, closeDeadline,
                amount, why, registered, lastClaimAt);
    }

    public RentalBook claimPlanned(Instant now) {
        return new RentalBook(rentalId, sessionId, ended, billedSeconds, highest, highestAt, claimed, closed, closeDeadline,
                gaveUpAt, note, registered, now);
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
