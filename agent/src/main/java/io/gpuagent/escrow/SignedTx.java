package io.gpuagent.escrow;

import java.math.BigInteger;

/**
 * A signed EIP-1559 transaction, as persisted before it is broadcast.
 *
 * @param hash                 0x + 64 hex digits: keccak256 of {@code raw}
 * @param raw                  0x + the signed RLP bytes, exactly what eth_sendRawTransaction receives
 * @param nonce                the sender's nonce it uses
 * @param gasLimit             gas limit (estimate plus margin)
 * @param maxFeePerGas         wei
 * @param maxPriorityFeePerGas wei
 */
public record SignedTx(String hash, String raw, long nonce, BigInteger gasLimit, BigInteger maxFeePerGas,
                       BigInteger maxPriorityFeePerGas) {
}
