package io.gpuagent.market;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PriceListTest {
    private final PriceList prices = new PriceList(List.of("H200=972", "H100=611", "A100=333"),
            List.of("H200 1g.18gb=150", "1g.10gb=95"));

    @Test
    void wholeGpusTakeTheFirstModelContainedInTheirName() {
        assertThat(prices.priceOf("NVIDIA H100 80GB HBM3")).contains(BigInteger.valueOf(611));
        assertThat(prices.priceOf("NVIDIA GeForce RTX 4090")).isEmpty();
    }

    @Test
    void aMigInstanceTakesItsExplicitPriceModelSpecificFirst() {
        assertThat(prices.priceOfMig("NVIDIA H100 80GB HBM3", "1g.10gb", 1, 7)).contains(BigInteger.valueOf(95));
        assertThat(prices.priceOfMig("NVIDIA H200", "1g.18gb", 1, 7)).contains(BigInteger.valueOf(150));
        // the H200 entry does not apply to another model
        assertThat(prices.priceOfMig("NVIDIA A100-SXM4-80GB", "1g.18gb", 1, 7)).contains(BigInteger.valueOf(48));
    }

    @Test
    void anUnpricedProfileCostsItsShareOfTheGpuRoundedUp() {
        // 611 * 3 / 7 = 261.857...
        assertThat(prices.priceOfMig("NVIDIA H100 80GB HBM3", "3g.40gb", 3, 7)).contains(BigInteger.valueOf(262));
        assertThat(prices.priceOfMig("NVIDIA H100 80GB HBM3", "7g.80gb", 7, 7)).contains(BigInteger.valueOf(611));
        // 333 / 7 = 47.57 -> 48
        assertThat(prices.priceOfMig("NVIDIA A100 80GB PCIe", "1g.20gb", 1, 7)).contains(BigInteger.valueOf(48));
        assertThat(prices.priceOfMig("NVIDIA GeForce RTX 4090", "1g.10gb+me", 1, 7)).isEmpty();
    }
}
