package io.gpuagent.escrow.web3j;

import io.gpuagent.escrow.ClaimPolicy;
import io.gpuagent.escrow.ClaimState;
import io.gpuagent.escrow.EscrowPayouts;
import io.gpuagent.escrow.EscrowStats;
import io.gpuagent.escrow.EscrowStore;
import io.gpuagent.escrow.FakeChain;
import io.gpuagent.escrow.Fees;
import io.gpuagent.escrow.Voucher;
import io.gpuagent.escrow.VoucherException;
import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.ECKeyPair;
import org.web3j.utils.Numeric;

import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;

import static io.gpuagent.escrow.VoucherException.Code.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The facade with real EIP-712 signatures over the fake chain: what is accepted, what is refused, what survives. */
class EscrowPayoutsTest {
    static final String CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    static final ECKeyPair RENTER = ECKeyPair.create(Numeric.toBigInt("0x" + "22".repeat(32)));
    static final ECKeyPair STRANGER = ECKeyPair.create(Numeric.toBigInt("0x" + "33".repeat(32)));
    static final String RENTER_ADDRESS = Credentials.create(RENTER).getAddress();
    static final String R1 = "0x" + "01".repeat(32);
    static final String R2 = "0x" + "02".repeat(32);
    static final BigInteger RATE = BigInteger.valueOf(1000);

    @TempDir
    Path dir;
    final ManualClock clock = new ManualClock();
    final FakeChain chain = new FakeChain();
    final VoucherTypedData typed = new VoucherTypedData(1337, CONTRACT);
    EscrowPayouts payouts;

    @BeforeEach
    void open() throws Exception {
        chain.chainTime = clock.wallTime().getEpochSecond();
        chain.open(R1, BigInteger.valueOf(1_000_000), RATE, 3600, RENTER_ADDRESS);
        chain.open(R2, BigInteger.valueOf(1_000_000), RATE, 3600, RENTER_ADDRESS);
        payouts = create();
    }

    EscrowPayouts create() throws Exception {
        ClaimPolicy p = new ClaimPolicy(Duration.ofHours(1), BigInteger.ZERO, 10, Duration.ofSeconds(1), Fees.GWEI,
                Fees.GWEI.multiply(BigInteger.valueOf(100)), 1, true, Duration.ofSeconds(10));
        return new EscrowPayouts(chain, typed, new WalletSigner(Credentials.create(STRANGER)), EscrowStore.open(dir, clock), p, clock);
    }

    @AfterEach
    void close() {
        payouts.close();
    }

    Voucher v(String rental, long s, long amount) {
        return typed.sign(rental, s, BigInteger.valueOf(amount), RENTER);
    }

    void refused(String session, Voucher v, VoucherException.Code code) {
        int before = payouts.claims().size();
        long paid = payouts.paidSeconds(v.rentalId());
        assertThatThrownBy(() -> payouts.acceptVoucher(session, v)).isInstanceOfSatisfying(VoucherException.class,
                e -> assertThat(e.code()).isEqualTo(code));
        assertThat(payouts.paidSeconds(v.rentalId())).isEqualTo(paid);
        assertThat(payouts.claims()).hasSize(before);
    }

    @Test
    void theHighestVoucherIsKeptDurablyAndAnEqualOneIsAnIdempotentRetry() throws Exception {
        payouts.sessionRunning("s-1", R1);
        assertThat(payouts.acceptVoucher("s-1", v(R1, 10, 10_000))).isEqualTo(v(R1, 10, 10_000));
        assertThat(payouts.acceptVoucher("s-1", v(R1, 20, 20_000))).isEqualTo(v(R1, 20, 20_000));
        assertThat(payouts.acceptVoucher("s-1", v(R1, 20, 20_000))).isEqualTo(v(R1, 20, 20_000));
        assertThat(payouts.paidSeconds(R1)).isEqualTo(20);
        payouts.close();
        payouts = create();
        assertThat(payouts.paidSeconds(R1)).isEqualTo(20);
        assertThat(payouts.stats().earned()).isEqualTo(BigInteger.valueOf(20_000));
    }

    @Test
    void forgedReplayedDecreasingAndOverRateVouchersAreRefusedAndNothingIsStored() throws Exception {
        payouts.sessionRunning("s-1", R1);
        payouts.acceptVoucher("s-1", v(R1, 20, 20_000));
        refused("s-1", typed.sign(R1, 30, BigInteger.valueOf(30_000), STRANGER), BAD_SIGNATURE); // forged
        refused("s-1", new VoucherTypedData(137, CONTRACT).sign(R1, 30, BigInteger.valueOf(30_000), RENTER), BAD_SIGNATURE);
        refused("s-1", new VoucherTypedData(1337, "0x" + "00".repeat(19) + "09").sign(R1, 30, BigInteger.valueOf(30_000), RENTER),
                BAD_SIGNATURE);
        Voucher forR2 = v(R2, 30, 30_000);
        refused("s-1", new Voucher(R1, 30, BigInteger.valueOf(30_000), forR2.signature()), BAD_SIGNATURE); // replayed from another rental
        refused("s-1", forR2, WRONG_RENTAL);
        refused("s-1", v(R1, 15, 15_000), NOT_INCREASING);
        refused("s-1", v(R1, 30, 30_001), OVER_RATE);
        refused("s-1", v(R1, 3601, 30_000), OVER_DURATION);
        refused("s-1", new Voucher(R1, 30, BigInteger.ONE, "0x00"), MALFORMED);
        refused("s-9", v("0x" + "09".repeat(32), 1, 1), UNKNOWN_RENTAL);
        assertThat(payouts.paidSeconds(R1)).isEqualTo(20);
    }

    @Test
    void verifyRentalChecksTheTermsAtLaunch() throws Exception {
        payouts.verifyRental(R1, RATE, 3600);
        assertThatThrownBy(() -> payouts.verifyRental(R1, RATE.add(BigInteger.ONE), 3600)).hasMessageContaining("rental_under_price");
        assertThatThrownBy(() -> payouts.verifyRental(R1, RATE, 3601)).hasMessageContaining("rental_too_short");
        assertThatThrownBy(() -> payouts.verifyRental("0x" + "09".repeat(32), RATE, 60)).hasMessageContaining("rental_unknown");
        assertThatThrownBy(() -> payouts.verifyRental("0x12", RATE, 60)).hasMessageContaining("voucher_malformed");
        chain.down = true;
        assertThatThrownBy(() -> payouts.verifyRental(R1, RATE, 60)).isInstanceOfSatisfying(VoucherException.class,
                e -> assertThat(e.retryable()).isTrue());
    }

    @Test
    void sessionEndedQueuesOneClosingClaimAndStatsAddUp() throws Exception {
        payouts.sessionRunning("s-1", R1);
        payouts.acceptVoucher("s-1", v(R1, 20, 20_000));
        payouts.sessionEnded("s-1", R1, 25);
        payouts.sessionEnded("s-1", R1, 25);
        chain.chainTime += 60;
        clock.advance(Duration.ofSeconds(60));
        payouts.worker().runOnce();
        assertThat(payouts.claims()).singleElement().satisfies(c -> {
            assertThat(c.state()).isEqualTo(ClaimState.FINAL);
            assertThat(c.close()).isTrue();
            assertThat(c.amount()).isEqualTo(BigInteger.valueOf(20_000));
        });
        EscrowStats s = payouts.stats();
        assertThat(s.earned()).isEqualTo(BigInteger.valueOf(20_000));
        assertThat(s.claimed()).isEqualTo(BigInteger.valueOf(20_000));
        assertThat(s.pending()).isZero();
        assertThat(s.unpaidSeconds()).isEqualTo(5);
        assertThat(s.claimsByState()).containsEntry(ClaimState.FINAL, 1L);
        assertThat(s.gasSpentWei()).isPositive();
        refused("s-1", v(R1, 30, 30_000), RENTAL_CLOSED);
    }
}
