package io.gpuagent.escrow;

import java.math.BigInteger;

import static io.gpuagent.escrow.VoucherException.Code.BAD_SIGNATURE;
import static io.gpuagent.escrow.VoucherException.Code.NOT_INCREASING;
import static io.gpuagent.escrow.VoucherException.Code.OVER_DEPOSIT;
import static io.gpuagent.escrow.VoucherException.Code.OVER_DURATION;
import static io.gpuagent.escrow.VoucherException.Code.OVER_RATE;
import static io.gpuagent.escrow.VoucherException.Code.RENTAL_CLOSED;
import static io.gpuagent.escrow.VoucherException.Code.UNKNOWN_RENTAL;
import static io.gpuagent.escrow.VoucherException.Code.WRONG_PROVIDER;

/**
 * The rules a voucher must pass before the agent holds it: the contract's own claim rules (so that
 * a held voucher can be claimed), checked off chain against the rental's terms. Pure: no I/O.
 */
public final class VoucherRules {
    /** What to do with a voucher that passed. */
    public enum Outcome {
        /** Higher than anything held: store it, it is the new highest. */
        NEW_HIGHEST,
        /** The same amount as the highest held: an idempotent retry; store nothing. */
        DUPLICATE
    }

    private VoucherRules() {
    }

    /**
     * Checks {@code v} (already well formed) for {@code rental}.
     *
     * @param signer   who signed it, recovered under the escrow's EIP-712 domain
     * @param provider this agent's address (lowercase)
     * @param held     the highest voucher held for the rental, or null
     * @throws VoucherException with the first rule it breaks, in this order: unknown rental, wrong
     *                          provider, bad signature, (an equal amount: DUPLICATE), closed, not
     *                          increasing, over duration, over rate, over deposit
     */
    public static Outcome check(Voucher v, RentalTerms rental, String signer, String provider, Voucher held)
            throws VoucherException {
        String id = v.rentalId();
        if (!rental.exists()) {
            throw new VoucherException(UNKNOWN_RENTAL, "rental " + id + " does not exist on the escrow contract");
        }
        if (!rental.provider().equalsIgnoreCase(provider)) {
            throw new VoucherException(WRONG_PROVIDER, "rental " + id + " pays provider " + rental.provider() + ", not this agent (" + provider + ")");
        }
        if (!rental.voucherSigner().equalsIgnoreCase(signer)) {
            throw new VoucherException(BAD_SIGNATURE, "voucher for rental " + id + " is signed by " + signer
                    + ", not by the rental's voucher signer " + rental.voucherSigner()
                    + " (forged, or signed for another rental, contract or chain)");
        }
        BigInteger amount = v.cumulativeAmount();
        if (held != null && amount.equals(held.cumulativeAmount())) {
            return Outcome.DUPLICATE; // a retry of what is held: accepted even after the rental closed
        }
        if (rental.closed()) {
            throw new VoucherException(RENTAL_CLOSED, "rental " + id + " is closed on chain");
        }
        if (held != null) {
            int cmp = amount.compareTo(held.cumulativeAmount());
            if (cmp < 0) {
                throw new VoucherException(NOT_INCREASING, "voucher for rental " + id + " is for " + amount
                        + ", below the " + held.cumulativeAmount() + " already held");
            }
            if (v.cumulativeSeconds() < held.cumulativeSeconds()) {
                throw new VoucherException(NOT_INCREASING, "voucher for rental " + id + " covers " + v.cumulativeSeconds()
                        + " s, fewer than the " + held.cumulativeSeconds() + " s of the voucher already held");
            }
        }
        if (amount.compareTo(rental.claimed()) < 0) {
            throw new VoucherException(NOT_INCREASING, "voucher for rental " + id + " is for " + amount
                    + ", below the " + rental.claimed() + " already claimed on chain");
        }
        if (v.cumulativeSeconds() > rental.maxDurationSeconds()) {
            throw new VoucherException(OVER_DURATION, "voucher for rental " + id + " covers " + v.cumulativeSeconds()
                    + " s, more than the rental's maximum of " + rental.maxDurationSeconds() + " s");
        }
        BigInteger max = rental.maxRatePerSecond().multiply(BigInteger.valueOf(v.cumulativeSeconds()));
        if (amount.compareTo(max) > 0) {
            throw new VoucherException(OVER_RATE, "voucher for rental " + id + " asks " + amount + " for "
                    + v.cumulativeSeconds() + " s, more than the max rate " + rental.maxRatePerSecond() + "/s allows (" + max + ")");
        }
        if (amount.compareTo(rental.deposit()) > 0) {
            throw new VoucherException(OVER_DEPOSIT, "voucher for rental " + id + " is for " + amount
                    + ", more than the deposit of " + rental.deposit());
        }
        return Outcome.NEW_HIGHEST;
    }
}
