package io.gpuagent.escrow;

import java.math.BigInteger;

/**
 * One rental's part of a claim transaction: the voucher being claimed and whether the claim also
 * closes the rental (its last claim, after the session ended). The contract's {@code Claim} struct.
 */
public record ClaimItem(String rentalId, long cumulativeSeconds, BigInteger cumulativeAmount, String signature,
                        boolean close) {

    public static ClaimItem of(Voucher v, boolean close) {
        return new ClaimItem(v.rentalId(), v.cumulativeSeconds(), v.cumulativeAmount(), v.signature(), close);
    }
}
