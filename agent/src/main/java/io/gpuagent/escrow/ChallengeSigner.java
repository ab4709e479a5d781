package io.gpuagent.escrow;

/**
 * Proves the agent's payout address in the scheduler handshake: signs the server's challenge with
 * the wallet key. Implementations hold the key; it never leaves them.
 */
public interface ChallengeSigner {
    /** The payout address, EIP-55 checksummed (0x + 40 hex digits, mixed case). */
    String address();

    /**
     * Signs {@code message} as EIP-191 {@code personal_sign} does: keccak256 of
     * {@code "\x19Ethereum Signed Message:\n" + len(message) + message}.
     *
     * @return 0x + 130 lowercase hex digits: r, s (low-s), v in {27, 28}
     */
    String sign(byte[] message);
}
