package io.gpuagent.escrow;

import java.math.BigInteger;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A renter-signed usage voucher: "rental {@code rentalId} has used {@code cumulativeSeconds} and
 * owes {@code cumulativeAmount} token base units in total". Signed as EIP-712 typed data
 * {@code Voucher(bytes32 rentalId,uint64 cumulativeSeconds,uint256 cumulativeAmount)} under the
 * domain {@code GpuEscrow}/{@code 1}/chain id/contract (docs/payments.md). Vouchers are cumulative:
 * the highest one supersedes all earlier ones, so only that one is ever claimed.
 *
 * @param rentalId          0x + 64 lowercase hex digits
 * @param cumulativeSeconds seconds of use the voucher covers, 0..2^64-1 as the contract's uint64 (Java: >= 0)
 * @param cumulativeAmount  token base units owed in total, 0..2^256-1
 * @param signature         0x + 130 hex digits: r (32 bytes), s (32 bytes), v (27 or 28)
 */
public record Voucher(String rentalId, long cumulativeSeconds, BigInteger cumulativeAmount, String signature) {
    private static final Pattern BYTES32 = Pattern.compile("0x[0-9a-f]{64}");
    private static final Pattern SIGNATURE = Pattern.compile("0x[0-9a-f]{130}");
    private static final BigInteger UINT256_MAX = BigInteger.ONE.shiftLeft(256).subtract(BigInteger.ONE);

    /** Normalizes hex to lowercase; shape is checked by {@link #checkWellFormed()}, not here, so that bad input can be reported with a code. */
    public Voucher {
        rentalId = rentalId == null ? null : rentalId.toLowerCase(Locale.ROOT);
        signature = signature == null ? null : signature.toLowerCase(Locale.ROOT);
    }

    /** Throws {@code voucher_malformed} naming the first field that is not well formed. */
    public Voucher checkWellFormed() throws VoucherException {
        if (rentalId == null || !BYTES32.matcher(rentalId).matches()) {
            throw new VoucherException(VoucherException.Code.MALFORMED, "rentalId must be 0x and 64 hex digits, was " + rentalId);
        }
        if (cumulativeSeconds < 0) {
            throw new VoucherException(VoucherException.Code.MALFORMED, "cumulativeSeconds must not be negative, was " + cumulativeSeconds);
        }
        if (cumulativeAmount == null || cumulativeAmount.signum() < 0 || cumulativeAmount.compareTo(UINT256_MAX) > 0) {
            throw new VoucherException(VoucherException.Code.MALFORMED, "cumulativeAmount must be 0..2^256-1, was " + cumulativeAmount);
        }
        if (signature == null || !SIGNATURE.matcher(signature).matches()) {
            throw new VoucherException(VoucherException.Code.MALFORMED,
                    "signature must be 0x and 130 hex digits (r, s, v), was " + (signature == null ? null : signature.length() + " characters"));
        }
        int v = Integer.parseInt(signature.substring(130), 16);
        if (v != 27 && v != 28) {
            throw new VoucherException(VoucherException.Code.MALFORMED, "signature's v must be 27 or 28 (1b or 1c), was " + v);
        }
        return this;
    }

    /** Whether {@code s} is a well-formed rental id (0x + 64 hex digits, any case). */
    public static boolean isRentalId(String s) {
        return s != null && BYTES32.matcher(s.toLowerCase(Locale.ROOT)).matches();
    }
}
