package io.gpuagent.escrow;

import io.gpuagent.journal.JournalDegradedException;
import io.gpuagent.journal.JournalException;
import io.gpuagent.util.Backoff;
import io.gpuagent.util.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one transaction worker of the wallet key: plans claims, signs, sends and follows them to
 * finality, one transaction at a time (so the nonce is always the account's next one), and scans
 * CloseRequested events. Its thread is the only one that moves claims; each step is made durable
 * ({@link EscrowStore}) before it is acted on, so a crash at any point resumes where it was:
 * <ul>
 * <li>PENDING: checked against the chain again, then signed; the signed bytes and hash are durable
 *     before the first broadcast.</li>
 * <li>SIGNED / SENT: the same bytes are (re)broadcast, never re-signed: one nonce, one hash. A node
 *     that forgot the transaction (dropped from its pool, a restarted node) gets it again.</li>
 * <li>When the account's mined nonce passed the claim's and the claim has no receipt, another
 *     transaction used the nonce: the claim is REPLACED (proven not mined) and planned anew with a
 *     fresh nonce. The contract's strictly increasing amount makes a double claim impossible anyway;
 *     this makes it also not waste gas.</li>
 * </ul>
 * RPC failures only delay: the step is retried after a capped, jittered backoff; nothing is dropped.
 * {@link #runOnce()} is one step, for tests that drive the worker without its thread.
 *
 * <p>Why this class is longer than 400 lines: every step of the claim state machine (plan, sign,
 * broadcast, follow, finality, replacement) reads and writes what only this worker's thread owns
 * (the claim in flight and its nonce, the freshly signed set, the backoff, the event cursor), and
 * keeping them in one class keeps that ownership visible; the pure parts already live apart
 * ({@link ClaimPlanner}, {@link ClaimState}, {@link VoucherRules}).
 */
public final class ClaimWorker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClaimWorker.class);
    /** Blocks per eth_getLogs request (public RPCs refuse wide ranges). */
    static final long LOG_RANGE = 2_000;
    /** How far back the first scan looks for CloseRequested events. */
    static final long FIRST_SCAN_LOOKBACK = 10_000;
    /**
     * Blocks scanned past the stored cursor before it is stored again. The cursor was stored (one
     * durable write) at every poll, for a block or two each time; now a restart rescans at most
     * this many blocks, which is harmless: a CloseRequested already seen is recognised by its
     * deadline. A scan that finds an event stores the cursor at once.
     */
    static final long CURSOR_STORE_EVERY = 600;

    private final EscrowStore store;
    private final ChainGateway chain;
    private final ClaimPolicy policy;
    private final ClaimPlanner planner;
    private final Clock clock;
    private final ClaimListener listener;
    private final Backoff backoff;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wakeUp = lock.newCondition();
    private boolean woken;
    private volatile boolean running;
    private Thread thread;

    /** Claims signed by this process whose first broadcast has not been tried: nothing can be mined for them yet. */
    private final Set<String> freshlySigned = new java.util.HashSet<>();
    private int failures;
    private long lastScanNanos = Long.MIN_VALUE;
    /** The last block this process scanned, at or past the stored cursor. */
    private long scanned = -1;
    private boolean warnedNoFinalizedTag;
    private volatile String lastError = "";

    public ClaimWorker(EscrowStore store, ChainGateway chain, ClaimPolicy policy, Clock clock, ClaimListener listener) {
        this.store = store;
        this.chain = chain;
        this.policy = policy;
        this.planner = new ClaimPlanner(policy);
        this.clock = clock;
        this.listener = listener;
        this.backoff = new Backoff(policy.pollInterval(), policy.backoffCap().compareTo(policy.pollInterval()) < 0
                ? policy.pollInterval() : policy.backoffCap());
    }

    /** Starts the worker thread ({@code escrow-claims}). */
    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException("claim worker already started");
        }
        running = true;
        thread = new Thread(this::loop, "escrow-claims");
        thread.setDaemon(true);
        thread.start();
    }

    /** Makes the worker look at its work now instead of at the next poll (a session ended, a voucher came). */
    public void wake() {
        lock.lock();
        try {
            woken = true;
            wakeUp.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void loop() {
        while (running) {
            Duration wait;
            try {
                wait = runOnce();
            } catch (JournalDegradedException e) {
                log.warn("escrow: the claim store's disk is full ({}); claims wait until it is writable", e.getMessage());
                lastError = "store: " + e.getMessage();
                wait = backoff.delay(failures++);
            } catch (JournalException e) {
                lastError = "store: " + e.getMessage();
                // uncaught on this thread: the daemon's handler exits with code 6 and systemd restarts it
                throw new EscrowStoreException("record a claim step", e);
            } catch (RuntimeException e) {
                log.error("escrow: claim worker step failed; retried after backoff", e);
                lastError = e.toString();
                wait = backoff.delay(failures++);
            }
            lock.lock();
            try {
                if (!woken && running) {
                    wakeUp.await(wait.toNanos(), TimeUnit.NANOSECONDS);
                }
                woken = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * One step: scans events when due, then moves the unsettled claim as far as it goes, or plans
     * the next one. RPC failures are caught and counted.
     *
     * @return how long to wait before the next step: the poll interval, or a backoff after a failure
     * @throws JournalException when the store cannot be written (fatal for escrow)
     */
    public Duration runOnce() throws JournalException {
        try {
            if (!store.flush()) {
                lastError = "the escrow store's disk is full; claims wait for space";
                return backoff.delay(failures++);
            }
            scanEventsIfDue();
            Optional<Claim> open = unsettled();
            if (open.isEmpty()) {
                open = plan();
            }
            if (open.isPresent()) {
                advance(open.get());
            }
            if (failures > 0) {
                log.info("escrow: the chain RPC answers again after {} failed attempts", failures);
            }
            failures = 0;
            lastError = "";
            return policy.pollInterval();
        } catch (ChainException e) {
            Duration d = backoff.delay(failures);
            if (failures == 0 || failures % 10 == 0) {
                log.warn("escrow: chain RPC failed ({}); claims wait, nothing is dropped; retry in {} ms (attempt {})",
                        e.getMessage(), d.toMillis(), failures + 1);
            }
            failures++;
            lastError = e.getMessage();
            return d;
        }
    }

    /** Consecutive failed steps (0 while the RPC answers). */
    public int failures() {
        return failures;
    }

    /** The last RPC or store error, or "" when the last step succeeded. */
    public String lastError() {
        return lastError;
    }

    private Optional<Claim> unsettled() {
        return store.claims().stream().filter(c -> !c.state().isTerminal()).findFirst();
    }

    // ------------------------------------------------------------------ events

    private void scanEventsIfDue() throws ChainException, JournalException {
        long now = clock.monotonicNanos();
        if (lastScanNanos != Long.MIN_VALUE && now - lastScanNanos < policy.pollInterval().toNanos()) {
            return;
        }
        long latest = chain.latestBlock();
        long cursor = Math.max(store.cursor(), scanned);
        long from = cursor < 0 ? Math.max(0, latest - FIRST_SCAN_LOOKBACK) : cursor + 1;
        while (from <= latest) {
            long to = Math.min(latest, from + LOG_RANGE - 1);
            boolean found = false;
            for (CloseRequest e : chain.closeRequests(from, to)) {
                found = true;
                Optional<RentalBook> b = store.rental(e.rentalId());
                if (b.isPresent() && !b.get().closed() && b.get().closeDeadline() != e.deadline()) {
                    log.info("escrow: renter requested close of rental {} (session {}) in block {}; claiming before the"
                            + " deadline {}", e.rentalId(), b.get().sessionId(), e.blockNumber(), Instant.ofEpochSecond(e.deadline()));
                    store.put(b.get().withCloseDeadline(e.deadline()));
                }
            }
            scanned = to;
            if (found || store.cursor() < 0 || to - store.cursor() >= CURSOR_STORE_EVERY) {
                store.cursor(to);
            }
            from = to + 1;
        }
        lastScanNanos = now;
    }

    // ------------------------------------------------------------------ planning

    private Optional<Claim> plan() throws ChainException, JournalException {
        Instant now = clock.wallTime();
        List<ClaimPlanner.Candidate> due = planner.due(store.rentals(), store.claims(), now);
        if (due.isEmpty()) {
            return Optional.empty();
        }
        long chainTime = chain.chainTime();
        List<ClaimItem> items = new ArrayList<>();
        List<RentalBook> books = new ArrayList<>();
        Set<String> reasons = new LinkedHashSet<>();
        for (ClaimPlanner.Candidate c : due) {
            if (items.size() == policy.batchMax()) {
                break;
            }
            RentalTerms terms = chain.rental(c.item().rentalId());
            ClaimPlanner.Check check = ClaimPlanner.check(c.item(), terms, chain.providerAddress(), chainTime);
            RentalBook b = c.book().withChain(terms.claimed(), terms.closed() && terms.exists(), c.book().note());
            switch (check.verdict()) {
                case OK -> {
                    items.add(c.item());
                    books.add(b);
                    reasons.add(c.reason());
                }
                case DONE -> store.put(b.withChain(terms.claimed(), terms.closed(), check.why()));
                case POSTPONE -> log.debug("escrow: rental {} not claimable yet: {}", c.item().rentalId(), check.why());
                case LOST -> {
                    log.warn("escrow: rental {} (session {}) cannot be claimed: {}", c.item().rentalId(), c.book().sessionId(), check.why());
                    store.put(b.gaveUp(c.item().cumulativeAmount(), check.why()));
                }
                default -> throw new IllegalStateException("unknown verdict " + check.verdict());
            }
        }
        if (items.isEmpty()) {
            return Optional.empty();
        }
        Claim claim = new Claim(store.nextClaimId(), ClaimState.PENDING, String.join("+", reasons), items, null, null, "", now, now);
        store.put(claim, books);
        log.info("escrow: claim {} planned ({}): {} rental(s), {}", claim.id(), claim.reason(), items.size(), describe(items));
        notifyListener(claim);
        return Optional.of(claim);
    }

    // ------------------------------------------------------------------ the claim's life

    private void advance(Claim c) throws ChainException, JournalException {
        Claim cur = c;
        for (int steps = 0; steps < 4 && !cur.state().isTerminal(); steps++) {
            Claim next = switch (cur.state()) {
                case PENDING -> sign(cur);
                case SIGNED -> broadcast(cur);
                case SENT -> follow(cur);
                case MINED -> finish(cur);
                default -> cur;
            };
            if (next == cur || next.state() == cur.state()) {
                return; // waiting on the chain
            }
            cur = next;
        }
    }

    private Claim sign(Claim c) throws ChainException, JournalException {
        long chainTime = chain.chainTime();
        for (ClaimItem item : c.items()) {
            RentalTerms terms = chain.rental(item.rentalId());
            ClaimPlanner.Check check = ClaimPlanner.check(item, terms, chain.providerAddress(), chainTime);
            if (check.verdict() != ClaimPlanner.Verdict.OK) {
                // the chain moved since planning (or since before a restart): drop this claim, plan again
                ClaimState to = check.verdict() == ClaimPlanner.Verdict.LOST ? ClaimState.FAILED : ClaimState.SKIPPED;
                if (check.verdict() == ClaimPlanner.Verdict.LOST) {
                    book(item.rentalId(), b -> b.gaveUp(item.cumulativeAmount(), check.why()));
                } else if (check.verdict() == ClaimPlanner.Verdict.DONE) {
                    book(item.rentalId(), b -> b.withChain(terms.claimed(), terms.closed(), check.why()));
                }
                return transition(c, to, "rental " + item.rentalId() + ": " + check.why());
            }
        }
        BigInteger gas;
        try {
            gas = chain.estimateClaimGas(c.items());
        } catch (ClaimRevertException e) {
            if ("SecondsInFuture".equals(e.error())) {
                return c; // the chain's clock has not caught up with the voucher yet: wait
            }
            for (ClaimItem item : c.items()) {
                book(item.rentalId(), b -> b.gaveUp(item.cumulativeAmount(), "the contract refuses the claim: " + e.getMessage()));
            }
            log.error("escrow: claim {} would revert ({}); not sent, rentals given up at these vouchers", c.id(), e.getMessage());
            return transition(c, ClaimState.FAILED, "would revert: " + e.getMessage());
        }
        Fees fees = Fees.compute(chain.fees(), policy.tipFloor(), policy.maxFeeCap());
        long nonce = chain.nonce(true);
        SignedTx tx = chain.signClaim(c.items(), nonce, ClaimPolicy.gasLimit(gas), fees);
        Claim signed = c.signed(tx, clock.wallTime());
        store.put(signed); // durable before the first broadcast
        freshlySigned.add(signed.id());
        log.info("escrow: claim {} signed: tx {} nonce {} gas limit {} max fee {} tip {} wei", c.id(), tx.hash(), nonce,
                tx.gasLimit(), tx.maxFeePerGas(), tx.maxPriorityFeePerGas());
        notifyListener(signed);
        return signed;
    }

    private Claim broadcast(Claim c) throws ChainException, JournalException {
        if (!freshlySigned.remove(c.id())) {
            // signed before a restart, or a send that failed: it may be mined already. Never re-send a mined
            // transaction (ganache 7.9.2 even executes such a re-send again, and it reverts)
            Optional<TxReceipt> receipt = chain.receipt(c.tx().hash());
            if (receipt.isPresent()) {
                return transition(c, ClaimState.SENT, "found mined after a restart");
            }
        }
        SendResult r = chain.send(c.tx().raw());
        switch (r) {
            case ACCEPTED, ALREADY_KNOWN -> {
                return transition(c, ClaimState.SENT, "");
            }
            case NONCE_TOO_LOW -> {
                Optional<TxReceipt> receipt = chain.receipt(c.tx().hash());
                if (receipt.isPresent()) {
                    return transition(c, ClaimState.SENT, ""); // ours: sent before a crash; follow() takes the receipt
                }
                return replaced(c, "nonce " + c.tx().nonce() + " was used by another transaction before this one was broadcast");
            }
            case REPLACEMENT_UNDERPRICED -> {
                return note(c, "another transaction with nonce " + c.tx().nonce() + " is pending; waiting for it");
            }
            default -> {
                return note(c, "the node refused the transaction (funds for gas? fee cap below the base fee?); retrying");
            }
        }
    }

    private Claim follow(Claim c) throws ChainException, JournalException {
        long minedNonce = chain.nonce(false); // before the receipt: a receipt missing after this read is missing at this nonce
        Optional<TxReceipt> receipt = chain.receipt(c.tx().hash());
        if (receipt.isPresent()) {
            return mined(c, receipt.get());
        }
        if (minedNonce > c.tx().nonce()) {
            return replaced(c, "nonce " + c.tx().nonce() + " was used by another transaction; this one is not mined");
        }
        if (!chain.known(c.tx().hash()) && chain.receipt(c.tx().hash()).isEmpty()) {
            log.warn("escrow: claim {} tx {} is unknown to the node (dropped from its pool?): broadcasting the same bytes again",
                    c.id(), c.tx().hash());
            SendResult r = chain.send(c.tx().raw());
            if (r == SendResult.REJECTED) {
                return note(c, "re-broadcast refused by the node; retrying");
            }
        }
        return c;
    }

    private Claim mined(Claim c, TxReceipt r) throws JournalException {
        Instant now = clock.wallTime();
        Claim next = c.mined(r, now);
        List<RentalBook> books = new ArrayList<>();
        for (ClaimItem item : c.items()) {
            store.rental(item.rentalId()).ifPresent(b -> books.add(r.success()
                    ? b.withChain(item.cumulativeAmount(), item.close(), "claimed " + item.cumulativeAmount() + " in " + c.id())
                    .claimPlanned(now)
                    : b.gaveUp(item.cumulativeAmount(), "claim " + c.id() + " reverted in block " + r.blockNumber())));
        }
        store.put(next, books);
        if (r.success()) {
            log.info("escrow: claim {} mined in block {} (tx {}, gas {} at {} wei)", c.id(), r.blockNumber(), r.txHash(),
                    r.gasUsed(), r.effectiveGasPrice());
        } else {
            log.error("escrow: claim {} reverted in block {} (tx {}); its rentals wait for a higher voucher", c.id(),
                    r.blockNumber(), r.txHash());
        }
        notifyListener(next);
        return next;
    }

    private Claim finish(Claim c) throws ChainException, JournalException {
        Optional<TxReceipt> now = chain.receipt(c.tx().hash());
        if (now.isEmpty() || !now.get().blockHash().equals(c.receipt().blockHash())) {
            log.warn("escrow: claim {} lost its receipt in block {} (reorg); following it again", c.id(), c.receipt().blockNumber());
            Claim back = c.unmined("reorg: the receipt in block " + c.receipt().blockNumber() + " went away", clock.wallTime());
            store.put(back);
            notifyListener(back);
            return back;
        }
        long block = c.receipt().blockNumber();
        boolean isFinal;
        OptionalLong finalized = policy.useFinalizedTag() ? chain.finalizedBlock() : OptionalLong.empty();
        if (finalized.isPresent()) {
            isFinal = finalized.getAsLong() >= block;
        } else {
            if (policy.useFinalizedTag() && !warnedNoFinalizedTag) {
                warnedNoFinalizedTag = true;
                log.warn("escrow: the node does not know the \"finalized\" block tag; counting {} confirmations instead",
                        policy.confirmations());
            }
            isFinal = chain.latestBlock() - block + 1 >= policy.confirmations();
        }
        return isFinal ? transition(c, ClaimState.FINAL, "") : c;
    }

    // ------------------------------------------------------------------ helpers

    private Claim replaced(Claim c, String why) throws JournalException {
        log.warn("escrow: claim {} replaced: {}; its rentals are claimed again with a new nonce", c.id(), why);
        return transition(c, ClaimState.REPLACED, why);
    }

    private Claim transition(Claim c, ClaimState to, String detail) throws JournalException {
        Claim next = c.to(to, detail, clock.wallTime());
        store.put(next);
        log.info("escrow: claim {} {} -> {}{}", c.id(), c.state(), to, detail.isEmpty() ? "" : " (" + detail + ")");
        notifyListener(next);
        return next;
    }

    private Claim note(Claim c, String detail) throws JournalException {
        if (!detail.equals(c.detail())) {
            Claim next = c.noting(detail, clock.wallTime());
            store.put(next);
            log.warn("escrow: claim {}: {}", c.id(), detail);
            notifyListener(next);
            return next;
        }
        return c;
    }

    private void book(String rentalId, java.util.function.UnaryOperator<RentalBook> change) throws JournalException {
        Optional<RentalBook> b = store.rental(rentalId);
        if (b.isPresent()) {
            store.put(change.apply(b.get()));
        }
    }

    private void notifyListener(Claim c) {
        try {
            listener.onClaim(ClaimView.of(c));
        } catch (RuntimeException e) {
            log.warn("escrow: claim listener failed on {}", c.id(), e);
        }
    }

    private static String describe(List<ClaimItem> items) {
        StringBuilder sb = new StringBuilder();
        for (ClaimItem i : items) {
            sb.append(sb.length() == 0 ? "" : ", ").append(i.rentalId(), 0, 10).append("… up to ").append(i.cumulativeAmount())
                    .append(" for ").append(i.cumulativeSeconds()).append(" s").append(i.close() ? " (close)" : "");
        }
        return sb.toString();
    }

    /** Stops the thread; a claim in flight stays persisted and is resumed at the next start. */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            running = false;
            t = thread;
        }
        wake();
        if (t != null) {
            try {
                t.join(10_000);
                if (t.isAlive()) {
                    log.warn("escrow: claim worker did not stop within 10 s (an RPC call in progress); leaving it");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
