package io.gpuagent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.journal.DiskJournalFiles;
import io.gpuagent.journal.Journal;
import io.gpuagent.journal.JournalOptions;
import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code gpu-agent journal dump}, run in-process through picocli with captured output. */
class JournalDumpCommandTest {
    @TempDir
    Path tmp;
    private Path dir;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void writeJournal() throws Exception {
        dir = tmp.resolve("journal");
        try (Journal j = Journal.open(DiskJournalFiles.open(dir, true), JournalOptions.DEFAULTS.withSegmentBytes(64),
                new ManualClock(), r -> { })) {
            j.appendDurably(1, utf8("launch s-1 gpu0"));
            j.appendDurably(2, new byte[]{0, 1, 2, (byte) 0xfe});
            j.appendDurably(3, utf8("tick s-1 \"60 s\""));
            j.appendDurably(3, utf8("tick s-1 61 s"));
        }
    }

    private int run(String... args) {
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void printsEveryRecordWithItsPlaceAndASummary() {
        assertThat(run("journal", "dump", "--dir", dir.toString())).isZero();
        String text = out.toString();
        assertThat(text).contains("journal " + dir)
                .contains("segment journal-00000000000000000001.wal  version 1  first seq 1  created 2026-11-27T00:00:00Z")
                .containsPattern("\\s32\\s+1\\s+1\\s+24\\s+ok\\s+\"launch s-1 gpu0\"")
                .contains("segment journal-00000000000000000002.wal")
                .containsPattern("\\s32\\s+2\\s+2\\s+13\\s+ok\\s+hex 000102fe")
                .contains("\"tick s-1 \\\"60 s\\\"\"")
                .contains("summary: 3 segments, 4 records (seq 1..4), 0 snapshots, 4 printed; clean");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void jsonIsOneObjectPerLineAndFromSkipsEarlierRecords() throws Exception {
        assertThat(run("journal", "dump", "--dir", dir.toString(), "--json", "--from", "2")).isZero();
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String l : out.toString().split("\n")) {
            lines.add(json.readTree(l));
        }
        List<JsonNode> records = lines.stream().filter(n -> n.get("kind").asText().equals("record")).toList();
        assertThat(records).extracting(n -> n.get("seq").asLong()).containsExactly(2L, 3L, 4L);
        assertThat(records.get(0).get("payloadHex").asText()).isEqualTo("000102fe");
        assertThat(records.get(1).get("payload").asText()).isEqualTo("tick s-1 \"60 s\"");
        assertThat(records.get(1).get("crc").asText()).isEqualTo("ok");
        JsonNode summary = lines.get(lines.size() - 1);
        assertThat(summary.get("kind").asText()).isEqualTo("summary");
        assertThat(summary.get("records").asLong()).isEqualTo(4);
        assertThat(summary.get("printed").asLong()).isEqualTo(3);
        assertThat(summary.get("nextSeq").asLong()).isEqualTo(5);
    }

    @Test
    void aCorruptJournalShowsWhatWasReadThenTheDamageAndExitsThree() throws Exception {
        Path second = dir.resolve("journal-00000000000000000002.wal");
        byte[] b = Files.readAllBytes(second);
        b[b.length - 1] ^= 1; // record 3, the last of a segment that is not the last
        Files.write(second, b);
        assertThat(run("journal", "dump", "--dir", dir.toString())).isEqualTo(3);
        assertThat(out.toString()).contains("\"launch s-1 gpu0\"")
                .contains("hex 000102fe")
                .contains("CORRUPT: " + second + " at byte offset 53")
                .contains("summary: 2 records (seq 1..2), 0 snapshots, 2 printed; read stopped at the corruption");
        assertThat(err.toString()).contains("is corrupt at byte offset").contains("CRC32C mismatch");
    }

    @Test
    void aTornTailIsReportedButIsNotAnError() throws Exception {
        Path last = dir.resolve("journal-00000000000000000004.wal");
        Files.write(last, new byte[]{0, 0, 0, 40, 1}, java.nio.file.StandardOpenOption.APPEND);
        assertThat(run("journal", "dump", "--dir", dir.toString())).isZero();
        assertThat(out.toString()).contains("torn tail: 5 bytes at offset")
                .contains("the agent cuts it when it starts").contains("; torn tail");
        assertThat(Files.readAllBytes(last)).endsWith(0, 0, 0, 40, 1); // dump never changes the journal
    }

    @Test
    void aMissingDirectoryIsAClearError() {
        assertThat(run("journal", "dump", "--dir", tmp.resolve("nope").toString())).isEqualTo(3);
        assertThat(err.toString()).contains("no journal directory at " + tmp.resolve("nope"));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
