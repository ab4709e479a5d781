package io.gpuagent.escrow;

import java.math.BigInteger;

/**
 * A rental as the contract's {@code rental(bytes32)} view reports it. Addresses are lowercase
 * 0x + 40 hex digits. An unknown rental has {@code renter} equal to the zero address
 * ({@link #exists()} is false).
 */
public record RentalTerms(String rentalId, String renter, String provider, String voucherSigner, BigInteger deposit,
                          BigInteger claimed, BigInteger maxRatePerSecond, long openedAt, long deadline,
                          long maxDurationSeconds, int feeBps, boolean closed) {
    public static final String ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

    /** Whether the contract knows this rental. */
    public boolean exists() {
        return !ZERO_ADDRESS.equals(provider);
    }
}
