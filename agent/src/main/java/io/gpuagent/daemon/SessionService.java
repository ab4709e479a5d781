package io.gpuagent.daemon;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerRuntime;
import io.gpuagent.container.docker.DockerContainerRuntime;
import io.gpuagent.container.docker.DockerSettings;
import io.gpuagent.gpu.GpuHealth;
import io.gpuagent.gpu.GpuMonitor;
import io.gpuagent.journal.JournalRecord;
import io.gpuagent.journal.Journal;
import io.gpuagent.session.GpuAllocator;
import io.gpuagent.session.LaunchPolicy;
import io.gpuagent.session.PortAllocator;
import io.gpuagent.session.SessionListener;
import io.gpuagent.session.PaymentGate;
import io.gpuagent.session.SessionCore;
import io.gpuagent.util.Clock;
import io.gpuagent.util.NamedThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Renters' sessions as the daemon runs them. Start order: open the journal (replaying it) &rarr;
 * connect to Docker &rarr; rebuild the session table &rarr; reconcile with the engine's containers
 * &rarr; the 1 Hz meter ({@code gpu-agent-meter}). Only then may the daemon report READY.
 * {@link #stop} stops the meter with a last group commit and closes the journal; it never stops
 * a renter's container.
 */
public final class SessionService {
    private static final Logger log = LoggerFactory.getLogger(SessionService.class);

    private final Journal journal;
    private final ContainerRuntime runtime;
    private final SessionCore manager;
    private final ScheduledExecutorService meter;
    private final Clock clock;
    /** Monotonic time the meter last completed a tick (its group commit included). */
    private final java.util.concurrent.atomic.AtomicLong lastTickNanos;

    private final ListenerList listeners;
    private final GpuAllocator allocator;

    private SessionService(Journal journal, ContainerRuntime runtime, SessionCore manager,
                           ScheduledExecutorService meter, Clock clock, java.util.concurrent.atomic.AtomicLong lastTick,
                           ListenerList listeners, GpuAllocator allocator) {
        this.listeners = listeners;
        this.allocator = allocator;
        this.journal = journal;
        this.runtime = runtime;
        this.manager = manager;
        this.meter = meter;
        this.clock = clock;
        this.lastTickNanos = lastTick;
    }

    /** True while the meter ticks (and so the journal commits): part of the watchdog's progress signal. */
    boolean progressing() {
        return clock.monotonicNanos() - lastTickNanos.get() <= Duration.ofSeconds(5).toNanos();
    }

    /** The engine, reached: its runtime and its {@code describe()} line, or why it could not be reached. */
    record Engine(ContainerRuntime runtime, String description, ContainerException failure) {
    }

    /**
     * Starts reaching the container engine on a thread of its own ({@code gpu-agent-docker-start}):
     * the Docker client's first call costs 0.3 s and more on a cold JVM (its classes, its JSON
     * mapper, the API version's negotiation), so the daemon begins it before it opens NVML and the
     * call runs beside the GPU layer's start and the journal's replay. Never fails: a failure comes
     * back in {@link Engine#failure} for {@link #start} to report.
     */
    static java.util.concurrent.CompletableFuture<Engine> connect(AgentConfig config) {
        return StartThread.run("gpu-agent-docker-start", () -> {
            ContainerRuntime runtime = new DockerContainerRuntime(new DockerSettings(Path.of(config.docker().socket()),
                    Duration.ofSeconds(5), Duration.ofMillis(config.docker().callTimeoutMs()), Duration.ofHours(2)));
            try {
                return new Engine(runtime, runtime.describe(), null);
            } catch (ContainerException e) {
                return new Engine(runtime, null, e);
            }
        });
    }

    /**
     * @param engine          the engine being reached ({@link #connect}, started by the caller)
     * @param payments        how far vouchers pay each rental ({@link PaymentGate#NONE} without escrow)
     * @param creditLimitSeconds how far metering may run ahead of the vouchers before a session ends
     */
    static SessionService start(AgentConfig config, java.util.concurrent.CompletableFuture<Engine> engine, GpuMonitor gpus,
                                Clock clock, Consumer<Throwable> fatal, Consumer<String> status, PaymentGate payments,
                                long creditLimitSeconds) throws SessionStartException {
        io.gpuagent.session.SessionLimits limits;
        io.gpuagent.session.HostResources host = io.gpuagent.session.HostResources.read();
        try {
            limits = io.gpuagent.session.SessionLimits.resolve(config.sessions(), host, gpus.inventory().gpus().size());
        } catch (io.gpuagent.config.ConfigException e) {
            engine.thenAccept(x -> x.runtime().close());
            throw new SessionStartException(e.getMessage(), e); // RunCommand exits 3: a configuration error
        }
        log.info("session limits: {} (this machine: {} CPUs, {} MiB, {} GPUs)", limits.describe(), host.cpus(),
                host.memoryBytes() / (1024 * 1024), gpus.inventory().gpus().size());
        Path dir = config.agent().journalDirectory();
        List<JournalRecord> records = new ArrayList<>();
        Journal journal;
        status.accept("replaying the journal in " + dir);
        try {
            journal = Journal.open(dir, clock, records::add);
        } catch (IOException e) {
            engine.thenAccept(x -> x.runtime().close());
            throw new SessionStartException("cannot open the journal in " + dir + ": " + e.getMessage()
                    + " (gpu-agent journal dump --dir " + dir + " shows what is readable)", e);
        }
        status.accept("connecting to Docker at " + config.docker().socket());
        Engine reached;
        try {
            reached = engine.join();
        } catch (java.util.concurrent.CompletionException e) {
            journal.close();
            throw new SessionStartException("cannot set up the Docker client for " + config.docker().socket() + ": "
                    + e.getCause(), e.getCause());
        }
        ContainerRuntime runtime = reached.runtime();
        if (reached.failure() == null) {
            log.info("container engine: {}", reached.description());
        } else {
            ContainerException e = reached.failure();
            runtime.close();
            journal.close();
            throw new SessionStartException("Docker does not answer at " + config.docker().socket() + " ("
                    + e.getMessage() + "): start it (systemctl start docker), check docker.socket in agent.toml "
                    + "and that the agent's user is in the docker group; or set sessions.enabled = false to run "
                    + "without renting", e);
        }
        List<String> uuids = gpus.inventory().gpus().stream().map(d -> d.uuid()).toList();
        // whole GPUs and the MIG instances that exist now, before reconciliation adopts containers' units
        GpuAllocator allocator = new GpuAllocator(io.gpuagent.session.UnitLayout.of(gpus.inventory(), gpus.migStates(),
                gpus.topology()), gpus.health()::isHealthy);
        int[] range = config.sessions().portBounds();
        // listeners join later (the scheduler link starts after reconciliation): fan out to whoever registered
        ListenerList listeners = new ListenerList();
        SessionCore manager = SessionCore.builder()
                .runtime(runtime)
                .journal(journal)
                .policy(new LaunchPolicy(config.sessions(), io.gpuagent.session.CudaCheck.of(gpus.inventory()), limits))
                .gpus(allocator, uuids.size())
                .ports(new PortAllocator(range[0], range[1]))
                .clock(clock)
                .epoch(clock.wallTime().toEpochMilli())
                .stopGrace(Duration.ofMillis(config.sessions().stopGraceMs()))
                .listener(listeners)
                .fatal(fatal)
                .payments(payments, creditLimitSeconds)
                .gpuUsage(new io.gpuagent.session.GpuUsageSource() {
                    @Override
                    public Integer utilizationPercent(String uuid) {
                        var sample = gpus.sampler().snapshot().samples().get(uuid);
                        return sample == null ? null : sample.gpuUtilPercent();
                    }

                    @Override
                    public List<io.gpuagent.gpu.GpuProcess> processes(String uuid) {
                        var sample = gpus.sampler().snapshot().samples().get(uuid);
                        return sample == null ? List.of() : sample.processes();
                    }

                    @Override
                    public Long migMemoryUsedBytes(String migUuid) {
                        for (var sample : gpus.sampler().snapshot().samples().values()) {
                            for (io.gpuagent.gpu.MigSample m : sample.migInstances()) {
                                if (m.uuid().equals(migUuid)) {
                                    return m.memoryUsedBytes();
                                }
                            }
                        }
                        return null;
                    }
                })
                .build();
        try {
            manager.recover(records);
            status.accept("reconciling sessions with Docker");
            SessionCore.ReconcileReport r = manager.reconcile();
            log.info("reconciled {} journal records with Docker: adopted {}, settled {}, failed {}, strays removed {}",
                    records.size(), r.adopted(), r.settled(), r.failed(), r.strays());
        } catch (IOException | ContainerException e) {
            manager.close();
            runtime.close();
            journal.close();
            throw new SessionStartException("reconciling sessions failed: " + e.getMessage(), e);
        }
        manager.prepull(config.sessions().prepullImages());
        gpus.health().addListener((prev, cur) -> {
            if (cur.health() == GpuHealth.UNHEALTHY || cur.health() == GpuHealth.LOST) {
                manager.onGpuFailed(cur.uuid(), cur.health() + ": " + cur.reason());
            }
        });
        ScheduledExecutorService meter = Executors.newSingleThreadScheduledExecutor(
                new NamedThreadFactory("gpu-agent-meter", true));
        java.util.concurrent.atomic.AtomicLong lastTick = new java.util.concurrent.atomic.AtomicLong(clock.monotonicNanos());
        // each tick bills at its scheduled instant, start + k seconds: consecutive ticks are exactly a
        // second apart however late the thread runs (a late tick is caught up at once, as fixed rate does)
        java.time.Instant meterStart = clock.wallTime();
        java.util.concurrent.atomic.AtomicLong tickNumber = new java.util.concurrent.atomic.AtomicLong();
        meter.scheduleAtFixedRate(() -> {
            try {
                manager.tick(meterStart.plusSeconds(tickNumber.incrementAndGet()));
                lastTick.set(clock.monotonicNanos());
            } catch (RuntimeException e) {
                log.error("meter tick failed", e);
            }
        }, 1, 1, TimeUnit.SECONDS);
        return new SessionService(journal, runtime, manager, meter, clock, lastTick, listeners, allocator);
    }

    /** The units a launch could get now (the allocator's free ones), for the offer. */
    java.util.Set<String> freeUnits() {
        java.util.Set<String> free = new java.util.HashSet<>();
        allocator.free().forEach(u -> free.add(u.uuid()));
        return free;
    }

    /**
     * Applies the owner's MIG layouts after reconciliation (a GPU whose unit an adopted container
     * holds is left alone: the allocator's holds), then hands the allocator the units as they are now.
     */
    void applyMigLayouts(io.gpuagent.gpu.MigConfigurator mig, java.util.Map<String, List<String>> layouts,
                         GpuMonitor gpus) throws io.gpuagent.gpu.MigLayoutException {
        mig.apply(layouts, allocator.held());
        var conflicts = allocator.update(io.gpuagent.session.UnitLayout.of(gpus.inventory(), gpus.migStates(),
                gpus.topology()));
        if (!conflicts.isEmpty()) {
            log.error("the new GPU units conflict with sessions that hold units: {}", conflicts);
        }
    }

    /** Session changes fanned out to listeners that register after the manager exists. */
    static final class ListenerList implements SessionListener {
        private final java.util.List<SessionListener> list = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public void onChange(io.gpuagent.session.SessionView session) {
            for (SessionListener l : list) {
                try {
                    l.onChange(session);
                } catch (RuntimeException e) {
                    log.error("session listener failed on {}", session.sessionId(), e);
                }
            }
        }

        @Override
        public void onUsage(List<io.gpuagent.session.SessionView> metered) {
            for (SessionListener l : list) {
                try {
                    l.onUsage(metered);
                } catch (RuntimeException e) {
                    log.error("session listener failed on the meter's usage", e);
                }
            }
        }

        void add(SessionListener l) {
            list.add(l);
        }
    }

    /** Tells {@code l} about every later session change. */
    void addListener(SessionListener l) {
        listeners.add(l);
    }

    SessionCore manager() {
        return manager;
    }

    Journal journal() {
        return journal;
    }

    /** Stops metering (a last tick commits what is pending) and closes the journal; containers keep running. */
    boolean stop(Duration timeout) throws InterruptedException {
        meter.shutdown();
        boolean clean = meter.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
        manager.tick();
        manager.close();
        journal.close();
        runtime.close();
        return clean;
    }

    /** Sessions could not start; the daemon exits with a clear message. */
    public static final class SessionStartException extends Exception {
        SessionStartException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
