package io.gpuagent.escrow;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Decides which rentals are due for a claim, and checks each against the rental's state on chain
 * before it goes into a transaction. Pure: no I/O, no clock of its own.
 *
 * <p>Due, most urgent first: a rental whose session ended (its final claim, closing it, with the
 * highest voucher); a running rental whose renter requested close (claimed at once, not closing,
 * so vouchers within the settle window still count); a running rental not claimed for
 * {@code claim_interval_s}, or with at least {@code claim_min_amount} unclaimed. A rental already in
 * an unsettled claim, closed, or given up at its current voucher is never due.
 */
public final class ClaimPlanner {
    /** A rental to claim and why. */
    public record Candidate(RentalBook book, ClaimItem item, String reason) {
    }

    /** What the chain says about claiming an item now. */
    public enum Verdict {
        /** Claimable now. */
        OK,
        /** Nothing to do: the chain's claimed amount covers it (or the rental is closed and paid). */
        DONE,
        /** Not yet: the voucher covers more seconds than have passed on chain since the rental opened. */
        POSTPONE,
        /** Never: the chain will refuse it (closed by the renter, past the deadline, not ours). */
        LOST
    }

    /** A verdict with the reason shown to the owner. */
    public record Check(Verdict verdict, String why) {
    }

    /**
     * How long the final claim of an ended session waits for a voucher that covers all its billed
     * seconds, counted from the newest voucher: the renter signs the last one after the end.
     */
    public static final Duration FINAL_VOUCHER_GRACE = Duration.ofSeconds(10);

    private final ClaimPolicy policy;

    public ClaimPlanner(ClaimPolicy policy) {
        this.policy = policy;
    }

    /** Rentals due for a claim at {@code now}, most urgent first. */
    public List<Candidate> due(List<RentalBook> books, List<Claim> claims, Instant now) {
        Set<String> busy = new HashSet<>();
        for (Claim c : claims) {
            if (!c.state().isTerminal()) {
                c.items().forEach(i -> busy.add(i.rentalId()));
            }
        }
        List<Candidate> out = new ArrayList<>();
        for (RentalBook b : books) {
            if (b.closed() || b.highest() == null || busy.contains(b.rentalId())) {
                continue;
            }
            BigInteger amount = b.highest().cumulativeAmount();
            if (b.gaveUpAt() != null && amount.compareTo(b.gaveUpAt()) <= 0) {
                continue;
            }
            boolean ahead = amount.compareTo(b.claimed()) > 0;
            if (b.ended()) {
                // the renter's last voucher may still be on its way (sent after the session's end):
                // wait for it a little, or the closing claim would leave those seconds unpaid for good
                boolean covered = b.highest().cumulativeSeconds() >= b.billedSeconds();
                Instant lastVoucher = b.highestAt() == null ? b.registered() : b.highestAt();
                if (covered || !Duration.between(lastVoucher, now).minus(FINAL_VOUCHER_GRACE).isNegative()) {
                    out.add(new Candidate(b, ClaimItem.of(b.settlementVoucher(), true), "final"));
                }
                continue;
            }
            if (!ahead) {
                continue;
            }
            String reason = null;
            if (b.closeDeadline() > 0) {
                reason = "close_requested";
            } else if (!Duration.between(b.lastClaimAt(), now).minus(policy.claimInterval()).isNegative()) {
                reason = "periodic";
            } else if (policy.claimMinAmount().signum() > 0 && amount.subtract(b.claimed()).compareTo(policy.claimMinAmount()) >= 0) {
                reason = "amount";
            }
            if (reason != null) {
                out.add(new Candidate(b, ClaimItem.of(b.highest(), false), reason));
            }
        }
        out.sort(Comparator.comparingInt(ClaimPlanner::urgency).thenComparing(c -> c.book().registered()));
        return out;
    }

    private static int urgency(Candidate c) {
        return switch (c.reason()) {
            case "close_requested" -> 0;
            case "final" -> 1;
            default -> 2;
        };
    }

    /**
     * Whether {@code item} can be claimed now, given the rental's state on chain and the chain's time
     * (the latest block's timestamp): the contract's rules in the order it applies them.
     */
    public static Check check(ClaimItem item, RentalTerms terms, String provider, long chainTime) {
        if (!terms.exists()) {
            return new Check(Verdict.LOST, "the rental does not exist on the escrow contract");
        }
        if (!terms.provider().equalsIgnoreCase(provider)) {
            return new Check(Verdict.LOST, "the rental pays " + terms.provider() + ", not this wallet");
        }
        int cmp = item.cumulativeAmount().compareTo(terms.claimed());
        if (terms.closed()) {
            return cmp <= 0 ? new Check(Verdict.DONE, "closed on chain with " + terms.claimed() + " claimed")
                    : new Check(Verdict.LOST, "closed on chain (the renter reclaimed after the deadline) with "
                    + item.cumulativeAmount().subtract(terms.claimed()) + " of the voucher unclaimed");
        }
        if (chainTime > terms.deadline()) {
            return new Check(Verdict.LOST, "past the rental's deadline " + Instant.ofEpochSecond(terms.deadline())
                    + "; the renter may reclaim " + terms.deposit().subtract(terms.claimed()));
        }
        if (cmp < 0 || (cmp == 0 && !item.close())) {
            return new Check(Verdict.DONE, "already claimed up to " + terms.claimed());
        }
        long elapsed = chainTime - terms.openedAt();
        if (item.cumulativeSeconds() > elapsed) {
            return new Check(Verdict.POSTPONE, "the voucher covers " + item.cumulativeSeconds() + " s but only " + elapsed
                    + " s have passed on chain since the rental opened");
        }
        return new Check(Verdict.OK, "");
    }
}
