package io.gpuagent.escrow;

import java.math.BigInteger;
import java.util.Map;

/**
 * A read-only snapshot of the escrow for metrics and status. Amounts are token base units, gas in wei.
 *
 * @param earned            sum of the highest vouchers held, over all rentals
 * @param claimed           sum of what is claimed on chain (mined claims), over all rentals
 * @param pending           earned minus claimed, over rentals that are neither closed nor given up
 * @param lost              voucher amounts the chain refused for good (rentals given up)
 * @param claimsByState     number of claims in each state
 * @param gasSpentWei       gas paid by mined and reverted claims
 * @param voucherLagSeconds the longest time since a running rental's newest voucher (or since it
 *                          started, without one)
 * @param unpaidSeconds     over ended sessions: billed seconds not covered by a voucher
 * @param rentals           rentals known
 * @param rpcFailures       consecutive failed claim worker steps (0 while the RPC answers)
 * @param lastError         the worker's last error, or ""
 */
public record EscrowStats(BigInteger earned, BigInteger claimed, BigInteger pending, BigInteger lost,
                          Map<ClaimState, Long> claimsByState, BigInteger gasSpentWei, long voucherLagSeconds,
                          long unpaidSeconds, int rentals, int rpcFailures, String lastError) {
    public EscrowStats {
        claimsByState = Map.copyOf(claimsByState);
    }
}
