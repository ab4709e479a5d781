package io.gpuagent.escrow;

import io.gpuagent.journal.JournalDegradedException;
import io.gpuagent.journal.JournalException;
import io.gpuagent.util.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.gpuagent.escrow.VoucherException.Code;

/**
 * {@link Payouts} over ports: the chain and wallet ({@link ChainGateway}), EIP-712 signer recovery
 * ({@link VoucherSignatures}), the handshake signer and the durable store. No library types: the
 * web3j adapter builds one ({@code Web3jPayouts.start}); tests build one over a fake chain.
 *
 * <p>Start order: store opened (recovered), then the claim worker thread; close in reverse.
 * Rental terms read at launch or for a voucher are cached: provider, signer, rate, deposit and
 * duration never change on chain; whether a rental is closed comes from the agent's own books.
 */
public final class EscrowPayouts implements Payouts {
    private static final Logger log = LoggerFactory.getLogger(EscrowPayouts.class);

    private final ChainGateway chain;
    private final VoucherSignatures signatures;
    private final ChallengeSigner signer;
    private final EscrowStore store;
    private final Clock clock;
    private final ClaimWorker worker;
    private final Map<String, RentalTerms> terms = new ConcurrentHashMap<>();
    private final List<ClaimListener> listeners = new CopyOnWriteArrayList<>();
    private volatile StreamGrantRules.Signatures grantSignatures;

    public EscrowPayouts(ChainGateway chain, VoucherSignatures signatures, ChallengeSigner signer, EscrowStore store,
                         ClaimPolicy policy, Clock clock) {
        this.chain = chain;
        this.signatures = signatures;
        this.signer = signer;
        this.store = store;
        this.clock = clock;
        this.worker = new ClaimWorker(store, chain, policy, clock, this::fire);
    }

    /** How grants' signatures are recovered (the same chain and contract as vouchers). */
    public EscrowPayouts grantSignatures(StreamGrantRules.Signatures s) {
        this.grantSignatures = s;
        return this;
    }

    @Override
    public void checkStreamGrant(StreamGrant grant, String kind, String sessionRental) throws StreamGrantException {
        StreamGrantRules.Signatures s = grantSignatures;
        if (s == null) {
            throw new StreamGrantException("grant_invalid", "this agent cannot check grants (no typed-data recovery set)");
        }
        String rental = sessionRental.toLowerCase(java.util.Locale.ROOT);
        RentalTerms t = terms.get(rental);
        if (t == null) {
            try {
                t = fetch(rental);
            } catch (VoucherException e) {
                throw new StreamGrantException("grant_invalid", "cannot read rental " + rental + "'s voucher signer: "
                        + e.getMessage());
            }
        }
        if (!t.exists()) {
            throw new StreamGrantException("grant_invalid", "rental " + rental + " does not exist on the escrow contract");
        }
        StreamGrantRules.check(grant, kind, rental, t.voucherSigner(), payoutAddress(), clock.wallTime().getEpochSecond(), s);
    }

    /** Starts the claim worker thread. */
    public EscrowPayouts start() {
        worker.start();
        return this;
    }

    /** The worker, for tests that step it by hand instead of starting its thread. */
    public ClaimWorker worker() {
        return worker;
    }

    @Override
    public String payoutAddress() {
        return signer.address();
    }

    @Override
    public ChallengeSigner signer() {
        return signer;
    }

    @Override
    public void verifyRental(String rentalId, BigInteger pricePerSecond, long maxDurationSeconds) throws VoucherException {
        if (!Voucher.isRentalId(rentalId)) {
            throw new VoucherException(Code.MALFORMED, "rentalId must be 0x and 64 hex digits, was " + rentalId);
        }
        RentalTerms t = fetch(rentalId.toLowerCase(java.util.Locale.ROOT));
        if (!t.exists()) {
            throw new VoucherException(Code.RENTAL_UNKNOWN, "rental " + rentalId + " does not exist on the escrow contract");
        }
        if (t.closed()) {
            throw new VoucherException(Code.RENTAL_NOT_OPEN, "rental " + rentalId + " is closed");
        }
        if (!t.provider().equalsIgnoreCase(chain.providerAddress())) {
            throw new VoucherException(Code.RENTAL_WRONG_PROVIDER, "rental " + rentalId + " pays " + t.provider()
                    + ", not this agent's wallet " + chain.providerAddress());
        }
        if (t.deposit().signum() <= 0) {
            throw new VoucherException(Code.RENTAL_NO_DEPOSIT, "rental " + rentalId + " holds no deposit");
        }
        if (t.maxRatePerSecond().compareTo(pricePerSecond) < 0) {
            throw new VoucherException(Code.RENTAL_UNDER_PRICE, "rental " + rentalId + " allows at most "
                    + t.maxRatePerSecond() + " per second, below the price of " + pricePerSecond);
        }
        if (maxDurationSeconds > t.maxDurationSeconds()) {
            throw new VoucherException(Code.RENTAL_TOO_SHORT, "rental " + rentalId + " covers at most "
                    + t.maxDurationSeconds() + " s, less than the " + maxDurationSeconds + " s asked");
        }
        if (clock.wallTime().getEpochSecond() >= t.deadline()) {
            throw new VoucherException(Code.RENTAL_EXPIRED, "rental " + rentalId + " passed its deadline "
                    + Instant.ofEpochSecond(t.deadline()));
        }
    }

    private RentalTerms fetch(String rentalId) throws VoucherException {
        try {
            RentalTerms t = chain.rental(rentalId);
            if (t.exists()) {
                terms.put(rentalId, t);
            }
            return t;
        } catch (ChainException e) {
            throw new VoucherException(Code.CHAIN_UNAVAILABLE, "cannot read rental " + rentalId + " from the chain: "
                    + e.getMessage(), e);
        }
    }

    @Override
    public Voucher acceptVoucher(String sessionId, Voucher v) throws VoucherException {
        v.checkWellFormed();
        String rentalId = v.rentalId();
        Optional<RentalBook> ofSession = store.rentals().stream().filter(b -> b.sessionId().equals(sessionId)).findFirst();
        if (ofSession.isPresent() && !ofSession.get().rentalId().equals(rentalId)) {
            throw new VoucherException(Code.WRONG_RENTAL, "session " + sessionId + " is paid by rental "
                    + ofSession.get().rentalId() + ", the voucher is for " + rentalId);
        }
        RentalTerms t = terms.get(rentalId);
        if (t == null) {
            t = fetch(rentalId);
        }
        String recovered = signatures.recoverSigner(v);
        synchronized (this) {
            Optional<RentalBook> book = store.rental(rentalId);
            Voucher held = book.map(RentalBook::highest).orElse(null);
            RentalTerms effective = book.isPresent() && book.get().closed() ? closed(t) : t;
            VoucherRules.Outcome outcome = VoucherRules.check(v, effective, recovered, chain.providerAddress(), held);
            try {
                if (outcome == VoucherRules.Outcome.NEW_HIGHEST) {
                    RentalBook b = book.orElseGet(() -> RentalBook.registered(rentalId, sessionId, clock.wallTime()));
                    store.put(b.withVoucher(v, clock.wallTime()));
                    return v;
                }
                if (!store.flush()) {
                    throw new VoucherException(Code.STORE_UNAVAILABLE, "the escrow store's disk is full; send the voucher again later");
                }
                return held;
            } catch (JournalDegradedException e) {
                throw new VoucherException(Code.STORE_UNAVAILABLE, "the escrow store's disk is full; send the voucher again later", e);
            } catch (JournalException e) {
                throw new EscrowStoreException("store a voucher of session " + sessionId, e);
            }
        }
    }

    private static RentalTerms closed(RentalTerms t) {
        return new RentalTerms(t.rentalId(), t.renter(), t.provider(), t.voucherSigner(), t.deposit(), t.claimed(),
                t.maxRatePerSecond(), t.openedAt(), t.deadline(), t.maxDurationSeconds(), t.feeBps(), true);
    }

    @Override
    public long paidSeconds(String rentalId) {
        return store.rental(rentalId.toLowerCase(java.util.Locale.ROOT)).map(RentalBook::paidSeconds).orElse(0L);
    }

    @Override
    public synchronized void sessionRunning(String sessionId, String rentalId) {
        String id = rentalId.toLowerCase(java.util.Locale.ROOT);
        Optional<RentalBook> b = store.rental(id);
        if (b.isPresent() && b.get().sessionId().equals(sessionId)) {
            return;
        }
        write("register session " + sessionId, b.map(x -> x.withSession(sessionId))
                .orElseGet(() -> RentalBook.registered(id, sessionId, clock.wallTime())));
        log.info("escrow: session {} runs on rental {}; claimed periodically", sessionId, id);
    }

    @Override
    public synchronized void sessionEnded(String sessionId, String rentalId, long billedSeconds) {
        String id = rentalId.toLowerCase(java.util.Locale.ROOT);
        RentalBook b = store.rental(id).orElseGet(() -> RentalBook.registered(id, sessionId, clock.wallTime()));
        if (b.ended() && b.billedSeconds() == billedSeconds) {
            return;
        }
        write("end session " + sessionId, b.withSession(sessionId).withEnded(billedSeconds));
        log.info("escrow: session {} ended after {} s billed, {} s covered by vouchers; final claim of rental {} queued",
                sessionId, billedSeconds, b.paidSeconds(), id);
        worker.wake();
    }

    private void write(String what, RentalBook b) {
        try {
            store.put(b);
        } catch (JournalDegradedException e) {
            log.warn("escrow: {}: the store's disk is full; kept in memory and written when space returns", what);
        } catch (JournalException e) {
            throw new EscrowStoreException(what, e);
        }
    }

    @Override
    public List<ClaimView> claims() {
        return store.claims().stream().map(ClaimView::of).toList();
    }

    @Override
    public EscrowStats stats() {
        BigInteger earned = BigInteger.ZERO;
        BigInteger claimed = BigInteger.ZERO;
        BigInteger pending = BigInteger.ZERO;
        BigInteger lost = BigInteger.ZERO;
        long lag = 0;
        long unpaid = 0;
        Instant now = clock.wallTime();
        List<RentalBook> books = store.rentals();
        for (RentalBook b : books) {
            earned = earned.add(b.earned());
            claimed = claimed.add(b.claimed());
            boolean gaveUp = b.gaveUpAt() != null && b.earned().compareTo(b.gaveUpAt()) <= 0;
            BigInteger open = b.earned().subtract(b.claimed()).max(BigInteger.ZERO);
            if (gaveUp) {
                lost = lost.add(open);
            } else if (!b.closed()) {
                pending = pending.add(open);
            }
            if (b.ended()) {
                unpaid += Math.max(0, b.billedSeconds() - b.paidSeconds());
            } else if (!b.closed()) {
                Instant since = b.highestAt() != null ? b.highestAt() : b.registered();
                lag = Math.max(lag, Duration.between(since, now).toSeconds());
            }
        }
        Map<ClaimState, Long> byState = new EnumMap<>(ClaimState.class);
        for (ClaimState s : ClaimState.values()) {
            byState.put(s, 0L);
        }
        BigInteger gas = BigInteger.ZERO;
        for (Claim c : store.claims()) {
            byState.merge(c.state(), 1L, Long::sum);
            gas = gas.add(c.gasCost());
        }
        return new EscrowStats(earned, claimed, pending, lost, byState, gas, lag, unpaid, books.size(), worker.failures(),
                worker.lastError());
    }

    @Override
    public void addListener(ClaimListener listener) {
        listeners.add(listener);
    }

    private void fire(ClaimView c) {
        for (ClaimListener l : listeners) {
            try {
                l.onClaim(c);
            } catch (RuntimeException e) {
                log.warn("escrow: claim listener {} failed on claim {}", l, c.id(), e);
            }
        }
    }

    @Override
    public void close() {
        worker.close();
        store.close();
        chain.close();
    }
}
