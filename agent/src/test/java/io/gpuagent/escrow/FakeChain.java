package io.gpuagent.escrow;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A chain with the escrow contract's claim rules, a transaction pool and one account's nonce, in
 * memory, with knobs: the RPC down, automatic mining off, a send that the node accepts and then
 * evicts from its pool at the next block without mining it, a nonce used by another sender, a crash before a send. Signatures
 * are not checked here (the IT checks them on a real contract).
 */
public final class FakeChain implements ChainGateway {
    public static final String PROVIDER = "0x00000000000000000000000000000000000000aa";

    /** Thrown by {@link #send} when {@link #crashOnSend} is set: the "process" dies before the broadcast. */
    public static final class Crash extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Crash() {
            super("simulated crash before eth_sendRawTransaction");
        }
    }

    record Tx(String hash, String raw, long nonce, List<ClaimItem> items) {
    }

    private final Map<String, RentalTerms> rentals = new LinkedHashMap<>();
    private final Map<String, Tx> signedByRaw = new HashMap<>();
    private final List<Tx> pool = new ArrayList<>();
    private final Map<String, TxReceipt> receipts = new LinkedHashMap<>();
    private final List<CloseRequest> events = new ArrayList<>();
    private final List<Tx> evictAtNextBlock = new ArrayList<>();

    public boolean down;
    public boolean instamine = true;
    public boolean dropNextSend;
    public boolean crashOnSend;
    public boolean finalizedTag = true;
    public long chainTime = 1_000_000;
    public long block = 1;
    public long minedNonce;
    public int broadcasts;
    public int signed;
    private long txCounter;

    public synchronized RentalTerms open(String rentalId, BigInteger deposit, BigInteger rate, long maxDuration, String signer) {
        RentalTerms t = new RentalTerms(rentalId, "0x00000000000000000000000000000000000000bb", PROVIDER, signer, deposit,
                BigInteger.ZERO, rate, chainTime, chainTime + maxDuration + 3600, maxDuration, 1000, false);
        rentals.put(rentalId, t);
        return t;
    }

    public synchronized RentalTerms terms(String rentalId) {
        return rentals.get(rentalId);
    }

    /** The renter's requestClose: the deadline becomes at most now + window; a CloseRequested event. */
    public synchronized void requestClose(String rentalId, long window) {
        RentalTerms t = rentals.get(rentalId);
        long deadline = Math.min(t.deadline(), chainTime + window);
        rentals.put(rentalId, with(t, t.claimed(), false, deadline));
        block++;
        events.add(new CloseRequest(rentalId, deadline, block));
    }

    /** Another transaction of the same key (sent outside the agent) is mined with the next nonce. */
    public synchronized void useNonceElsewhere() {
        block++;
        minedNonce++;
        pool.removeIf(t -> t.nonce() < minedNonce);
    }

    /** Mines every pending transaction whose nonce is next, in order. */
    public synchronized void mine() {
        block++;
        pool.removeAll(evictAtNextBlock);
        evictAtNextBlock.clear();
        boolean progress = true;
        while (progress) {
            progress = false;
            for (Tx t : List.copyOf(pool)) {
                if (t.nonce() == minedNonce) {
                    pool.remove(t);
                    String err = execute(t.items(), true);
                    receipts.put(t.hash(), new TxReceipt(t.hash(), block, "0xblock" + block, err == null,
                            BigInteger.valueOf(55_000), BigInteger.valueOf(30_000_000_000L)));
                    minedNonce++;
                    progress = true;
                }
            }
        }
    }

    public synchronized int landed() {
        return (int) receipts.values().stream().filter(TxReceipt::success).count();
    }

    public synchronized int pooled() {
        return pool.size();
    }

    private String execute(List<ClaimItem> items, boolean apply) {
        Map<String, RentalTerms> next = new HashMap<>();
        for (ClaimItem i : items) {
            RentalTerms r = next.getOrDefault(i.rentalId(), rentals.get(i.rentalId()));
            if (r == null) {
                return "UnknownRental";
            }
            if (!r.provider().equals(PROVIDER)) {
                return "NotProvider";
            }
            if (r.closed()) {
                return "RentalClosedAlready";
            }
            if (chainTime > r.deadline()) {
                return "PastDeadline";
            }
            int cmp = i.cumulativeAmount().compareTo(r.claimed());
            if (cmp < 0 || (cmp == 0 && !i.close())) {
                return "AmountNotIncreasing";
            }
            if (i.cumulativeAmount().compareTo(r.deposit()) > 0) {
                return "OverDeposit";
            }
            if (i.cumulativeSeconds() > r.maxDurationSeconds()) {
                return "OverDuration";
            }
            if (i.cumulativeSeconds() > chainTime - r.openedAt()) {
                return "SecondsInFuture";
            }
            if (i.cumulativeAmount().compareTo(r.maxRatePerSecond().multiply(BigInteger.valueOf(i.cumulativeSeconds()))) > 0) {
                return "OverRate";
            }
            next.put(i.rentalId(), with(r, i.cumulativeAmount(), i.close(), r.deadline()));
        }
        if (apply) {
            rentals.putAll(next);
        }
        return null;
    }

    private static RentalTerms with(RentalTerms t, BigInteger claimed, boolean close, long deadline) {
        return new RentalTerms(t.rentalId(), t.renter(), t.provider(), t.voucherSigner(), t.deposit(), claimed,
                t.maxRatePerSecond(), t.openedAt(), deadline, t.maxDurationSeconds(), t.feeBps(), t.closed() || close);
    }

    private void up() throws ChainException {
        if (down) {
            throw new ChainException("connection refused (fake RPC down)");
        }
    }

    @Override
    public String providerAddress() {
        return PROVIDER;
    }

    @Override
    public synchronized RentalTerms rental(String rentalId) throws ChainException {
        up();
        RentalTerms t = rentals.get(rentalId);
        return t != null ? t : new RentalTerms(rentalId, RentalTerms.ZERO_ADDRESS, RentalTerms.ZERO_ADDRESS,
                RentalTerms.ZERO_ADDRESS, BigInteger.ZERO, BigInteger.ZERO, BigInteger.ZERO, 0, 0, 0, 0, false);
    }

    @Override
    public synchronized long latestBlock() throws ChainException {
        up();
        return block;
    }

    @Override
    public synchronized long chainTime() throws ChainException {
        up();
        return chainTime;
    }

    @Override
    public synchronized OptionalLong finalizedBlock() throws ChainException {
        up();
        return finalizedTag ? OptionalLong.of(block) : OptionalLong.empty();
    }

    @Override
    public synchronized FeeQuote fees() throws ChainException {
        up();
        return new FeeQuote(BigInteger.valueOf(10_000_000_000L), BigInteger.valueOf(1_000_000_000L));
    }

    @Override
    public synchronized long nonce(boolean pending) throws ChainException {
        up();
        long n = minedNonce;
        if (pending) {
            for (Tx t : pool) {
                n = Math.max(n, t.nonce() + 1);
            }
        }
        return n;
    }

    @Override
    public synchronized BigInteger estimateClaimGas(List<ClaimItem> items) throws ChainException, ClaimRevertException {
        up();
        String err = execute(items, false);
        if (err != null) {
            throw new ClaimRevertException(err, err + ": execution reverted");
        }
        return BigInteger.valueOf(50_000L * items.size());
    }

    @Override
    public synchronized SignedTx signClaim(List<ClaimItem> items, long nonce, BigInteger gasLimit, Fees fees) {
        signed++;
        txCounter++;
        String hash = String.format("0x%064x", txCounter);
        String raw = "0x02" + String.format("%062x", txCounter);
        signedByRaw.put(raw, new Tx(hash, raw, nonce, List.copyOf(items)));
        return new SignedTx(hash, raw, nonce, gasLimit, fees.maxFeePerGas(), fees.maxPriorityFeePerGas());
    }

    @Override
    public synchronized SendResult send(String rawTx) throws ChainException {
        if (crashOnSend) {
            crashOnSend = false;
            throw new Crash();
        }
        up();
        Tx t = signedByRaw.get(rawTx);
        if (receipts.containsKey(t.hash()) || pool.contains(t)) {
            return SendResult.ALREADY_KNOWN;
        }
        if (t.nonce() < minedNonce) {
            return SendResult.NONCE_TOO_LOW;
        }
        if (pool.stream().anyMatch(p -> p.nonce() == t.nonce())) {
            return SendResult.REPLACEMENT_UNDERPRICED;
        }
        broadcasts++;
        pool.add(t);
        if (dropNextSend) {
            dropNextSend = false;
            evictAtNextBlock.add(t); // accepted, then evicted from the pool without being mined
        }
        if (instamine) {
            mine();
        }
        return SendResult.ACCEPTED;
    }

    @Override
    public synchronized Optional<TxReceipt> receipt(String txHash) throws ChainException {
        up();
        return Optional.ofNullable(receipts.get(txHash));
    }

    @Override
    public synchronized boolean known(String txHash) throws ChainException {
        up();
        return receipts.containsKey(txHash) || pool.stream().anyMatch(t -> t.hash().equals(txHash));
    }

    @Override
    public synchronized List<CloseRequest> closeRequests(long from, long to) throws ChainException {
        up();
        return events.stream().filter(e -> e.blockNumber() >= from && e.blockNumber() <= to).toList();
    }
}
