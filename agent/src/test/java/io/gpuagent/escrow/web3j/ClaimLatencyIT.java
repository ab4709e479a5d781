package io.gpuagent.escrow.web3j;

import io.gpuagent.escrow.ClaimState;
import io.gpuagent.escrow.EscrowPayouts;
import io.gpuagent.escrow.Voucher;
import io.gpuagent.testsupport.LocalChain;
import io.gpuagent.util.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Claim latency on the local node: from {@code sessionEnded} to the claim's FINAL state, one rental
 * at a time, 5 warm-up rounds then 30 measured. Prints the distribution for docs/benchmarks.md
 * ("Claim latency"); asserts only that every claim became final (never a timed test).
 */
class ClaimLatencyIT {
    @TempDir
    Path state;

    @Test
    void sessionEndedToFinal() throws Exception {
        try (LocalChain chain = LocalChain.start()) {
            LocalChain.Deployment d = chain.deploy();
            VoucherTypedData typed = new VoucherTypedData(LocalChain.CHAIN_ID, d.escrow());
            int warmup = 5;
            int rounds = 30;
            List<String> rentals = new ArrayList<>();
            for (int i = 0; i < warmup + rounds; i++) {
                rentals.add(chain.open(d, LocalChain.PROVIDER.getAddress(), BigInteger.valueOf(1_000_000), BigInteger.valueOf(1000),
                        3600, LocalChain.RENTER.getAddress()));
            }
            chain.advanceTime(120);
            List<Double> ms = new ArrayList<>();
            try (EscrowPayouts p = Web3jPayouts.start(EscrowChainIT.config(chain.url(), d, 2000), state, Clock.SYSTEM,
                    LocalChain.PROVIDER)) {
                for (int i = 0; i < rentals.size(); i++) {
                    String r = rentals.get(i);
                    Voucher v = typed.sign(r, 60, BigInteger.valueOf(60_000), LocalChain.RENTER.getEcKeyPair());
                    p.sessionRunning("s-" + i, r);
                    p.acceptVoucher("s-" + i, v);
                    long t0 = System.nanoTime();
                    p.sessionEnded("s-" + i, r, 60);
                    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(1)).until(() -> p.claims().stream()
                            .anyMatch(c -> c.state() == ClaimState.FINAL && c.rentals().contains(r)));
                    if (i >= warmup) {
                        ms.add((System.nanoTime() - t0) / 1e6);
                    }
                }
                assertThat(p.claims()).allSatisfy(c -> assertThat(c.state()).isEqualTo(ClaimState.FINAL));
            }
            Collections.sort(ms);
            System.out.printf("CLAIM-LATENCY rounds=%d p50=%.1f ms p90=%.1f ms max=%.1f ms (sessionEnded -> FINAL, one rental"
                    + " per claim, ganache 7.9.2 instamine, poll_interval_ms=2000)%n", rounds, ms.get(rounds / 2),
                    ms.get(rounds * 9 / 10), ms.get(rounds - 1));
        }
    }
}
