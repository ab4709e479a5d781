package io.gpuagent.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.container.FakeContainerRuntime;
import io.gpuagent.journal.Journal;
import io.gpuagent.journal.JournalRecord;
import io.gpuagent.util.ManualClock;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Journals written before the session core was split (commit 11d5962, the fixtures'
 * README.md) replay to the same session table with today's code, and today's records have the
 * bytes those versions wrote (so an older agent still reads what this one writes; the one new
 * property, an end reason's {@code code}, is one they ignore).
 */
class SessionJournalCompatibilityTest {
    private static final String FIXTURES = "/journal-fixtures/sessions-v1/";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** A copy of a fixture's journal directory (recovery may truncate or delete: never on the fixture itself). */
    private Path copyFixture(String name) throws IOException {
        Path from = Path.of(System.getProperty("gpuagent.repoRoot", ".."), "agent/src/test/resources" + FIXTURES + name,
                "journal");
        Path dir = Files.createDirectories(tmp.resolve(name).resolve("journal"));
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        return dir;
    }

    private static List<JournalRecord> read(Path dir) throws IOException {
        List<JournalRecord> records = new ArrayList<>();
        Journal.open(dir, new ManualClock(), records::add).close();
        return records;
    }

    @ParameterizedTest
    @ValueSource(strings = {"records", "snapshot"})
    void anOldJournalReplaysToTheSameTable(String name) throws Exception {
        Path dir = copyFixture(name);
        ManualClock clock = new ManualClock();
        AgentConfig c = ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=none"));
        List<JournalRecord> records = read(dir);
        try (Journal journal = Journal.open(dir, clock, r -> { })) {
            SessionCore core = SessionCore.builder().runtime(new FakeContainerRuntime(clock)).journal(journal)
                    .policy(new LaunchPolicy(c.sessions()))
                    .gpus(new GpuAllocator(List.of("GPU-a", "GPU-b", "GPU-c", "GPU-d"), u -> true), 4)
                    .ports(new PortAllocator(40000, 40009)).clock(clock).fatal(t -> { throw new AssertionError(t); })
                    .build();
            core.recover(records);
            List<SessionView> table = core.list();
            core.close();

            ArrayNode actual = (ArrayNode) JSON.readTree(JSON.writeValueAsBytes(table)); // as text: numbers compare by value
            Map<String, String> codes = new java.util.LinkedHashMap<>();
            for (JsonNode n : actual) {
                JsonNode code = ((ObjectNode) n).remove("endReason");
                codes.put(n.get("sessionId").asText(), code == null || code.isNull() ? null : code.asText());
            }
            JsonNode expected = JSON.readTree(Path.of(System.getProperty("gpuagent.repoRoot", ".."),
                    "agent/src/test/resources" + FIXTURES + name, "expected-table.json").toFile());
            assertThat(actual).as("every field the old code recovered, with the same values").isEqualTo(expected);
            assertThat(codes).as("the end reasons, classified from the old texts").containsExactly(
                    Map.entry("stopped", "STOPPED"), Map.entry("oom", "OOM_KILLED"), Map.entry("failed", "LAUNCH_FAILED"),
                    Map.entry("running", "PAYMENT_OVERDUE"), entry("open", null));
        }
    }

    private static Map.Entry<String, String> entry(String k, String v) {
        return new java.util.AbstractMap.SimpleEntry<>(k, v);
    }

    @ParameterizedTest
    @ValueSource(strings = {"records", "snapshot"})
    void todaysRecordsHaveTheOldBytes(String name) throws Exception {
        List<JournalRecord> records = read(copyFixture(name));
        assertThat(records.stream().map(JournalRecord::type).collect(Collectors.toSet()))
                .as("the fixture has every record type").contains(SessionRecord.INTENT, SessionRecord.STATE,
                        SessionRecord.USAGE, SessionRecord.END);
        for (JournalRecord r : records) {
            byte[] again;
            if (r.isSnapshot()) {
                again = SessionSnapshot.decode(r.payload()).encode();
            } else {
                Optional<SessionRecord> decoded = SessionRecord.decode(r.type(), r.payload());
                assertThat(decoded).as("record %d is the session layer's", r.seq()).isPresent();
                assertThat(decoded.get().type()).isEqualTo(r.type());
                again = decoded.get().encode();
            }
            assertThat(new String(again, java.nio.charset.StandardCharsets.UTF_8)).as("record %d re-encoded", r.seq())
                    .isEqualTo(new String(r.payload(), java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    @org.junit.jupiter.api.Test
    void theOnlyNewPropertyIsTheEndReasonsCode() throws Exception {
        SessionRecord.End end = new SessionRecord.End("s1", SessionState.RUNNING, SessionState.ENDED, "max_duration",
                EndReason.MAX_DURATION, "2026-11-27T00:00:00Z", "2026-11-27T00:01:00Z", 60L, "FINISHED", 0, false,
                List.of(), "2026-11-27T00:01:00Z", SessionUsage.NONE);
        JsonNode written = JSON.readTree(end.encode());
        assertThat(written.get("code").asText()).isEqualTo("MAX_DURATION");
        ObjectNode withoutCode = ((ObjectNode) written.deepCopy());
        withoutCode.remove("code");
        SessionRecord.End old = (SessionRecord.End) SessionRecord.decode(SessionRecord.END,
                JSON.writeValueAsBytes(withoutCode)).orElseThrow();
        assertThat(old.code()).isNull();
        assertThat(old.endReason()).as("derived from the text, as for records of older agents")
                .isEqualTo(EndReason.MAX_DURATION);
    }
}
