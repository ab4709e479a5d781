package io.gpuagent.escrow;

import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EscrowStoreTest {
    static final String ID = "0x" + "ab".repeat(32);
    static final Voucher V = new Voucher(ID, 60, BigInteger.valueOf(6000), "0x" + "11".repeat(64) + "1b");

    @TempDir
    Path dir;
    final ManualClock clock = new ManualClock();

    Claim claim(String id, ClaimState s) {
        return new Claim(id, s, "final", List.of(ClaimItem.of(V, true)), null, null, "", clock.wallTime(), clock.wallTime());
    }

    @Test
    void everythingWrittenIsThereAfterReopeningWithTheSameValues() throws Exception {
        SignedTx tx = new SignedTx("0x" + "cd".repeat(32), "0x02f8aa", 7, BigInteger.valueOf(70_000), BigInteger.TEN, BigInteger.ONE);
        RentalBook b = RentalBook.registered(ID, "s-1", clock.wallTime()).withVoucher(V, clock.wallTime()).withEnded(61);
        try (EscrowStore s = EscrowStore.open(dir, clock)) {
            s.put(b);
            s.put(claim("c-1", ClaimState.PENDING));
            s.put(s.claim("c-1").orElseThrow().signed(tx, clock.wallTime()));
            s.cursor(42);
            assertThat(s.nextClaimId()).isEqualTo("c-2");
        }
        try (EscrowStore s = EscrowStore.open(dir, clock)) {
            assertThat(s.rental(ID)).contains(b);
            assertThat(s.claim("c-1").orElseThrow().tx()).isEqualTo(tx);
            assertThat(s.claim("c-1").orElseThrow().state()).isEqualTo(ClaimState.SIGNED);
            assertThat(s.cursor()).isEqualTo(42);
            assertThat(s.nextClaimId()).isEqualTo("c-2");
        }
        EscrowStore.View v = EscrowStore.readOnly(dir);
        assertThat(v.claims()).singleElement().satisfies(c -> {
            assertThat(c.txHash()).isEqualTo(tx.hash());
            assertThat(c.nonce()).isEqualTo(7);
            assertThat(c.amount()).isEqualTo(BigInteger.valueOf(6000));
        });
    }

    @Test
    void aTornTailIsCutAndTheLastAcknowledgedValueSurvives() throws Exception {
        try (EscrowStore s = EscrowStore.open(dir, clock)) {
            s.put(claim("c-1", ClaimState.PENDING));
        }
        Path segment;
        try (Stream<Path> l = Files.list(dir)) {
            segment = l.filter(p -> p.getFileName().toString().endsWith(".wal")).findFirst().orElseThrow();
        }
        long size = Files.size(segment);
        // a record cut by a crash: a length prefix promising more than follows
        Files.write(segment, new byte[] {0, 0, 1, 0, 9, 9, 9}, StandardOpenOption.APPEND);
        assertThat(EscrowStore.readOnly(dir).claims()).hasSize(1); // the read-only view skips it too
        try (EscrowStore s = EscrowStore.open(dir, clock)) {
            assertThat(s.claim("c-1").orElseThrow().state()).isEqualTo(ClaimState.PENDING);
            assertThat(Files.size(segment)).isEqualTo(size);
            s.put(s.claim("c-1").orElseThrow().to(ClaimState.SKIPPED, "test", clock.wallTime()));
        }
        try (EscrowStore s = EscrowStore.open(dir, clock)) {
            assertThat(s.claim("c-1").orElseThrow().state()).isEqualTo(ClaimState.SKIPPED);
        }
    }

    @Test
    void theStoreRefusesAnIllegalTransitionAndKeepsTheOldValue() throws Exception {
        try (EscrowStore s = EscrowStore.open(dir, clock)) {
            s.put(claim("c-1", ClaimState.PENDING));
            assertThatThrownBy(() -> s.put(claim("c-1", ClaimState.FINAL))).isInstanceOf(IllegalClaimTransitionException.class);
            assertThat(s.claim("c-1").orElseThrow().state()).isEqualTo(ClaimState.PENDING);
        }
    }

    @Test
    void compactionKeepsTheStateAndDropsOldSegments() throws Exception {
        try (EscrowStore s = EscrowStore.open(dir, clock)) {
            RentalBook b = RentalBook.registered(ID, "s-1", clock.wallTime());
            for (int i = 1; i <= 50; i++) {
                b = b.withVoucher(new Voucher(ID, i, BigInteger.valueOf(100L * i), V.signature()), clock.wallTime());
                s.put(b);
            }
            s.compact();
        }
        try (EscrowStore s = EscrowStore.open(dir, clock)) {
            assertThat(s.rental(ID).orElseThrow().highest().cumulativeSeconds()).isEqualTo(50);
        }
    }
}
