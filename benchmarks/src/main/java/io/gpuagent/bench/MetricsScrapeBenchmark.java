package io.gpuagent.bench;

import io.gpuagent.gpu.GpuMonitor;
import io.gpuagent.gpu.nvml.NvmlGpuDriver;
import io.gpuagent.metrics.MetricsEndpoint;
import io.gpuagent.util.Clock;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The cost of one {@code /metrics} scrape body over 8 simulated H100s (GPU, agent and JVM
 * families), without HTTP: time and, with {@code -prof gc}, allocation per scrape. The HTTP
 * figures under load come from wrk in scripts/bench.sh.
 *
 * <p>{@code shared=true} is many scrapers within one tick: the DCGM and JVM families are shared,
 * only the rest is collected and written per scrape. {@code shared=false} is one Prometheus every
 * few seconds: each scrape follows a new telemetry tick in a new second, so everything is built
 * (the tick itself runs outside the measured time, in the per-invocation set-up).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class MetricsScrapeBenchmark {
    private NvmlGpuDriver driver;
    private GpuMonitor gpus;
    private MetricsEndpoint endpoint;
    private ExpositionFormatWriter writer;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);

    /** With and without client_java's JVM families, to tell their cost from ours. */
    @org.openjdk.jmh.annotations.Param({"true", "false"})
    public boolean jvm;

    /** Whether the scrape finds the shared families of its tick already built. */
    @org.openjdk.jmh.annotations.Param({"true", "false"})
    public boolean shared;

    /** The endpoint's clock: real time, plus a second for each new tick of the shared=false case. */
    private final Clock clock = new Clock() {
        @Override
        public long monotonicNanos() {
            return System.nanoTime() + skipped;
        }

        @Override
        public java.time.Instant wallTime() {
            return Clock.SYSTEM.wallTime();
        }
    };
    private volatile long skipped;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        driver = SimulatedGpus.open();
        // a long interval so that samples stay fresh without a running sampler: one tick by hand
        gpus = GpuMonitor.open(driver, Clock.SYSTEM, Duration.ofDays(30), Duration.ofSeconds(2), false);
        gpus.sampler().tick();
        endpoint = new MetricsEndpoint(gpus, clock, "bench", "bench-host", Optional::empty, jvm);
        writer = endpoint.writerFor("text/plain");
    }

    /** For shared=false: a new tick (new samples), and a second later (the JVM families are read again). */
    @Setup(Level.Invocation)
    public void newTick() {
        if (!shared) {
            gpus.sampler().tick();
            skipped += 1_000_000_000L;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        gpus.close();
    }

    @Benchmark
    public int scrape() throws Exception {
        out.reset();
        endpoint.scrape(writer, out);
        return out.size();
    }
}
