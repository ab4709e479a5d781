package io.gpuagent.bench;

import io.gpuagent.journal.DiskJournalFiles;
import io.gpuagent.journal.JournalException;
import io.gpuagent.journal.JournalOptions;
import io.gpuagent.journal.Journal;
import io.gpuagent.util.Clock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The journal on this machine's disk (DESIGN.md target: 64 sessions ticking = one fdatasync per
 * second). {@code tick64Sessions}: 64 records of about 100 bytes appended and group-committed, one
 * write + one fdatasync per op, so ops/s is the commit rate the disk allows and the average time is
 * what one 1 Hz tick costs. {@code appendDurablyOne}: a rare synchronous record (launch intent).
 * The journal lives in a fresh directory under {@code -p dir=...} (default: java.io.tmpdir); the
 * figure is the filesystem's, so say which one it was.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.Throughput, Mode.AverageTime})
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class JournalBenchmark {
    @Param({""})
    public String dir;

    private Path journalDir;
    private Journal journal;
    private final byte[][] ticks = new byte[64][];

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path base = dir.isEmpty() ? Path.of(System.getProperty("java.io.tmpdir")) : Path.of(dir);
        journalDir = Files.createTempDirectory(base, "journal-bench");
        journal = Journal.open(DiskJournalFiles.open(journalDir, true), JournalOptions.DEFAULTS, Clock.SYSTEM, r -> { });
        for (int s = 0; s < ticks.length; s++) {
            String json = String.format("{\"session\":\"s-%02d\",\"t\":1795737600,\"sec\":3600,\"gpu\":[0,1],\"util\":97,\"w\":612}", s);
            ticks[s] = json.getBytes(StandardCharsets.UTF_8);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        journal.close();
        try (Stream<Path> s = Files.walk(journalDir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Benchmark
    public int tick64Sessions() throws JournalException {
        for (byte[] t : ticks) {
            journal.append(3, t);
        }
        return journal.commit();
    }

    @Benchmark
    public long appendDurablyOne() throws JournalException {
        return journal.appendDurably(1, ticks[0]);
    }
}
