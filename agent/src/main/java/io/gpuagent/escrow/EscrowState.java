package io.gpuagent.escrow;

import io.gpuagent.journal.DiskJournalFiles;
import io.gpuagent.journal.JournalRecord;
import io.gpuagent.journal.JournalScanner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The escrow's books in memory, rebuilt from the journal records of {@link EscrowRecords}. Not
 * thread-safe: {@link EscrowStore} guards it.
 */
final class EscrowState {
    private final Map<String, RentalBook> rentals = new LinkedHashMap<>();
    private final Map<String, Claim> claims = new LinkedHashMap<>();
    private long cursor = -1;
    private long lastClaimNumber;
    private long recordsSinceSnapshot;

    void apply(JournalRecord r) {
        try {
            switch (r.type()) {
                case 0 -> {
                    EscrowRecords.Snapshot s = EscrowRecords.decode(r.payload(), EscrowRecords.Snapshot.class, r.seq());
                    rentals.clear();
                    claims.clear();
                    s.rentals().forEach(this::put);
                    s.claims().forEach(this::put);
                    cursor = s.cursor();
                    recordsSinceSnapshot = 0;
                    return;
                }
                case EscrowRecords.RENTAL -> put(EscrowRecords.decode(r.payload(), RentalBook.class, r.seq()));
                case EscrowRecords.CLAIM -> put(EscrowRecords.decode(r.payload(), Claim.class, r.seq()));
                case EscrowRecords.CURSOR -> cursor = EscrowRecords.decode(r.payload(), EscrowRecords.Cursor.class, r.seq()).block();
                default -> throw new IOException("escrow record " + r.seq() + " has unknown type " + r.type()
                        + " (written by a newer agent?)");
            }
            recordsSinceSnapshot++;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void put(RentalBook b) {
        rentals.put(b.rentalId(), b);
    }

    void put(Claim c) {
        claims.put(c.id(), c);
        lastClaimNumber = Math.max(lastClaimNumber, Long.parseLong(c.id().substring(2)));
    }

    void cursor(long block) {
        cursor = block;
    }

    void counted() {
        recordsSinceSnapshot++;
    }

    long recordsSinceSnapshot() {
        return recordsSinceSnapshot;
    }

    void snapshotted() {
        recordsSinceSnapshot = 0;
    }

    Optional<RentalBook> rental(String id) {
        return Optional.ofNullable(rentals.get(id));
    }

    List<RentalBook> rentals() {
        return List.copyOf(rentals.values());
    }

    Optional<Claim> claim(String id) {
        return Optional.ofNullable(claims.get(id));
    }

    /** Claims in the order they were planned. */
    List<Claim> claims() {
        List<Claim> l = new ArrayList<>(claims.values());
        l.sort(Comparator.comparingLong(c -> Long.parseLong(c.id().substring(2))));
        return l;
    }

    long cursor() {
        return cursor;
    }

    String nextClaimId() {
        return "c-" + (lastClaimNumber + 1);
    }

    EscrowRecords.Snapshot snapshot() {
        return new EscrowRecords.Snapshot(rentals(), claims(), cursor);
    }

    /**
     * Reads the store in {@code dir} without changing it (safe while the agent runs): what
     * {@code gpu-agent claims} shows. A torn tail is ignored, as recovery would cut it.
     *
     * @throws java.nio.file.NoSuchFileException when there is no store
     * @throws io.gpuagent.journal.JournalCorruptException when it is damaged other than by a torn tail
     */
    static EscrowState readOnly(Path dir) throws IOException {
        EscrowState s = new EscrowState();
        try {
            JournalScanner.scan(DiskJournalFiles.open(dir, false), JournalScanner.Mode.RECOVER, e -> s.apply(e.record()));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return s;
    }
}
