package io.gpuagent.escrow;

import java.math.BigInteger;

/** What a mined transaction's receipt says; {@code success} is status 1. */
public record TxReceipt(String txHash, long blockNumber, String blockHash, boolean success, BigInteger gasUsed,
                        BigInteger effectiveGasPrice) {

    /** Wei paid for gas. */
    public BigInteger gasCost() {
        return gasUsed.multiply(effectiveGasPrice);
    }
}
