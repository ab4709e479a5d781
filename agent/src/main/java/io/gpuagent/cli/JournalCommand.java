package io.gpuagent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gpuagent.config.ConfigException;
import io.gpuagent.daemon.ExitCodes;
import io.gpuagent.journal.DiskJournalFiles;
import io.gpuagent.journal.JournalCorruptException;
import io.gpuagent.journal.JournalEntry;
import io.gpuagent.journal.JournalScanner;
import io.gpuagent.journal.SegmentHeader;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.Callable;

/** {@code gpu-agent journal}: tools for the metering journal (docs/journal.md). */
@Command(name = "journal", mixinStandardHelpOptions = true,
        description = "Inspect the metering journal (the write-ahead log of sessions and billed seconds).",
        subcommands = {JournalCommand.Dump.class, CommandLine.HelpCommand.class})
final class JournalCommand implements Runnable {
    /** A corrupt or unreadable journal; the same code as a bad config: both need the owner, not a restart. */
    static final int JOURNAL_UNREADABLE = ExitCodes.CONFIG;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a journal command is required (dump)");
    }

    /** {@code gpu-agent journal dump}: every record with where it is, then a summary; read-only. */
    @Command(name = "dump", mixinStandardHelpOptions = true,
            description = {"Print every record of the journal: segment, offset, sequence, type, length, payload",
                "(UTF-8 when printable, else hex) and CRC status, then a summary. Read-only: safe while the",
                "agent runs. A torn tail (a write cut by a crash) is reported; the agent cuts it at start.",
                "Exit codes: 0 ok, 3 corrupt or unreadable journal (the records before the damage are printed)",
                "or bad config."})
    static final class Dump implements Callable<Integer> {
        /** Made on first use: picocli builds every command to parse any command line, and an ObjectMapper
         * costs a cold JVM hundreds of milliseconds (`gpu-agent --version` paid it for nothing). */
        private static final class Json {
            static final ObjectMapper MAPPER = new ObjectMapper();
        }
        private static final int TEXT_PAYLOAD_LIMIT = 200;

        @CommandLine.Mixin
        CommandSupport.ConfigOptions options = new CommandSupport.ConfigOptions();

        @CommandLine.Option(names = "--dir", paramLabel = "DIR",
                description = "the journal directory (default: agent.state_dir from the config + /journal)")
        Path dir;

        @CommandLine.Option(names = "--from", paramLabel = "SEQ", description = "print records from this sequence number on")
        long from = 1;

        @CommandLine.Option(names = "--json", description = "one JSON object per line: segments, records, then a summary")
        boolean json;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        private PrintWriter out;
        private long printed;
        private long snapshots;
        private long firstSeq = -1;
        private long lastSeq = -1;

        @Override
        public Integer call() {
            out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Path journalDir = dir;
            if (journalDir == null) {
                try {
                    journalDir = options.load().agent().journalDirectory();
                } catch (ConfigException e) {
                    return CommandSupport.configError(err, e);
                }
            }
            JournalScanner.Result result;
            try {
                DiskJournalFiles files = DiskJournalFiles.open(journalDir, false);
                if (!json) {
                    out.println("journal " + files.directory());
                }
                result = JournalScanner.scan(files, JournalScanner.Mode.ALL, new Printer());
            } catch (JournalCorruptException e) {
                summary(null, e);
                out.flush();
                err.println("gpu-agent: " + e.getMessage());
                return JOURNAL_UNREADABLE;
            } catch (NoSuchFileException e) {
                out.flush();
                err.println("gpu-agent: no journal directory at " + e.getFile() + " (has the agent run here? is --dir right?)");
                return JOURNAL_UNREADABLE;
            } catch (IOException e) {
                out.flush();
                err.println("gpu-agent: cannot read the journal at " + journalDir + ": " + e);
                return JOURNAL_UNREADABLE;
            }
            summary(result, null);
            out.flush();
            return ExitCodes.OK;
        }

        private final class Printer implements JournalScanner.Visitor {
            @Override
            public void segment(String name, SegmentHeader h, long size) {
                if (json) {
                    ObjectNode n = Json.MAPPER.createObjectNode().put("kind", "segment").put("segment", name)
                            .put("version", h.version()).put("flags", h.flags()).put("firstSeq", h.firstSeq())
                            .put("created", h.created().toString()).put("bytes", size);
                    out.println(n);
                } else {
                    out.printf("segment %s  version %d  first seq %d  created %s  %d bytes%n", name, h.version(),
                            h.firstSeq(), h.created(), size);
                    out.printf("  %10s %10s %4s %8s %4s  %s%n", "offset", "seq", "type", "length", "crc", "payload");
                }
            }

            @Override
            public void record(JournalEntry e) {
                long seq = e.record().seq();
                firstSeq = firstSeq < 0 ? seq : firstSeq;
                lastSeq = seq;
                if (e.record().isSnapshot()) {
                    snapshots++;
                }
                if (seq < from) {
                    return;
                }
                printed++;
                byte[] payload = e.record().payload();
                String text = printableUtf8(payload);
                if (json) {
                    ObjectNode n = Json.MAPPER.createObjectNode().put("kind", "record").put("segment", e.segment())
                            .put("offset", e.offset()).put("seq", seq).put("type", e.record().type())
                            .put("length", e.length()).put("crc", "ok");
                    if (text != null) {
                        n.put("payload", text);
                    } else {
                        n.put("payloadHex", HexFormat.of().formatHex(payload));
                    }
                    out.println(n);
                } else {
                    String shown = text != null ? quote(text) : "hex " + HexFormat.of().formatHex(payload, 0,
                            Math.min(payload.length, TEXT_PAYLOAD_LIMIT));
                    if (payload.length > TEXT_PAYLOAD_LIMIT) {
                        shown = (text != null ? quote(text.substring(0, Math.min(text.length(), TEXT_PAYLOAD_LIMIT))) : shown)
                                + " ... (" + payload.length + " bytes)";
                    }
                    out.printf("  %10d %10d %4s %8d %4s  %s%n", e.offset(), seq,
                            e.record().isSnapshot() ? "snap" : Integer.toString(e.record().type()), e.length(), "ok", shown);
                }
            }
        }

        private void summary(JournalScanner.Result r, JournalCorruptException corrupt) {
            long records = firstSeq < 0 ? 0 : lastSeq - firstSeq + 1;
            if (json) {
                ObjectNode n = Json.MAPPER.createObjectNode().put("kind", "summary").put("records", records).put("printed", printed)
                        .put("snapshots", snapshots);
                if (firstSeq >= 0) {
                    n.put("firstSeq", firstSeq).put("lastSeq", lastSeq);
                }
                if (r != null) {
                    n.put("segments", r.segments().size()).put("nextSeq", r.nextSeq());
                    r.tornTail().ifPresent(t -> n.putObject("tornTail").put("segment", t.segment()).put("offset", t.offset())
                            .put("bytes", t.bytes()).put("problem", t.problem()));
                    r.tornCreation().ifPresent(t -> n.put("tornCreation", t));
                }
                if (corrupt != null) {
                    n.putObject("corrupt").put("file", corrupt.file()).put("offset", corrupt.offset())
                            .put("problem", corrupt.problem());
                }
                out.println(n);
                return;
            }
            if (r != null) {
                r.tornTail().ifPresent(t -> out.printf("torn tail: %d bytes at offset %d of %s: %s (the agent cuts it when it starts)%n",
                        t.bytes(), t.offset(), t.segment(), t.problem()));
                r.tornCreation().ifPresent(t -> out.printf("torn segment: %s is shorter than a header (the agent deletes it when it starts)%n", t));
            }
            if (corrupt != null) {
                out.printf("CORRUPT: %s at byte offset %d: %s%n", corrupt.file(), corrupt.offset(), corrupt.problem());
            }
            String range = records == 0 ? "" : " (seq " + firstSeq + ".." + lastSeq + ")";
            out.printf("summary: %s%d records%s, %d snapshots, %d printed%s%n",
                    r != null ? r.segments().size() + " segments, " : "", records, range, snapshots, printed,
                    corrupt != null ? "; read stopped at the corruption" : r != null && r.tornTail().isPresent() ? "; torn tail" : "; clean");
        }

        /** The payload as text when it is valid UTF-8 without control characters (tab and newline allowed). */
        static String printableUtf8(byte[] payload) {
            String s;
            try {
                s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(payload)).toString();
            } catch (CharacterCodingException e) {
                return null;
            }
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (Character.isISOControl(c) && c != '\t' && c != '\n' && c != '\r') {
                    return null;
                }
            }
            return s;
        }

        private static String quote(String s) {
            return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\r", "\\r")
                    .replace("\t", "\\t") + "\"";
        }
    }
}
