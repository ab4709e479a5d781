package io.gpuagent.escrow;

import java.math.BigInteger;

/**
 * The EIP-1559 fees a claim is signed with, in wei: tip = max(suggested tip, floor), max fee =
 * min(2 x base fee + tip, cap), and the tip never above the max fee. Twice the base fee keeps the
 * transaction includable through six full blocks of base-fee rises (12.5 % each).
 */
public record Fees(BigInteger maxFeePerGas, BigInteger maxPriorityFeePerGas) {
    public static final BigInteger GWEI = BigInteger.TEN.pow(9);

    /** The fees for a quote, a tip floor and a cap, all in wei. */
    public static Fees compute(FeeQuote quote, BigInteger tipFloor, BigInteger maxFeeCap) {
        BigInteger tip = quote.suggestedTip().max(tipFloor);
        BigInteger maxFee = quote.baseFeePerGas().shiftLeft(1).add(tip).min(maxFeeCap);
        return new Fees(maxFee, tip.min(maxFee));
    }

    /** Whether a block with this base fee can include a transaction with these fees. */
    public boolean includableAt(BigInteger baseFee) {
        return maxFeePerGas.compareTo(baseFee) >= 0;
    }
}
