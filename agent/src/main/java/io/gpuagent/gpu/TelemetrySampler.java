package io.gpuagent.gpu;

import io.gpuagent.util.Clock;
import io.gpuagent.util.ClockJumpDetector;
import io.gpuagent.util.NamedThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Samples every GPU once per interval. Each tick asks all GPUs at once (each on its own
 * {@link DeviceCallGuard}), waits for them up to the call timeout, publishes the latest samples as
 * one immutable snapshot and reports failures to the {@link GpuHealthRegistry}. A hung GPU costs
 * one timeout per tick at most and never stops the others or the tick; a tick that cannot run at
 * all (the sampler thread itself stuck) stops advancing {@link #lastTickNanos()}, which is what the
 * systemd watchdog looks at.
 */
public final class TelemetrySampler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TelemetrySampler.class);

    /**
     * The latest sample of every GPU that has one (by UUID, index order), each stamped with its own
     * time: a hung GPU keeps its last sample, which ages and is then treated as stale by readers; a
     * lost GPU has none.
     */
    public record Snapshot(long tick, long tickMonotonicNanos, Map<String, GpuSample> samples) {
        public Snapshot {
            samples = Collections.unmodifiableMap(new LinkedHashMap<>(samples));
        }
    }

    private final GpuDriver driver;
    private final List<GpuDevice> devices;
    private final List<DeviceCallGuard> guards;
    private final GpuHealthRegistry health;
    private final Clock clock;
    private final Duration interval;
    private final Duration callTimeout;
    private final ScheduledExecutorService scheduler;
    private final AtomicLong lastTickNanos = new AtomicLong();
    private final AtomicLong lastTickDurationNanos = new AtomicLong();
    private final AtomicLong ticks = new AtomicLong();
    private final java.util.concurrent.ConcurrentMap<String, GpuSample> latest =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** Warns when the wall clock leaps or goes back (sample timestamps jump with it; durations do not). */
    private final ClockJumpDetector clockJumps;

    public TelemetrySampler(GpuDriver driver, List<GpuDevice> devices, List<DeviceCallGuard> guards,
                            GpuHealthRegistry health, Clock clock, Duration interval, Duration callTimeout) {
        this.driver = driver;
        this.devices = List.copyOf(devices);
        this.guards = List.copyOf(guards);
        this.health = health;
        this.clock = clock;
        this.interval = interval;
        this.callTimeout = callTimeout;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(new NamedThreadFactory("gpu-agent-sampler", true));
        long now = clock.monotonicNanos();
        this.lastTickNanos.set(now);
        this.clockJumps = new ClockJumpDetector(clock, Duration.ofSeconds(2));
    }

    public void start() {
        scheduler.scheduleAtFixedRate(this::tickSafely, 0, interval.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void tickSafely() {
        try {
            tick();
        } catch (RuntimeException e) {
            // a bug must not silently stop sampling for good: log it; the watchdog sees no progress
            log.error("telemetry tick failed", e);
        }
    }

    /** One tick: sample every GPU, publish, report health. Public for tests and benchmarks. */
    public Snapshot tick() {
        long start = clock.monotonicNanos();
        Duration jump = clockJumps.check();
        if (!jump.isZero()) {
            log.warn("the wall clock jumped {} {} ms relative to the monotonic clock (NTP step or manual change); "
                    + "timestamps follow it, measured durations do not", jump.isNegative() ? "back" : "forward",
                    jump.abs().toMillis());
        }
        List<CompletableFuture<DeviceCallGuard.Outcome<GpuSample>>> futures = new ArrayList<>(devices.size());
        for (GpuDevice d : devices) {
            GpuHealthState h = health.state(d.uuid());
            if (h != null && h.health() == GpuHealth.LOST) {
                futures.add(null); // nothing more to read until a reset
                continue;
            }
            int index = d.index();
            CompletableFuture<DeviceCallGuard.Outcome<GpuSample>> f =
                    guards.get(index).submit("sample", () -> driver.sample(index), callTimeout);
            // published the moment it arrives: a hung GPU must not hold the others' samples back
            f.thenAccept(o -> {
                if (o instanceof DeviceCallGuard.Outcome.Done<GpuSample> done) {
                    latest.put(d.uuid(), done.value());
                }
            });
            futures.add(f);
        }
        for (int i = 0; i < devices.size(); i++) {
            GpuDevice d = devices.get(i);
            CompletableFuture<DeviceCallGuard.Outcome<GpuSample>> f = futures.get(i);
            if (f == null) {
                continue;
            }
            DeviceCallGuard.Outcome<GpuSample> outcome = f.join();
            if (outcome instanceof DeviceCallGuard.Outcome.Done<GpuSample>) {
                health.onResponsive(d.uuid());
            } else if (outcome instanceof DeviceCallGuard.Outcome.Failed<GpuSample> failed) {
                if (failed.error() instanceof GpuLostException) {
                    latest.remove(d.uuid());
                    health.onLost(d.uuid(), failed.error().getMessage());
                } else {
                    log.warn("sampling GPU {} failed: {}", d.index(), failed.error().getMessage());
                }
            } else if (outcome instanceof DeviceCallGuard.Outcome.Hung<GpuSample> hung) {
                health.onUnresponsive(d.uuid(), hung.reason());
            }
        }
        long end = clock.monotonicNanos();
        ticks.incrementAndGet();
        lastTickDurationNanos.set(end - start);
        lastTickNanos.set(end);
        return snapshot();
    }

    /**
     * The latest samples, built when asked (scrapes, status: a few times a minute) rather than at
     * each sample's arrival (eight times a tick on an 8-GPU machine).
     */
    public Snapshot snapshot() {
        Map<String, GpuSample> ordered = new LinkedHashMap<>();
        for (GpuDevice d : devices) {
            GpuSample s = latest.get(d.uuid());
            if (s != null) {
                ordered.put(d.uuid(), s);
            }
        }
        return new Snapshot(ticks.get(), lastTickNanos.get(), ordered);
    }

    /** Monotonic time the last tick completed: the progress signal for the systemd watchdog. */
    public long lastTickNanos() {
        return lastTickNanos.get();
    }

    public long lastTickDurationNanos() {
        return lastTickDurationNanos.get();
    }

    public long ticks() {
        return ticks.get();
    }

    public Duration interval() {
        return interval;
    }

    public Duration callTimeout() {
        return callTimeout;
    }

    /** Stops ticking and waits up to {@code timeout} for a tick in progress. */
    public boolean stop(Duration timeout) throws InterruptedException {
        scheduler.shutdown();
        return scheduler.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
