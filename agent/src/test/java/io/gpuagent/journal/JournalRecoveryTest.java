package io.gpuagent.journal;

import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import static io.gpuagent.journal.JournalContract.seqs;
import static io.gpuagent.journal.JournalContract.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Recovery on real files: a torn tail is cut, any other damage is an error naming file and offset. */
class JournalRecoveryTest {
    private static final JournalOptions SMALL = JournalOptions.DEFAULTS.withSegmentBytes(200);
    private final ManualClock clock = new ManualClock();

    @TempDir
    Path tmp;

    private Path dir() {
        return tmp.resolve("journal");
    }

    /** Writes records 1..count, one commit each, and closes. */
    private void write(Path dir, JournalOptions options, int count) throws IOException {
        try (Journal j = Journal.open(DiskJournalFiles.open(dir, true), options, clock, r -> { })) {
            for (int i = 1; i <= count; i++) {
                j.appendDurably(1, utf8("record " + i));
            }
        }
    }

    private List<JournalRecord> replay(Path dir, JournalOptions options) throws IOException {
        List<JournalRecord> out = new ArrayList<>();
        Journal.open(DiskJournalFiles.open(dir, true), options, clock, out::add).close();
        return out;
    }

    private List<JournalEntry> entries(Path dir) throws IOException {
        List<JournalEntry> out = new ArrayList<>();
        JournalScanner.scan(DiskJournalFiles.open(dir, false), JournalScanner.Mode.ALL, out::add);
        return out;
    }

    private static Path segment(Path dir, long firstSeq) {
        return dir.resolve(JournalFormat.segmentName(firstSeq));
    }

    private static void flipBit(Path file, long offset) throws IOException {
        byte[] b = Files.readAllBytes(file);
        b[(int) offset] ^= 0x10;
        Files.write(file, b);
    }

    private static List<Long> oneTo(long n) {
        return LongStream.rangeClosed(1, n).boxed().toList();
    }

    @Test
    void aTornLastRecordIsCutAtEveryPossibleLengthAndAppendingContinues() throws Exception {
        write(dir(), JournalOptions.DEFAULTS, 4);
        Path seg = segment(dir(), 1);
        byte[] whole = Files.readAllBytes(seg);
        JournalEntry last = entries(dir()).get(3);
        int end3 = (int) last.offset();
        int lastLength = JournalFormat.RECORD_PREFIX + last.length();
        assertThat(end3 + lastLength).isEqualTo(whole.length);
        for (int i = 0; i < lastLength; i++) {
            int cut = i;
            Path d = tmp.resolve("cut-" + cut);
            Files.createDirectories(d);
            Files.write(d.resolve(seg.getFileName()), Arrays.copyOf(whole, end3 + cut));
            List<JournalRecord> replayed = new ArrayList<>();
            try (Journal j = Journal.open(DiskJournalFiles.open(d, false), JournalOptions.DEFAULTS, clock, replayed::add)) {
                assertThat(seqs(replayed)).as("cut %d", cut).containsExactly(1L, 2L, 3L);
                if (cut == 0) {
                    assertThat(j.recovery().tornTail()).isEmpty();
                } else {
                    assertThat(j.recovery().tornTail()).as("cut %d", cut).hasValueSatisfying(t -> {
                        assertThat(t.offset()).isEqualTo(end3);
                        assertThat(t.bytes()).isEqualTo(cut);
                    });
                }
                assertThat(Files.size(d.resolve(seg.getFileName()))).as("cut %d truncated", cut).isEqualTo(end3);
                assertThat(j.appendDurably(2, utf8("after the crash"))).isEqualTo(4);
            }
            List<JournalRecord> again = replay(d, JournalOptions.DEFAULTS);
            assertThat(seqs(again)).containsExactly(1L, 2L, 3L, 4L);
            assertThat(again.get(3)).isEqualTo(new JournalRecord(4, 2, utf8("after the crash")));
        }
    }

    @Test
    void aLastRecordWithABadCrcOrATailOfZerosIsATornTail() throws Exception {
        write(dir(), JournalOptions.DEFAULTS, 3);
        Path seg = segment(dir(), 1);
        long size = Files.size(seg);
        flipBit(seg, size - 1);
        assertThat(seqs(replay(dir(), JournalOptions.DEFAULTS))).containsExactly(1L, 2L);

        Path zeros = tmp.resolve("zeros");
        write(zeros, JournalOptions.DEFAULTS, 2);
        Path z = segment(zeros, 1);
        long good = Files.size(z);
        Files.write(z, new byte[4096], java.nio.file.StandardOpenOption.APPEND);
        assertThat(seqs(replay(zeros, JournalOptions.DEFAULTS))).containsExactly(1L, 2L);
        assertThat(Files.size(z)).isEqualTo(good);
    }

    @Test
    void aFlippedBitInASegmentThatIsNotTheLastIsCorruptionNamingFileAndOffset() throws Exception {
        write(dir(), SMALL, 20);
        JournalEntry victim = entries(dir()).get(1); // second record of the first segment
        assertThat(victim.segment()).isEqualTo("journal-00000000000000000001.wal");
        Path seg = segment(dir(), 1);
        byte[] before = Files.readAllBytes(seg);
        flipBit(seg, victim.offset() + JournalFormat.RECORD_PREFIX + 9 + 2); // in the payload
        assertThatThrownBy(() -> replay(dir(), SMALL)).isInstanceOfSatisfying(JournalCorruptException.class, e -> {
            assertThat(e.file()).isEqualTo(seg.toString());
            assertThat(e.offset()).isEqualTo(victim.offset());
            assertThat(e.problem()).contains("CRC32C mismatch").contains("not the last");
            assertThat(e.getMessage()).contains(seg.toString()).contains("byte offset " + victim.offset())
                    .contains("gpu-agent journal dump --dir " + dir());
        });
        // a failed open changes nothing on disk
        byte[] flipped = before.clone();
        flipped[(int) (victim.offset() + JournalFormat.RECORD_PREFIX + 11)] ^= 0x10;
        assertThat(Files.readAllBytes(seg)).isEqualTo(flipped);
    }

    @Test
    void aFlippedBitBeforeTheLastRecordOfTheLastSegmentIsCorruptionNotATornTail() throws Exception {
        write(dir(), JournalOptions.DEFAULTS, 4);
        JournalEntry victim = entries(dir()).get(1);
        flipBit(segment(dir(), 1), victim.offset() + JournalFormat.RECORD_PREFIX + 1); // in the sequence field
        assertThatThrownBy(() -> replay(dir(), JournalOptions.DEFAULTS)).isInstanceOfSatisfying(JournalCorruptException.class, e -> {
            assertThat(e.offset()).isEqualTo(victim.offset());
            assertThat(e.problem()).contains("CRC32C mismatch").contains("intact record (seq 3)");
        });
    }

    @Test
    void aDamagedLengthFieldInTheMiddleOfTheLastSegmentIsCorruptionNotATornTail() throws Exception {
        write(dir(), JournalOptions.DEFAULTS, 4);
        JournalEntry victim = entries(dir()).get(1);
        flipBit(segment(dir(), 1), victim.offset() + 1); // length becomes ~1 MiB: "runs past the end"
        assertThatThrownBy(() -> replay(dir(), JournalOptions.DEFAULTS)).isInstanceOfSatisfying(JournalCorruptException.class, e -> {
            assertThat(e.offset()).isEqualTo(victim.offset());
            assertThat(e.problem()).contains("incomplete record").contains("intact record (seq 3)");
        });
    }

    @Test
    void headerDamageIsCorruption() throws Exception {
        write(dir(), JournalOptions.DEFAULTS, 2);
        Path seg = segment(dir(), 1);
        byte[] good = Files.readAllBytes(seg);

        flipBit(seg, 0);
        assertThatThrownBy(() -> replay(dir(), JournalOptions.DEFAULTS)).isInstanceOfSatisfying(JournalCorruptException.class,
                e -> assertThat(e.problem()).contains("bad magic"));

        Files.write(seg, good);
        flipBit(seg, 19); // first sequence
        assertThatThrownBy(() -> replay(dir(), JournalOptions.DEFAULTS)).isInstanceOfSatisfying(JournalCorruptException.class, e -> {
            assertThat(e.offset()).isZero();
            assertThat(e.problem()).contains("header CRC32C mismatch");
        });

        Files.write(seg, withHeaderField(good, 8, (short) 2)); // a newer format, CRC right
        assertThatThrownBy(() -> replay(dir(), JournalOptions.DEFAULTS)).isInstanceOfSatisfying(JournalCorruptException.class,
                e -> assertThat(e.problem()).contains("format version 2 is not supported").contains("upgrade"));

        Files.write(seg, withHeaderField(good, 10, (short) 1));
        assertThatThrownBy(() -> replay(dir(), JournalOptions.DEFAULTS)).isInstanceOfSatisfying(JournalCorruptException.class,
                e -> assertThat(e.problem()).contains("unknown header flags 0001"));

        Files.write(seg, good);
        Files.move(seg, segment(dir(), 7));
        assertThatThrownBy(() -> replay(dir(), JournalOptions.DEFAULTS)).isInstanceOfSatisfying(JournalCorruptException.class,
                e -> assertThat(e.problem()).contains("header says first sequence 1 but the file name says 7"));
    }

    private static byte[] withHeaderField(byte[] segment, int offset, short value) {
        byte[] b = segment.clone();
        ByteBuffer.wrap(b).putShort(offset, value);
        CRC32C crc = new CRC32C();
        crc.update(b, 0, 28);
        ByteBuffer.wrap(b).putInt(28, (int) crc.getValue());
        return b;
    }

    @Test
    void aMissingMiddleSegmentIsASequenceGap() throws Exception {
        write(dir(), SMALL, 20);
        List<Path> segments;
        try (Stream<Path> s = Files.list(dir())) {
            segments = s.sorted().toList();
        }
        assertThat(segments).hasSizeGreaterThanOrEqualTo(3);
        Files.delete(segments.get(1));
        assertThatThrownBy(() -> replay(dir(), SMALL)).isInstanceOfSatisfying(JournalCorruptException.class, e -> {
            assertThat(e.file()).isEqualTo(segments.get(2).toString());
            assertThat(e.problem()).startsWith("sequence gap: the previous segment ends at");
        });
    }

    @Test
    void aRecordWithAGoodCrcButTheWrongSequenceIsAGapEvenAtTheTail() throws Exception {
        write(dir(), JournalOptions.DEFAULTS, 2);
        Path seg = segment(dir(), 1);
        long end = Files.size(seg);
        Files.write(seg, JournalFormat.encodeRecord(1, 4, utf8("from nowhere")), java.nio.file.StandardOpenOption.APPEND);
        assertThatThrownBy(() -> replay(dir(), JournalOptions.DEFAULTS)).isInstanceOfSatisfying(JournalCorruptException.class, e -> {
            assertThat(e.offset()).isEqualTo(end);
            assertThat(e.problem()).isEqualTo("sequence gap: expected record 3, found 4");
        });
    }

    @Test
    void aLastSegmentShorterThanItsHeaderIsACrashDuringCreationAndIsRemoved() throws Exception {
        write(dir(), JournalOptions.DEFAULTS, 4);
        Files.write(segment(dir(), 5), new byte[]{'G', 'P', 'U'});
        List<JournalRecord> replayed = new ArrayList<>();
        try (Journal j = Journal.open(DiskJournalFiles.open(dir(), false), JournalOptions.DEFAULTS, clock, replayed::add)) {
            assertThat(seqs(replayed)).containsExactlyElementsOf(oneTo(4));
            assertThat(j.recovery().tornCreation()).hasValue("journal-00000000000000000005.wal");
            assertThat(Files.exists(segment(dir(), 5))).isFalse();
            assertThat(j.appendDurably(1, utf8("five"))).isEqualTo(5);
        }
        assertThat(seqs(replay(dir(), JournalOptions.DEFAULTS))).containsExactlyElementsOf(oneTo(5));
    }

    @Test
    void anInterruptedCompactionIsFinishedAtOpenAndReplayStartsAtTheSnapshot() throws Exception {
        write(dir(), SMALL, 10);
        byte[] first = Files.readAllBytes(segment(dir(), 1));
        try (Journal j = Journal.open(DiskJournalFiles.open(dir(), false), SMALL, clock, r -> { })) {
            assertThat(j.snapshot(utf8("state at 10"))).isEqualTo(11);
            j.appendDurably(1, utf8("twelve"));
        }
        Files.write(segment(dir(), 1), first); // the crash came before the deletion was durable
        List<JournalRecord> replayed = new ArrayList<>();
        try (Journal j = Journal.open(DiskJournalFiles.open(dir(), false), SMALL, clock, replayed::add)) {
            assertThat(seqs(replayed)).containsExactly(11L, 12L);
            assertThat(replayed.get(0).isSnapshot()).isTrue();
            assertThat(j.recovery().superseded()).containsExactly("journal-00000000000000000001.wal");
        }
        try (Stream<Path> s = Files.list(dir())) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly("journal-00000000000000000011.wal");
        }
    }

    @Test
    void aSnapshotRecordAnywhereButFirstInItsSegmentIsCorruption() throws Exception {
        write(dir(), JournalOptions.DEFAULTS, 2);
        Path seg = segment(dir(), 1);
        Files.write(seg, JournalFormat.encodeRecord(Journal.SNAPSHOT, 3, utf8("misplaced")), java.nio.file.StandardOpenOption.APPEND);
        Files.write(seg, JournalFormat.encodeRecord(1, 4, utf8("four")), java.nio.file.StandardOpenOption.APPEND);
        assertThatThrownBy(() -> replay(dir(), JournalOptions.DEFAULTS)).isInstanceOfSatisfying(JournalCorruptException.class,
                e -> assertThat(e.problem()).contains("snapshot record 3 is not the first record of its segment"));
    }

    @Test
    void anEmptyDirectoryStartsAtRecordOne() throws Exception {
        List<JournalRecord> replayed = new ArrayList<>();
        try (Journal j = Journal.open(dir(), clock, replayed::add)) {
            assertThat(replayed).isEmpty();
            assertThat(j.appendDurably(1, utf8("first"))).isEqualTo(1);
        }
        assertThat(Files.readAllBytes(segment(dir(), 1))).startsWith(SegmentHeader.MAGIC);
    }
}
