package io.gpuagent.escrow;

import java.math.BigInteger;
import java.util.List;

/**
 * Getting paid: what the daemon and the protocol call. Verifies rentals at launch, takes the
 * renter's vouchers (durably), and claims the escrow payouts on chain in the background
 * (docs/payments.md). Thread-safe. Created by {@code io.gpuagent.escrow.web3j.Web3jPayouts.start};
 * closed in reverse start order.
 */
public interface Payouts extends AutoCloseable {
    /** The wallet's address, where payouts go (EIP-55 checksummed). */
    String payoutAddress();

    /** Signs the scheduler's handshake challenge with the wallet key. */
    ChallengeSigner signer();

    /**
     * At launch: the rental exists on chain, is open, pays this agent, allows at least
     * {@code pricePerSecond} per second and {@code maxDurationSeconds}, holds a deposit.
     *
     * @throws VoucherException with a {@code rental_*} code, or {@code escrow_unavailable} when the
     *                          chain cannot be asked
     */
    void verifyRental(String rentalId, BigInteger pricePerSecond, long maxDurationSeconds) throws VoucherException;

    /**
     * Verifies a voucher and keeps it if it is the highest; durable (fsynced) before this returns.
     * An equal amount is an idempotent retry: accepted, nothing stored. A refused voucher changes nothing.
     *
     * @return the highest voucher now held for the rental
     * @throws VoucherException        with a {@code voucher_*} code
     * @throws EscrowStoreException    when the store failed for good (the daemon must exit)
     */
    Voucher acceptVoucher(String sessionId, Voucher voucher) throws VoucherException;

    /**
     * Checks a renter's stream grant (docs/streams.md) for a session paid by {@code sessionRental}:
     * signed by that rental's voucher signer (read from the chain when not cached), for this agent.
     *
     * @throws StreamGrantException {@code grant_invalid}, naming what failed
     */
    void checkStreamGrant(StreamGrant grant, String kind, String sessionRental) throws StreamGrantException;

    /** Seconds covered by the highest voucher of the rental (0 without one); survives restarts. */
    long paidSeconds(String rentalId);

    /** The session runs: claim it periodically. Idempotent; called again after a restart. */
    void sessionRunning(String sessionId, String rentalId);

    /** The session ended after {@code billedSeconds}: queue its final (closing) claim. Idempotent. */
    void sessionEnded(String sessionId, String rentalId, long billedSeconds);

    /** Every claim, oldest first. */
    List<ClaimView> claims();

    /** Earned, claimed and pending amounts, claims by state, gas, lag. */
    EscrowStats stats();

    /** Told of every claim change. */
    void addListener(ClaimListener listener);

    /** Stops the claim worker; a claim in flight stays persisted and resumes at the next start. */
    @Override
    void close();
}
