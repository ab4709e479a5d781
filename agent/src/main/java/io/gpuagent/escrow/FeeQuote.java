package io.gpuagent.escrow;

import java.math.BigInteger;

/**
 * The chain's fee market now: the latest block's base fee and the node's suggested tip
 * ({@code eth_maxPriorityFeePerGas}), both in wei.
 */
public record FeeQuote(BigInteger baseFeePerGas, BigInteger suggestedTip) {
}
