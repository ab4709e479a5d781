package io.gpuagent.escrow;

import java.math.BigInteger;
import java.time.Duration;

/**
 * When and how the agent claims (from config {@code [escrow]}).
 *
 * @param claimInterval  a running rental with unclaimed vouchers is claimed at least this often
 * @param claimMinAmount a running rental is also claimed once this much is unclaimed (0: interval only)
 * @param batchMax       rentals per transaction at most
 * @param pollInterval   how often receipts, blocks and events are polled
 * @param tipFloor       EIP-1559 tip floor, wei
 * @param maxFeeCap      EIP-1559 max fee cap, wei
 * @param confirmations  blocks on top of a claim before it is final, when {@code useFinalizedTag} is off
 *                       or the node does not know the tag
 * @param useFinalizedTag final when the node's {@code finalized} block includes the claim
 * @param backoffCap     the longest wait between retries while the RPC is down
 */
public record ClaimPolicy(Duration claimInterval, BigInteger claimMinAmount, int batchMax, Duration pollInterval,
                          BigInteger tipFloor, BigInteger maxFeeCap, long confirmations, boolean useFinalizedTag,
                          Duration backoffCap) {
    public ClaimPolicy {
        if (batchMax < 1) {
            throw new IllegalArgumentException("batchMax must be at least 1, was " + batchMax);
        }
    }

    /** The policy the config asks for; the retry backoff is capped at 30 polls, between one poll and a minute. */
    public static ClaimPolicy of(io.gpuagent.config.AgentConfig.Escrow e) {
        Duration poll = Duration.ofMillis(e.pollIntervalMs());
        Duration cap = poll.multipliedBy(30);
        if (cap.compareTo(Duration.ofMinutes(1)) > 0) {
            cap = poll.compareTo(Duration.ofMinutes(1)) > 0 ? poll : Duration.ofMinutes(1);
        }
        return new ClaimPolicy(Duration.ofSeconds(e.claimIntervalS()), BigInteger.valueOf(e.claimMinAmount()),
                (int) e.batchMax(), poll, BigInteger.valueOf(e.minPriorityFeeGwei()).multiply(Fees.GWEI),
                BigInteger.valueOf(e.maxFeeGwei()).multiply(Fees.GWEI), e.confirmations(), "finalized".equals(e.finality()), cap);
    }

    /** Gas limit for an estimate: 20 % and 10 000 gas of margin (state can change between estimate and inclusion). */
    public static BigInteger gasLimit(BigInteger estimate) {
        return estimate.multiply(BigInteger.valueOf(6)).divide(BigInteger.valueOf(5)).add(BigInteger.valueOf(10_000));
    }
}
