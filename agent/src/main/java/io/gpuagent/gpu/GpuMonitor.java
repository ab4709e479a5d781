package io.gpuagent.gpu;

import io.gpuagent.util.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The GPU layer as the daemon uses it: the inventory probed at start, the health registry, the
 * 1 Hz sampler and the health-event watcher, each GPU's calls behind its own
 * {@link DeviceCallGuard}.
 *
 * <p>Start order: probe (describe every GPU, in parallel, each with the call deadline) &rarr;
 * health registry &rarr; sampler &rarr; event watcher. {@link #stop(Duration)} reverses it and
 * then shuts the driver down, unless a call is still hung inside it (shutting NVML down under a
 * hung call could crash the process; the OS reclaims it at exit).
 */
public final class GpuMonitor implements GpuReadings, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GpuMonitor.class);

    /** What probing found: the GPUs that answered, and a line per GPU that did not. */
    public record Probe(GpuInventory inventory, List<String> unanswered, List<DeviceCallGuard> guards) {
    }

    private final GpuDriver driver;
    private final GpuInventory inventory;
    private final List<DeviceCallGuard> guards;
    private final GpuCallStats stats;
    private final GpuHealthRegistry health;
    private final TelemetrySampler sampler;
    private final HealthWatcher watcher;
    private final Duration callTimeout;
    private final Clock clock;
    /** Each MIG-capable GPU's MIG state by GPU UUID, replaced whole by {@link #refreshMig()}. */
    private volatile java.util.Map<String, MigState> mig = java.util.Map.of();
    /** GPUs whose last MIG read failed or hung (their last known state, if any, is kept). */
    private volatile java.util.Set<String> migUnreadable = java.util.Set.of();
    private volatile GpuTopology topology;

    private GpuMonitor(GpuDriver driver, Probe probe, GpuCallStats stats, Clock clock, Duration interval,
                       Duration callTimeout, boolean watchEvents) {
        this.driver = driver;
        this.inventory = probe.inventory();
        this.guards = probe.guards();
        this.stats = stats;
        this.health = new GpuHealthRegistry(clock, inventory.gpus());
        this.sampler = new TelemetrySampler(driver, inventory.gpus(), guards, health, clock, interval, callTimeout);
        this.watcher = watchEvents ? new HealthWatcher(driver, inventory.gpus(), health, clock) : null;
        this.callTimeout = callTimeout;
        this.clock = clock;
        this.topology = GpuTopology.unknown(inventory.gpus().stream().map(GpuDevice::uuid).toList());
    }

    /** Describes every GPU; a GPU that hangs or fails here is left out, with a line saying why. */
    public static Probe probe(GpuDriver driver, Clock clock, Duration callTimeout, GpuCallStats stats) {
        int n = driver.deviceCount();
        List<DeviceCallGuard> guards = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            guards.add(new DeviceCallGuard(i, clock, stats));
        }
        List<java.util.concurrent.CompletableFuture<DeviceCallGuard.Outcome<GpuDevice>>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int index = i;
            futures.add(guards.get(i).submit("describe", () -> driver.describe(index), callTimeout));
        }
        List<GpuDevice> devices = new ArrayList<>();
        List<String> unanswered = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            DeviceCallGuard.Outcome<GpuDevice> o = futures.get(i).join();
            if (o instanceof DeviceCallGuard.Outcome.Done<GpuDevice> done) {
                devices.add(done.value());
            } else if (o instanceof DeviceCallGuard.Outcome.Failed<GpuDevice> failed) {
                unanswered.add("GPU " + i + ": " + failed.error().getMessage());
            } else if (o instanceof DeviceCallGuard.Outcome.Hung<GpuDevice> hung) {
                unanswered.add("GPU " + i + ": " + hung.reason());
            }
        }
        return new Probe(new GpuInventory(driver.driverInfo(), devices), unanswered, guards);
    }

    /** Probes, then starts sampling and (optionally) event watching. */
    public static GpuMonitor start(GpuDriver driver, Clock clock, Duration interval, Duration callTimeout,
                                   boolean watchEvents) {
        GpuMonitor m = open(driver, clock, interval, callTimeout, watchEvents);
        m.start();
        return m;
    }

    /** Probes but starts no thread: {@link #start()} does (tests and benchmarks tick by hand instead). */
    public static GpuMonitor open(GpuDriver driver, Clock clock, Duration interval, Duration callTimeout,
                                  boolean watchEvents) {
        GpuCallStats stats = new GpuCallStats();
        Probe probe = probe(driver, clock, callTimeout, stats);
        for (String line : probe.unanswered()) {
            log.error("{}; it is left out of the inventory until the agent restarts", line);
        }
        GpuMonitor m = new GpuMonitor(driver, probe, stats, clock, interval, callTimeout, watchEvents);
        m.refreshMig();
        m.readTopology();
        return m;
    }

    /**
     * Reads every GPU's MIG state again (after instances were made or destroyed). A GPU whose call
     * fails or hangs keeps its last known state; the failure is logged.
     */
    public void refreshMig() {
        java.util.Map<String, MigState> next = new java.util.LinkedHashMap<>();
        java.util.Set<String> unreadable = new java.util.HashSet<>();
        for (GpuDevice d : inventory.gpus()) {
            DeviceCallGuard.Outcome<MigState> o = call(d.index(), "mig", () -> driver.mig(d.index()));
            if (o instanceof DeviceCallGuard.Outcome.Done<MigState> done) {
                if (done.value() != null) {
                    next.put(d.uuid(), done.value());
                }
            } else {
                MigState last = mig.get(d.uuid());
                if (last != null) {
                    next.put(d.uuid(), last);
                }
                unreadable.add(d.uuid());
                log.warn("GPU {}: MIG state unreadable ({}); keeping the last known", d.index(), describe(o));
            }
        }
        mig = java.util.Collections.unmodifiableMap(next);
        migUnreadable = java.util.Set.copyOf(unreadable);
        // the registry must know an instance before it counts as healthy (and can be handed out)
        next.forEach((gpu, st) -> health.updateInstances(gpu, st.current() ? st.instances() : List.of()));
    }

    private void readTopology() {
        if (inventory.gpus().isEmpty()) {
            return;
        }
        List<String> uuids = inventory.gpus().stream().map(GpuDevice::uuid).toList();
        // on a thread of its own: the topology touches every GPU, and one that hangs in it must not
        // hold GPU 0's thread (its samples would be refused and it would leave the offer)
        DeviceCallGuard.Outcome<GpuTopology> o;
        try (DeviceCallGuard machine = new DeviceCallGuard("the GPUs' topology", "gpu-agent-nvml-topology", clock, stats)) {
            o = machine.call("topology", () -> driver.topology(uuids), callTimeout);
        }
        if (o instanceof DeviceCallGuard.Outcome.Done<GpuTopology> done) {
            topology = done.value();
        } else {
            log.warn("GPU topology unreadable ({}): multi-GPU sets are chosen without it", describe(o));
        }
    }

    /** GPUs whose MIG state the last read could not get (a failed or hung call). */
    public java.util.Set<String> migUnreadable() {
        return migUnreadable;
    }

    /** Runs one driver call on GPU {@code index}'s own thread with the call deadline. */
    public <T> DeviceCallGuard.Outcome<T> call(int index, String what, java.util.concurrent.Callable<T> call) {
        return guards.get(index).call(what, call, callTimeout);
    }

    /** The driver, for calls made through {@link #call}. */
    public GpuDriver driver() {
        return driver;
    }

    static String describe(DeviceCallGuard.Outcome<?> o) {
        if (o instanceof DeviceCallGuard.Outcome.Failed<?> f) {
            return f.error().getMessage();
        }
        if (o instanceof DeviceCallGuard.Outcome.Hung<?> h) {
            return h.reason();
        }
        return "ok";
    }

    @Override
    public java.util.Map<String, MigState> migStates() {
        return mig;
    }

    @Override
    public GpuTopology topology() {
        return topology;
    }

    /** Starts the sampler and the event watcher. */
    public void start() {
        sampler.start();
        if (watcher != null) {
            watcher.start();
        }
    }

    @Override
    public GpuInventory inventory() {
        return inventory;
    }

    @Override
    public TelemetrySampler.Snapshot samples() {
        return sampler.snapshot();
    }

    @Override
    public Duration sampleInterval() {
        return sampler.interval();
    }

    @Override
    public long sampleTicks() {
        return sampler.ticks();
    }

    @Override
    public long lastTickDurationNanos() {
        return sampler.lastTickDurationNanos();
    }

    @Override
    public GpuHealthState healthOf(String uuid) {
        return health.state(uuid);
    }

    @Override
    public List<GpuHealthState> healthStates() {
        return health.all();
    }

    @Override
    public List<GpuHealthState> instanceHealthStates() {
        return health.instances();
    }

    @Override
    public java.util.Map<String, java.util.Map<Long, Long>> xidCounts() {
        return health.xidCounts();
    }

    public GpuHealthRegistry health() {
        return health;
    }

    public TelemetrySampler sampler() {
        return sampler;
    }

    /** GPUs whose XID/ECC events are being watched (empty until the event set is open, or when off). */
    public java.util.Set<Integer> watchedDevices() {
        return watcher == null ? java.util.Set.of() : watcher.watchedDevices();
    }

    @Override
    public GpuCallStats callStats() {
        return stats;
    }

    /** Whether a driver call on some GPU is still stuck past its deadline (it has not returned yet). */
    public boolean callHung() {
        return guards.stream().anyMatch(DeviceCallGuard::isHung);
    }

    /** Stops in reverse start order; returns false when something did not stop within the timeout. */
    public boolean stop(Duration timeout) throws InterruptedException {
        boolean clean = true;
        if (watcher != null && !watcher.stop(timeout)) {
            log.warn("the health-event thread did not stop within {} ms", timeout.toMillis());
            clean = false;
        }
        if (!sampler.stop(timeout)) {
            log.warn("the sampler did not finish its tick within {} ms", timeout.toMillis());
            clean = false;
        }
        boolean hung = callHung();
        guards.forEach(DeviceCallGuard::close);
        if (hung) {
            log.warn("an NVML call is still hung: not calling nvmlShutdown under it");
            clean = false;
        } else {
            driver.close();
        }
        return clean;
    }

    @Override
    public void close() {
        try {
            stop(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
