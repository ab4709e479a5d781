package io.gpuagent.journal;

import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The exact bytes of the documented format. The expected hex was computed outside Java (a bitwise
 * CRC32C in Python), so these pin the format a reader in another language relies on.
 */
class JournalFormatTest {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void crc32cIsTheCastagnoliPolynomial() {
        CRC32C crc = new CRC32C();
        crc.update("123456789".getBytes(StandardCharsets.US_ASCII));
        assertThat(crc.getValue()).isEqualTo(0xE3069283L);
    }

    @Test
    void aSegmentHeaderIsThirtyTwoBigEndianBytes() {
        ByteBuffer b = SegmentHeader.forNewSegment(1, new ManualClock().wallTime()).encode();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        assertThat(HEX.formatHex(bytes)).isEqualTo(
                "475055414a524e4c" // GPUAJRNL
                        + "0001" + "0000" // version 1, flags 0
                        + "0000000000000001" // first sequence
                        + "000001a21a4d4000" // created: 2026-11-27T00:00:00Z in epoch ms
                        + "671e333c"); // CRC32C of the 28 bytes before
        assertThat(SegmentHeader.SIZE).isEqualTo(32);
    }

    @Test
    void aRecordIsLengthCrcTypeSequencePayload() {
        byte[] r = JournalFormat.encodeRecord(1, 1, "hi".getBytes(StandardCharsets.US_ASCII));
        assertThat(HEX.formatHex(r)).isEqualTo("0000000b" + "9c1d7d57" + "01" + "0000000000000001" + "6869");
    }

    @Test
    void theGoldenBytesReadBackThroughRecovery() throws Exception {
        FakeJournalFiles files = new FakeJournalFiles();
        try (JournalFiles.SegmentFile f = files.create("journal-00000000000000000001.wal")) {
            f.write(ByteBuffer.wrap(HEX.parseHex("475055414a524e4c000100000000000000000001000001a21a4d4000671e333c"
                    + "0000000b9c1d7d570100000000000000016869")), 0);
        }
        ArrayList<JournalRecord> replayed = new ArrayList<>();
        Journal.open(files, JournalOptions.DEFAULTS, new ManualClock(), replayed::add).close();
        assertThat(replayed).containsExactly(new JournalRecord(1, 1, "hi".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void segmentNamesCarryTheFirstSequenceInTwentyDigits() {
        assertThat(JournalFormat.segmentName(1)).isEqualTo("journal-00000000000000000001.wal");
        assertThat(JournalFormat.segmentName(Long.MAX_VALUE)).isEqualTo("journal-09223372036854775807.wal");
        assertThat(JournalFormat.parseSegmentName("journal-00000000000000000042.wal")).isEqualTo(42);
        assertThat(JournalFormat.parseSegmentName("journal-42.wal")).isEqualTo(-1);
        assertThat(JournalFormat.parseSegmentName("journal-0000000000000000004x.wal")).isEqualTo(-1);
        assertThat(JournalFormat.parseSegmentName("journal-99999999999999999999.wal")).isEqualTo(-1);
        assertThat(JournalFormat.parseSegmentName("journal.lock")).isEqualTo(-1);
    }
}
