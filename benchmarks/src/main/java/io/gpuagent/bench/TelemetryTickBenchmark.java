package io.gpuagent.bench;

import io.gpuagent.gpu.DeviceCallGuard;
import io.gpuagent.gpu.GpuCallStats;
import io.gpuagent.gpu.GpuHealthRegistry;
import io.gpuagent.gpu.GpuMonitor;
import io.gpuagent.gpu.GpuSample;
import io.gpuagent.gpu.TelemetrySampler;
import io.gpuagent.gpu.nvml.NvmlGpuDriver;
import io.gpuagent.util.Clock;
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
import org.openjdk.jmh.infra.Blackhole;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One telemetry tick over 8 simulated H100s with every field (target: under 1 ms of CPU).
 * {@code readAllGpus} is the CPU cost of the NVML reads themselves (one thread, JNA into the
 * simulated library); {@code samplerTick} is the daemon's real tick, each GPU on its own guarded
 * thread, so it adds the hand-offs. Run by scripts/bench.sh, which sets GPU_AGENT_SIM_CONFIG and
 * GPU_AGENT_NVML_LIBRARY.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TelemetryTickBenchmark {
    private NvmlGpuDriver driver;
    private TelemetrySampler sampler;
    private GpuMonitor.Probe probe;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        driver = SimulatedGpus.open();
        probe = GpuMonitor.probe(driver, Clock.SYSTEM, Duration.ofSeconds(2), new GpuCallStats());
        if (probe.inventory().gpus().size() != 8) {
            throw new IllegalStateException("expected the 8-GPU machine, got " + probe.inventory().gpus().size());
        }
        GpuHealthRegistry health = new GpuHealthRegistry(Clock.SYSTEM, probe.inventory().gpus());
        sampler = new TelemetrySampler(driver, probe.inventory().gpus(), probe.guards(), health, Clock.SYSTEM,
                Duration.ofSeconds(1), Duration.ofSeconds(2));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        sampler.close();
        probe.guards().forEach(DeviceCallGuard::close);
        driver.close();
    }

    @Benchmark
    public void readAllGpus(Blackhole bh) throws Exception {
        for (int i = 0; i < 8; i++) {
            GpuSample s = driver.sample(i);
            bh.consume(s);
        }
    }

    @Benchmark
    public Object samplerTick() {
        return sampler.tick();
    }
}
