package io.gpuagent.escrow;

import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The claim worker against {@link FakeChain}: each fault states what must hold afterwards. A
 * "crash" is the worker dying mid-step and a new store and worker opened on the same directory, as
 * after kill -9 (the store's durability itself is EscrowStoreTest's; the real kill -9 is ClaimCrashIT's).
 */
class ClaimWorkerTest {
    static final String SIGNER = "0x00000000000000000000000000000000000000cc";
    static final String SIG = "0x" + "11".repeat(64) + "1b";
    static final BigInteger RATE = BigInteger.valueOf(1000);

    @TempDir
    Path dir;
    final ManualClock clock = new ManualClock();
    final FakeChain chain = new FakeChain();
    final List<ClaimView> events = new ArrayList<>();
    EscrowStore store;
    ClaimWorker worker;
    ClaimPolicy policy = policy(10);

    static ClaimPolicy policy(int batchMax) {
        return new ClaimPolicy(Duration.ofHours(1), BigInteger.ZERO, batchMax, Duration.ofSeconds(1),
                BigInteger.valueOf(30).multiply(Fees.GWEI), BigInteger.valueOf(1000).multiply(Fees.GWEI), 1, true,
                Duration.ofSeconds(30));
    }

    @BeforeEach
    void open() throws Exception {
        store = EscrowStore.open(dir, clock);
        worker = new ClaimWorker(store, chain, policy, clock, events::add);
    }

    @AfterEach
    void close() {
        store.close();
    }

    /** kill -9: the worker's memory is gone; a new store and worker recover from the directory. */
    void restart() throws Exception {
        store.close();
        store = EscrowStore.open(dir, clock);
        worker = new ClaimWorker(store, chain, policy, clock, events::add);
    }

    static String rental(int n) {
        return String.format("0x%064x", n);
    }

    RentalBook book(int n, long seconds, boolean ended) throws Exception {
        String id = rental(n);
        if (chain.terms(id) == null) {
            chain.open(id, BigInteger.valueOf(10_000_000), RATE, 86_400, SIGNER);
        }
        RentalBook b = RentalBook.registered(id, "s-" + n, clock.wallTime());
        if (seconds > 0) {
            b = b.withVoucher(new Voucher(id, seconds, RATE.multiply(BigInteger.valueOf(seconds)), SIG), clock.wallTime());
        }
        if (ended) {
            b = b.withEnded(seconds);
        }
        store.put(b);
        return b;
    }

    void elapse(long seconds) {
        chain.chainTime += seconds;
        clock.advance(Duration.ofSeconds(seconds));
    }

    Claim only() {
        assertThat(store.claims()).hasSize(1);
        return store.claims().get(0);
    }

    @Test
    void anEndedSessionIsClaimedWithItsHighestVoucherClosingTheRentalAndFinalInOneStep() throws Exception {
        book(1, 600, true);
        elapse(600);
        worker.runOnce();
        Claim c = only();
        assertThat(c.state()).isEqualTo(ClaimState.FINAL);
        assertThat(c.reason()).isEqualTo("final");
        assertThat(c.items()).singleElement().satisfies(i -> assertThat(i.close()).isTrue());
        assertThat(chain.terms(rental(1)).claimed()).isEqualTo(BigInteger.valueOf(600_000));
        assertThat(chain.terms(rental(1)).closed()).isTrue();
        assertThat(store.rental(rental(1)).orElseThrow().closed()).isTrue();
        assertThat(events).extracting(ClaimView::state).containsExactly(ClaimState.PENDING, ClaimState.SIGNED,
                ClaimState.SENT, ClaimState.MINED, ClaimState.FINAL);
        worker.runOnce();
        assertThat(store.claims()).hasSize(1); // nothing more to claim
    }

    @Test
    void crashBetweenSigningAndSendingResendsTheSameBytesAndExactlyOneClaimLands() throws Exception {
        book(1, 600, true);
        elapse(600);
        chain.crashOnSend = true;
        assertThatThrownBy(worker::runOnce).isInstanceOf(FakeChain.Crash.class);
        SignedTx before = only().tx();
        assertThat(only().state()).isEqualTo(ClaimState.SIGNED);
        restart();
        assertThat(only().state()).isEqualTo(ClaimState.SIGNED);
        worker.runOnce();
        assertThat(only().state()).isEqualTo(ClaimState.FINAL);
        assertThat(only().tx()).isEqualTo(before);
        assertThat(chain.signed).isEqualTo(1);
        assertThat(chain.landed()).isEqualTo(1);
    }

    @Test
    void crashBetweenSendingAndTheReceiptFindsTheReceiptAfterRestart() throws Exception {
        chain.instamine = false;
        book(1, 600, true);
        elapse(600);
        worker.runOnce();
        assertThat(only().state()).isEqualTo(ClaimState.SENT);
        restart();
        chain.mine();
        worker.runOnce();
        assertThat(only().state()).isEqualTo(ClaimState.FINAL);
        assertThat(chain.signed).isEqualTo(1);
        assertThat(chain.broadcasts).isEqualTo(1);
        assertThat(chain.landed()).isEqualTo(1);
    }

    @Test
    void aNonceTakenByAnotherSenderBeforeTheBroadcastReplacesTheClaimAndANewOneLandsOnce() throws Exception {
        book(1, 600, true);
        elapse(600);
        chain.crashOnSend = true;
        assertThatThrownBy(worker::runOnce).isInstanceOf(FakeChain.Crash.class);
        long oldNonce = only().tx().nonce();
        chain.useNonceElsewhere();
        restart();
        worker.runOnce();
        assertThat(store.claims().get(0).state()).isEqualTo(ClaimState.REPLACED);
        worker.runOnce();
        assertThat(store.claims()).hasSize(2);
        Claim second = store.claims().get(1);
        assertThat(second.state()).isEqualTo(ClaimState.FINAL);
        assertThat(second.tx().nonce()).isEqualTo(oldNonce + 1);
        assertThat(chain.landed()).isEqualTo(1);
    }

    @Test
    void aNonceTakenWhileOurTransactionWasLostFromThePoolIsProvenNotMinedThenReplaced() throws Exception {
        chain.instamine = false;
        chain.dropNextSend = true;
        book(1, 600, true);
        elapse(600);
        worker.runOnce();
        assertThat(only().state()).isEqualTo(ClaimState.SENT);
        chain.useNonceElsewhere();
        worker.runOnce();
        assertThat(store.claims().get(0).state()).isEqualTo(ClaimState.REPLACED);
        chain.instamine = true;
        worker.runOnce();
        assertThat(store.claims().get(1).state()).isEqualTo(ClaimState.FINAL);
        assertThat(chain.landed()).isEqualTo(1);
    }

    @Test
    void aTransactionDroppedFromThePoolIsBroadcastAgainWithTheSameBytes() throws Exception {
        chain.instamine = false;
        chain.dropNextSend = true;
        book(1, 600, true);
        elapse(600);
        worker.runOnce();
        assertThat(only().state()).isEqualTo(ClaimState.SENT);
        chain.mine(); // evicted, not mined
        assertThat(chain.pooled()).isZero();
        worker.runOnce(); // unknown to the node: re-broadcast
        assertThat(chain.pooled()).isEqualTo(1);
        assertThat(chain.broadcasts).isEqualTo(2);
        chain.mine();
        worker.runOnce();
        assertThat(only().state()).isEqualTo(ClaimState.FINAL);
        assertThat(chain.signed).isEqualTo(1);
        assertThat(chain.landed()).isEqualTo(1);
    }

    @Test
    void anRpcOutageOfAnyLengthOnlyDelaysWithCappedBackoffAndLosesNothing() throws Exception {
        book(1, 600, true);
        elapse(600);
        chain.down = true;
        Duration longest = Duration.ZERO;
        for (int i = 0; i < 200; i++) {
            Duration d = worker.runOnce();
            assertThat(d).isLessThanOrEqualTo(policy.backoffCap());
            longest = d.compareTo(longest) > 0 ? d : longest;
        }
        assertThat(longest).isGreaterThanOrEqualTo(policy.backoffCap().dividedBy(2));
        assertThat(worker.failures()).isEqualTo(200);
        assertThat(worker.lastError()).contains("connection refused");
        chain.down = false;
        assertThat(worker.runOnce()).isEqualTo(policy.pollInterval());
        assertThat(only().state()).isEqualTo(ClaimState.FINAL);
        assertThat(worker.failures()).isZero();
    }

    @Test
    void anOutageBetweenSigningAndSendingKeepsTheSignedTransactionAndSendsItLater() throws Exception {
        book(1, 600, true);
        elapse(600);
        chain.crashOnSend = false;
        // sign succeeds, then the RPC goes down exactly at the send: simulate by signing on one step
        chain.instamine = false;
        worker.runOnce();
        assertThat(only().state()).isEqualTo(ClaimState.SENT);
        chain.down = true;
        worker.runOnce();
        worker.runOnce();
        assertThat(only().state()).isEqualTo(ClaimState.SENT);
        chain.down = false;
        chain.mine();
        worker.runOnce();
        assertThat(only().state()).isEqualTo(ClaimState.FINAL);
    }

    @Test
    void aRenterWhoRequestsCloseMidSessionIsClaimedAtOnceWithoutClosing() throws Exception {
        book(1, 300, false);
        elapse(300);
        worker.runOnce();
        assertThat(store.claims()).isEmpty(); // not due: claimed hourly
        chain.requestClose(rental(1), 600);
        clock.advance(policy.pollInterval()); // events are polled once per interval
        worker.runOnce();
        Claim c = only();
        assertThat(c.reason()).isEqualTo("close_requested");
        assertThat(c.state()).isEqualTo(ClaimState.FINAL);
        assertThat(c.items().get(0).close()).isFalse();
        assertThat(chain.terms(rental(1)).claimed()).isEqualTo(BigInteger.valueOf(300_000));
        assertThat(store.rental(rental(1)).orElseThrow().closeDeadline()).isEqualTo(chain.terms(rental(1)).deadline());
    }

    /**
     * The event cursor is stored when an event is found or far enough on, not at every poll (one
     * durable write every poll interval before, for a block or two); after a restart the events
     * since the stored cursor are scanned again, and one seen before changes nothing.
     */
    @Test
    void theEventCursorIsStoredWhenItMattersAndARestartRescansHarmlessly() throws Exception {
        book(1, 300, false);
        elapse(300);
        worker.runOnce();
        long first = store.cursor();
        assertThat(first).as("the first scan stores where it began").isGreaterThanOrEqualTo(0);
        for (int i = 0; i < 5; i++) {
            chain.mine();
            clock.advance(policy.pollInterval());
            worker.runOnce();
        }
        assertThat(store.cursor()).as("a few quiet blocks: not stored each poll").isEqualTo(first);
        chain.requestClose(rental(1), 600);
        clock.advance(policy.pollInterval());
        worker.runOnce();
        long atEvent = store.cursor();
        assertThat(atEvent).as("a scan that finds an event stores the cursor").isGreaterThan(first);
        assertThat(only().reason()).isEqualTo("close_requested");
        for (int i = 0; i < ClaimWorker.CURSOR_STORE_EVERY; i++) {
            chain.mine();
        }
        clock.advance(policy.pollInterval());
        worker.runOnce();
        assertThat(store.cursor()).as("far enough on: stored").isGreaterThanOrEqualTo(atEvent + ClaimWorker.CURSOR_STORE_EVERY);
        restart();
        clock.advance(policy.pollInterval());
        worker.runOnce();
        assertThat(store.claims()).as("the rescan finds the old close request and plans nothing new").hasSize(1);
    }

    @Test
    void runningRentalsAreClaimedByIntervalAndAgainOnlyWhenAHigherVoucherArrives() throws Exception {
        book(1, 100, false);
        elapse(100);
        worker.runOnce();
        assertThat(store.claims()).isEmpty();
        elapse(3600);
        worker.runOnce();
        assertThat(only().reason()).isEqualTo("periodic");
        assertThat(only().state()).isEqualTo(ClaimState.FINAL);
        elapse(3600);
        worker.runOnce();
        assertThat(store.claims()).hasSize(1); // nothing new above what is claimed
    }

    @Test
    void aRenterWhoVanishesIsClaimedForWhatTheVouchersCoverAndTheRestIsShownUnpaid() throws Exception {
        book(1, 100, false);
        store.put(store.rental(rental(1)).orElseThrow().withEnded(400));
        elapse(400);
        worker.runOnce();
        assertThat(only().state()).isEqualTo(ClaimState.FINAL);
        assertThat(chain.terms(rental(1)).claimed()).isEqualTo(BigInteger.valueOf(100_000));
        assertThat(chain.terms(rental(1)).closed()).isTrue();
    }

    @Test
    void anEndedSessionWithoutAnyVoucherHasNothingToClaim() throws Exception {
        book(1, 0, true);
        elapse(100);
        worker.runOnce();
        assertThat(store.claims()).isEmpty();
    }

    @Test
    void aRentalPastItsDeadlineIsGivenUpAtItsVoucherWithoutSpendingGas() throws Exception {
        book(1, 600, true);
        elapse(86_400 + 3600 + 1);
        worker.runOnce();
        assertThat(store.claims()).isEmpty();
        RentalBook b = store.rental(rental(1)).orElseThrow();
        assertThat(b.gaveUpAt()).isEqualTo(BigInteger.valueOf(600_000));
        assertThat(b.note()).contains("past the rental's deadline");
        assertThat(chain.signed).isZero();
        worker.runOnce();
        assertThat(chain.signed).isZero();
    }

    @Test
    void aVoucherAheadOfChainTimeWaitsUntilTheChainCatchesUp() throws Exception {
        book(1, 600, true);
        elapse(300);
        worker.runOnce();
        assertThat(store.claims()).isEmpty();
        elapse(300);
        worker.runOnce();
        assertThat(only().state()).isEqualTo(ClaimState.FINAL);
    }

    @Test
    void dueClaimsAreBatchedUpToBatchMax() throws Exception {
        policy = policy(2);
        restart();
        book(1, 100, true);
        book(2, 200, true);
        book(3, 300, true);
        elapse(300);
        worker.runOnce();
        worker.runOnce();
        assertThat(store.claims()).extracting(c -> c.items().size()).containsExactly(2, 1);
        assertThat(store.claims()).allSatisfy(c -> assertThat(c.state()).isEqualTo(ClaimState.FINAL));
        assertThat(chain.landed()).isEqualTo(2);
    }

    @Test
    void alreadyClaimedOnChainIsSkippedWithoutATransaction() throws Exception {
        book(1, 600, false);
        elapse(600);
        elapse(3600);
        // two claims of the same voucher planned (as by books restored from an older copy): the second sees it claimed
        Claim manual = new Claim("c-99", ClaimState.PENDING, "periodic", List.of(ClaimItem.of(store.rental(rental(1)).orElseThrow().highest(), false)),
                null, null, "", clock.wallTime(), clock.wallTime());
        store.put(manual);
        worker.runOnce();
        assertThat(store.claim("c-99").orElseThrow().state()).isEqualTo(ClaimState.FINAL);
        store.put(new Claim("c-100", ClaimState.PENDING, "periodic", manual.items(), null, null, "", clock.wallTime(), clock.wallTime()));
        worker.runOnce();
        assertThat(store.claim("c-100").orElseThrow().state()).isEqualTo(ClaimState.SKIPPED);
        assertThat(chain.landed()).isEqualTo(1);
        assertThat(chain.signed).isEqualTo(1);
    }

    @Test
    void finalityFallsBackToConfirmationsWhenTheNodeLacksTheFinalizedTag() throws Exception {
        policy = new ClaimPolicy(Duration.ofHours(1), BigInteger.ZERO, 10, Duration.ofSeconds(1), BigInteger.ONE,
                BigInteger.TEN.pow(12), 3, true, Duration.ofSeconds(30));
        restart();
        chain.finalizedTag = false;
        book(1, 600, true);
        elapse(600);
        worker.runOnce();
        assertThat(only().state()).isEqualTo(ClaimState.MINED);
        chain.mine();
        worker.runOnce();
        assertThat(only().state()).isEqualTo(ClaimState.MINED);
        chain.mine();
        worker.runOnce();
        assertThat(only().state()).isEqualTo(ClaimState.FINAL);
    }
}
