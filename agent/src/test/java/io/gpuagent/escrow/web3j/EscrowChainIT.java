package io.gpuagent.escrow.web3j;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.escrow.ClaimState;
import io.gpuagent.escrow.ClaimView;
import io.gpuagent.escrow.EscrowPayouts;
import io.gpuagent.escrow.Voucher;
import io.gpuagent.escrow.VoucherException;
import io.gpuagent.testsupport.LocalChain;
import io.gpuagent.testsupport.RpcProxy;
import io.gpuagent.util.Clock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.utils.Numeric;

import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The agent's escrow side against the real contract on a private ganache, through a proxy that can
 * cut the RPC or drop broadcasts. Each test states what holds afterwards.
 */
class EscrowChainIT {
    static final BigInteger DEPOSIT = BigInteger.valueOf(10_000_000);
    static final BigInteger RATE = BigInteger.valueOf(1000);
    static final VoucherTypedData NOWHERE = new VoucherTypedData(1, "0x" + "00".repeat(20));

    static LocalChain chain;
    @TempDir
    Path state;
    RpcProxy proxy;
    LocalChain.Deployment d;
    VoucherTypedData typed;
    EscrowPayouts payouts;

    @BeforeAll
    static void startChain() throws Exception {
        chain = LocalChain.start();
    }

    @AfterAll
    static void stopChain() {
        if (chain != null) {
            chain.close();
        }
    }

    @BeforeEach
    void deploy() throws Exception {
        d = chain.deploy();
        typed = new VoucherTypedData(LocalChain.CHAIN_ID, d.escrow());
        proxy = new RpcProxy(chain.url());
        payouts = Web3jPayouts.start(config(proxy.url(), d, 100), state, Clock.SYSTEM, LocalChain.PROVIDER);
    }

    @AfterEach
    void stop() {
        payouts.close();
        proxy.close();
    }

    static AgentConfig.Escrow config(String url, LocalChain.Deployment d, long pollMs) {
        return new AgentConfig.Escrow(true, url, LocalChain.CHAIN_ID, d.escrow(), d.token(), "", "", "wallet-password",
                "finalized", 1, 1, 1000, 86_400, 0, 10, 60, pollMs);
    }

    String open(long maxDuration) throws Exception {
        return chain.open(d, LocalChain.PROVIDER.getAddress(), DEPOSIT, RATE, maxDuration, LocalChain.RENTER.getAddress());
    }

    Voucher voucher(String rental, long seconds) {
        return typed.sign(rental, seconds, RATE.multiply(BigInteger.valueOf(seconds)), LocalChain.RENTER.getEcKeyPair());
    }

    ClaimView awaitClaim(Predicate<ClaimView> p) {
        return await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                .until(() -> payouts.claims().stream().filter(p).findFirst().orElse(null), c -> c != null);
    }

    static Predicate<ClaimView> finalFor(String rental) {
        return c -> c.state() == ClaimState.FINAL && c.rentals().contains(rental);
    }

    @Test
    void theContractComputesTheSameDigestAndAcceptsAVoucherTheJavaSideSigned() throws Exception {
        String r = open(3600);
        chain.advanceTime(120);
        assertThat(chain.voucherDigest(d, r, 60, BigInteger.valueOf(60_000))).isEqualTo(typed.digest(r, 60, BigInteger.valueOf(60_000)));
        payouts.verifyRental(r, RATE, 3600);
        payouts.sessionRunning("s-1", r);
        payouts.acceptVoucher("s-1", voucher(r, 60));
        BigInteger before = chain.balanceOf(d, LocalChain.PROVIDER.getAddress());
        long t0 = System.nanoTime();
        payouts.sessionEnded("s-1", r, 60);
        ClaimView c = awaitClaim(finalFor(r));
        long micros = (System.nanoTime() - t0) / 1000;
        System.out.printf("claim latency sessionEnded -> FINAL: %.1f ms (one rental, ganache instamine)%n", micros / 1000.0);
        // the provider got the amount minus the 10 % fee; the renter's refund waits in withdrawable
        assertThat(chain.balanceOf(d, LocalChain.PROVIDER.getAddress()).subtract(before)).isEqualTo(BigInteger.valueOf(54_000));
        assertThat(chain.withdrawable(d, LocalChain.RENTER.getAddress())).isEqualTo(DEPOSIT.subtract(BigInteger.valueOf(60_000)));
        assertThat(c.close()).isTrue();
        assertThat(c.gasCostWei()).isPositive();
        assertThat(chain.claimedEvents(d, r)).hasSize(1);
        assertThatThrownBy(() -> payouts.verifyRental(r, RATE, 60)).hasMessageContaining("rental_closed");
    }

    @Test
    void vouchersForAnotherChainOrContractAndForgedOnesAreRefusedByTheAgentBeforeTheChainWouldBe() throws Exception {
        String r = open(3600);
        payouts.sessionRunning("s-1", r);
        Voucher otherChain = new VoucherTypedData(137, d.escrow()).sign(r, 60, BigInteger.valueOf(60_000), LocalChain.RENTER.getEcKeyPair());
        Voucher forged = typed.sign(r, 60, BigInteger.valueOf(60_000), LocalChain.STRANGER.getEcKeyPair());
        for (Voucher v : List.of(otherChain, forged, NOWHERE.sign(r, 60, BigInteger.valueOf(60_000), LocalChain.RENTER.getEcKeyPair()))) {
            assertThatThrownBy(() -> payouts.acceptVoucher("s-1", v)).isInstanceOfSatisfying(VoucherException.class,
                    e -> assertThat(e.code()).isEqualTo(VoucherException.Code.BAD_SIGNATURE));
        }
        assertThat(payouts.paidSeconds(r)).isZero();
        String notOurs = chain.open(d, LocalChain.STRANGER.getAddress(), DEPOSIT, RATE, 3600, LocalChain.RENTER.getAddress());
        assertThatThrownBy(() -> payouts.verifyRental(notOurs, RATE, 60)).hasMessageContaining("rental_wrong_provider");
        assertThatThrownBy(() -> payouts.acceptVoucher("s-2", voucher(notOurs, 10))).hasMessageContaining("voucher_wrong_provider");
    }

    @Test
    void severalEndedSessionsAreClaimedInOneBatch() throws Exception {
        payouts.close();
        String[] r = {open(3600), open(3600), open(3600)};
        chain.advanceTime(120);
        payouts = Web3jPayouts.start(config(proxy.url(), d, 100), state, Clock.SYSTEM, LocalChain.PROVIDER);
        payouts.worker(); // started
        // register all three before the worker's next poll: they end up in one claim
        for (int i = 0; i < 3; i++) {
            payouts.sessionRunning("s-" + i, r[i]);
            payouts.acceptVoucher("s-" + i, voucher(r[i], 60 + i));
        }
        for (int i = 0; i < 3; i++) {
            payouts.sessionEnded("s-" + i, r[i], 60 + i);
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> payouts.claims().stream()
                .filter(c -> c.state() == ClaimState.FINAL).mapToInt(c -> c.rentals().size()).sum() == 3);
        assertThat(payouts.claims()).anySatisfy(c -> assertThat(c.rentals().size()).isGreaterThan(1));
        for (String id : r) {
            assertThat(chain.claimedEvents(d, id)).hasSize(1);
        }
    }

    @Test
    void anRpcOutageOfSecondsOnlyDelaysTheClaimWhichLandsOnceAfterwards() throws Exception {
        String r = open(3600);
        chain.advanceTime(120);
        payouts.sessionRunning("s-1", r);
        payouts.acceptVoucher("s-1", voucher(r, 60));
        proxy.cut();
        payouts.sessionEnded("s-1", r, 60);
        await().atMost(Duration.ofSeconds(30)).until(() -> payouts.stats().rpcFailures() >= 5);
        assertThat(payouts.stats().lastError()).isNotEmpty();
        assertThat(chain.claimedEvents(d, r)).isEmpty();
        proxy.restore();
        awaitClaim(finalFor(r));
        assertThat(chain.claimedEvents(d, r)).hasSize(1);
        assertThat(payouts.stats().rpcFailures()).isZero();
    }

    @Test
    void aTransactionTheNodeNeverKeptIsBroadcastAgainWithTheSameBytes() throws Exception {
        String r = open(3600);
        chain.advanceTime(120);
        payouts.sessionRunning("s-1", r);
        payouts.acceptVoucher("s-1", voucher(r, 60));
        proxy.dropSends(1);
        payouts.sessionEnded("s-1", r, 60);
        ClaimView c = awaitClaim(finalFor(r));
        assertThat(proxy.dropped()).isEqualTo(1);
        assertThat(payouts.claims()).hasSize(1); // the same claim, not a new one
        assertThat(chain.receipt(c.txHash())).isPresent(); // the hash signed first is the one mined
        assertThat(chain.claimedEvents(d, r)).hasSize(1);
    }

    @Test
    void aNonceTakenByAnotherSenderReplacesTheClaimAndTheRentalIsClaimedExactlyOnce() throws Exception {
        String r = open(3600);
        chain.advanceTime(120);
        payouts.sessionRunning("s-1", r);
        payouts.acceptVoucher("s-1", voucher(r, 60));
        proxy.cut(); // hold the worker while the nonce is taken
        payouts.sessionEnded("s-1", r, 60);
        long nonce = chain.web3j().ethGetTransactionCount(LocalChain.PROVIDER.getAddress(),
                org.web3j.protocol.core.DefaultBlockParameterName.LATEST).send().getTransactionCount().longValueExact();
        // the worker's sends are dropped until the other transaction below is in: its re-broadcast of
        // the same bytes (it finds its transaction unknown to the node) must not race that one
        proxy.dropSends(Integer.MAX_VALUE);
        proxy.restore();
        await().atMost(Duration.ofSeconds(30)).until(() -> proxy.dropped() >= 1);
        // the same key sends something else with that nonce, outside the agent
        chain.sendTx(LocalChain.PROVIDER, d.token(), FunctionEncoder.encode(new Function("approve",
                List.of(new Address(d.escrow()), new Uint256(BigInteger.ONE)), List.of())), nonce);
        proxy.dropSends(0);
        awaitClaim(finalFor(r));
        assertThat(payouts.claims()).extracting(ClaimView::state).containsExactly(ClaimState.REPLACED, ClaimState.FINAL);
        assertThat(payouts.claims().get(1).nonce()).isEqualTo(nonce + 1);
        assertThat(chain.claimedEvents(d, r)).hasSize(1);
    }

    @Test
    void aRenterWhoRequestsCloseMidSessionIsClaimedPromptlyAndTheSessionCanStillEndAndClose() throws Exception {
        String r = open(3600);
        chain.advanceTime(120);
        payouts.sessionRunning("s-1", r);
        payouts.acceptVoucher("s-1", voucher(r, 60));
        chain.requestClose(d, r);
        ClaimView c = awaitClaim(finalFor(r));
        assertThat(c.reason()).isEqualTo("close_requested");
        assertThat(c.close()).isFalse();
        payouts.acceptVoucher("s-1", voucher(r, 90));
        payouts.sessionEnded("s-1", r, 90);
        await().atMost(Duration.ofSeconds(30)).until(() -> payouts.claims().stream().filter(finalFor(r)).count() == 2);
        assertThat(chain.claimedEvents(d, r)).hasSize(2);
        assertThat(chain.withdrawable(d, LocalChain.RENTER.getAddress())).isEqualTo(DEPOSIT.subtract(BigInteger.valueOf(90_000)));
    }

    @Test
    void aRenterWhoVanishesIsChargedWhatItsVouchersCoverAndRefundedTheRest() throws Exception {
        String r = open(3600);
        chain.advanceTime(400);
        payouts.sessionRunning("s-1", r);
        payouts.acceptVoucher("s-1", voucher(r, 60));
        // no voucher after 60 s; the session is ended (credit limit) after 300 s billed
        payouts.sessionEnded("s-1", r, 300);
        awaitClaim(finalFor(r));
        assertThat(chain.withdrawable(d, LocalChain.RENTER.getAddress())).isEqualTo(DEPOSIT.subtract(BigInteger.valueOf(60_000)));
        assertThat(payouts.stats().unpaidSeconds()).isEqualTo(240);
        assertThat(Numeric.toHexString(chain.voucherDigest(d, r, 1, BigInteger.ONE))).startsWith("0x");
    }
}
