package io.gpuagent.escrow;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;

import static org.assertj.core.api.Assertions.assertThat;

class FeesTest {
    static BigInteger gwei(long g) {
        return BigInteger.valueOf(g).multiply(Fees.GWEI);
    }

    @Test
    void tipIsTheSuggestionOrTheFloorAndMaxFeeIsTwiceTheBaseFeePlusTheTipUnderTheCap() {
        // Polygon: suggested tip below the 25-30 gwei floor
        Fees f = Fees.compute(new FeeQuote(gwei(100), gwei(2)), gwei(30), gwei(1000));
        assertThat(f.maxPriorityFeePerGas()).isEqualTo(gwei(30));
        assertThat(f.maxFeePerGas()).isEqualTo(gwei(230));
        // suggested above the floor
        f = Fees.compute(new FeeQuote(gwei(100), gwei(50)), gwei(30), gwei(1000));
        assertThat(f.maxPriorityFeePerGas()).isEqualTo(gwei(50));
        assertThat(f.maxFeePerGas()).isEqualTo(gwei(250));
        // congestion: capped
        f = Fees.compute(new FeeQuote(gwei(800), gwei(50)), gwei(30), gwei(1000));
        assertThat(f.maxFeePerGas()).isEqualTo(gwei(1000));
        assertThat(f.includableAt(gwei(1000))).isTrue();
        assertThat(f.includableAt(gwei(1001))).isFalse();
        // a cap below the tip: the tip is cut to the cap (EIP-1559 requires tip <= max fee)
        f = Fees.compute(new FeeQuote(gwei(1), gwei(50)), gwei(30), gwei(40));
        assertThat(f.maxFeePerGas()).isEqualTo(gwei(40));
        assertThat(f.maxPriorityFeePerGas()).isEqualTo(gwei(40));
    }

    @Test
    void gasLimitHasTwentyPercentAndTenThousandGasOfMargin() {
        assertThat(ClaimPolicy.gasLimit(BigInteger.valueOf(50_000))).isEqualTo(BigInteger.valueOf(70_000));
    }
}
