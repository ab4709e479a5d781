package io.gpuagent.escrow;

import io.gpuagent.journal.JournalDegradedException;
import io.gpuagent.journal.JournalException;
import io.gpuagent.journal.Journal;
import io.gpuagent.util.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The escrow's durable books: rentals (vouchers held, amounts claimed) and claims (their
 * transactions), kept in a {@link Journal} of their own under {@code <state_dir>/escrow}.
 * The journal already is what this needs (CRC32C records, fdatasync before acknowledging,
 * torn-tail recovery, snapshots that compact); its records are opaque, so escrow reuses it rather
 * than growing a second write-ahead log (docs/payments.md, "Crash guarantees").
 *
 * <p>Every mutator appends the whole new value and commits it (write + fdatasync) before applying
 * it in memory and returning: nothing is acted on (a voucher acknowledged, a transaction
 * broadcast) before it is durable. Mutators and readers synchronize on this store; the journal
 * fsync is inside the lock, which serializes writers (vouchers and the claim worker), a few per
 * second at most.
 *
 * <p>Records are in {@link EscrowRecords}. After {@value #SNAPSHOT_EVERY} records the whole state is
 * written as a snapshot and older segments are deleted.
 */
public final class EscrowStore implements AutoCloseable {
    static final int SNAPSHOT_EVERY = 10_000;
    private static final Logger log = LoggerFactory.getLogger(EscrowStore.class);

    private final Journal journal;
    private final EscrowState state;

    private EscrowStore(Journal journal, EscrowState state) {
        this.journal = journal;
        this.state = state;
    }

    /** Where the store lives: {@code <state_dir>/escrow}. */
    public static Path directory(Path stateDir) {
        return stateDir.resolve("escrow");
    }

    /**
     * Opens (creating if needed) the store in {@code dir}, recovering it: a torn tail is cut,
     * other damage is a {@link io.gpuagent.journal.JournalCorruptException}.
     */
    public static EscrowStore open(Path dir, Clock clock) throws IOException {
        EscrowState state = new EscrowState();
        Journal journal;
        try {
            journal = Journal.open(dir, clock, state::apply);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        EscrowStore store = new EscrowStore(journal, state);
        log.info("escrow store {}: {} rentals, {} claims ({} not settled), event cursor at block {}", dir,
                state.rentals().size(), state.claims().size(),
                state.claims().stream().filter(c -> !c.state().isTerminal()).count(), state.cursor());
        return store;
    }

    /** What the store in {@code dir} holds, read without changing anything (safe while the agent runs). */
    public static View readOnly(Path dir) throws IOException {
        EscrowState s = EscrowState.readOnly(dir);
        return new View(s.rentals(), s.claims().stream().map(ClaimView::of).toList(), s.cursor());
    }

    /** A read-only copy of the books. */
    public record View(List<RentalBook> rentals, List<ClaimView> claims, long cursor) {
    }

    public synchronized void put(RentalBook b) throws JournalException {
        try {
            append(EscrowRecords.RENTAL, b);
        } finally {
            state.put(b); // degraded (disk full): the record is buffered and written in order when space returns
        }
        maybeSnapshot();
    }

    public synchronized void put(Claim c) throws JournalException {
        checkTransition(c);
        try {
            append(EscrowRecords.CLAIM, c);
        } finally {
            state.put(c);
        }
        maybeSnapshot();
    }

    /** Stores a claim and the books of its rentals in one go (both durable when this returns). */
    public synchronized void put(Claim c, List<RentalBook> books) throws JournalException {
        checkTransition(c);
        for (RentalBook b : books) {
            journal.append(EscrowRecords.RENTAL, EscrowRecords.encode(b));
            state.counted();
        }
        try {
            append(EscrowRecords.CLAIM, c); // commits the books with it: one fdatasync
        } finally {
            books.forEach(state::put);
            state.put(c);
        }
        maybeSnapshot();
    }

    public synchronized void cursor(long block) throws JournalException {
        append(EscrowRecords.CURSOR, new EscrowRecords.Cursor(block));
        state.cursor(block);
        maybeSnapshot();
    }

    /**
     * Appends and commits. On a full disk ({@link JournalDegradedException}) the record stays
     * buffered and is written, in order, by a later commit; callers apply it in memory anyway (it
     * will be on disk before anything after it) but must not act on it until {@link #flush()} says
     * everything is durable.
     */
    private void append(int type, Object value) throws JournalException {
        journal.appendDurably(type, EscrowRecords.encode(value));
        state.counted();
    }

    /**
     * Commits anything still buffered (after a full disk).
     *
     * @return true when everything appended is durable
     */
    public synchronized boolean flush() throws JournalException {
        journal.commit();
        return !journal.isDegraded();
    }

    private void checkTransition(Claim c) {
        state.claim(c.id()).ifPresent(old -> {
            if (old.state() != c.state()) {
                ClaimState.check(c.id(), old.state(), c.state());
            }
        });
    }

    private void maybeSnapshot() throws JournalException {
        if (state.recordsSinceSnapshot() >= SNAPSHOT_EVERY && !journal.isDegraded()) {
            compact();
        }
    }

    /** Writes the whole state as a snapshot now, deleting older segments. */
    public synchronized void compact() throws JournalException {
        journal.snapshot(EscrowRecords.encode(state.snapshot()));
        state.snapshotted();
    }

    public synchronized Optional<RentalBook> rental(String id) {
        return state.rental(id);
    }

    public synchronized List<RentalBook> rentals() {
        return state.rentals();
    }

    public synchronized Optional<Claim> claim(String id) {
        return state.claim(id);
    }

    public synchronized List<Claim> claims() {
        return state.claims();
    }

    /** The last block scanned for events, or -1 before the first scan. */
    public synchronized long cursor() {
        return state.cursor();
    }

    public synchronized String nextClaimId() {
        return state.nextClaimId();
    }

    @Override
    public synchronized void close() {
        journal.close();
    }
}
