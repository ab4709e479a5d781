package io.gpuagent.session;

import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerRuntime;
import io.gpuagent.journal.Journal;
import io.gpuagent.journal.JournalException;
import io.gpuagent.journal.JournalRecord;
import io.gpuagent.util.Clock;
import io.gpuagent.util.NamedThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Renters' sessions: the one door to the session rooms, each with one job (docs/architecture.md):
 * <ul>
 *   <li>{@link SessionTable}: the one owner of mutable session state, journaling each change
 *       before applying it;</li>
 *   <li>{@link SessionJournal}: the records, replay after a restart, snapshots;</li>
 *   <li>{@link Reconciler}: the journal against the engine's containers after a restart;</li>
 *   <li>{@link Launcher} and {@link Stopper}: the engine work of a launch and of a stop, on their
 *       own bounded pools ({@code gpu-agent-launch}, {@code gpu-agent-stop});</li>
 *   <li>{@link SessionMeter}: the 1 Hz tick (billing, expiry, the credit limit, the live meter);</li>
 *   <li>{@link EngineWatch}: the engine checks and usage reads, off the meter's thread;</li>
 *   <li>{@link UsageAttributor}: resource usage per session;</li>
 *   <li>{@link Settler}: the end of a session, billed from the engine's own times;</li>
 *   <li>{@link SessionCounters}: launches and failures for the metrics.</li>
 * </ul>
 * Start order: {@link #recover}, {@link #reconcile}, then ticks; {@link #close} stops the pools
 * (running containers are never touched).
 */
public final class SessionCore implements ReadOnlySessions, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SessionCore.class);
    /** Usage reads at once: Docker answers each about a second later, so a GPU host's sessions are read together. */
    static final int USAGE_READERS = 8;

    private final SessionTable table;
    private final Launcher launcher;
    private final Stopper stopper;
    private final SessionMeter meter;
    private final Reconciler reconciler;
    private final SessionCounters counters;
    private final ThreadPoolExecutor launchPool;
    private final ThreadPoolExecutor stopPool;
    /** The engine check's thread and the usage readers, when this core made them (null: the builder's). */
    private final ExecutorService ownChecks;
    private final ExecutorService ownReads;
    private final Clock clock;
    private final EngineWatch engine;

    private SessionCore(Builder b) {
        launchPool = new ThreadPoolExecutor(b.launchThreads, b.launchThreads, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(b.launchQueue), new NamedThreadFactory("gpu-agent-launch", true),
                new ThreadPoolExecutor.AbortPolicy());
        stopPool = new ThreadPoolExecutor(b.stopThreads, b.stopThreads, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(b.stopQueue), new NamedThreadFactory("gpu-agent-stop", true), (task, pool) -> {
                    log.warn("the stop queue is full ({} waiting): stopping on the caller's thread", b.stopQueue);
                    if (!pool.isShutdown()) {
                        task.run();
                    }
                });
        SessionJournal journal = new SessionJournal(b.journal, b.fatal);
        counters = new SessionCounters();
        table = new SessionTable(journal, b.gpus, b.ports, b.clock, b.epoch);
        Settler settler = new Settler(table, b.runtime, counters, b.listener);
        stopper = new Stopper(table, b.runtime, settler, b.listener, stopPool, b.stopGrace);
        ownChecks = b.engineChecks == null ? Executors.newSingleThreadExecutor(
                new NamedThreadFactory("gpu-agent-engine-check", true)) : null;
        ownReads = b.usageReads == null ? Executors.newFixedThreadPool(USAGE_READERS,
                new NamedThreadFactory("gpu-agent-usage", true)) : null;
        engine = new EngineWatch(table, b.runtime, settler, stopper, new UsageAttributor(table, b.runtime, b.gpuUsage),
                ownChecks != null ? ownChecks : b.engineChecks, ownReads != null ? ownReads : b.usageReads);
        launcher = new Launcher(table, journal, b.runtime, b.policy, settler, stopper, counters, b.listener, launchPool,
                b.launchThreads + b.launchQueue, b.machineGpus, b.epoch, engine::problem);
        meter = new SessionMeter(table, journal, stopper, engine, b.listener, b.payments, b.creditLimitSeconds);
        clock = b.clock;
        reconciler = new Reconciler(table, b.runtime, settler, stopper, b.listener);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** What {@link #reconcile} did, for the start-up log and tests. */
    public record ReconcileReport(List<String> adopted, List<String> settled, List<String> failed, List<String> strays) {
    }

    /** Rebuilds the table from the journal's records (in order); other layers' record types are skipped. */
    public void recover(List<JournalRecord> records) throws IOException {
        table.recover(records);
    }

    /** Diffs the journal's sessions with the engine's containers and acts on every difference; once, before READY. */
    public ReconcileReport reconcile() throws ContainerException {
        Instant asked = clock.wallTime();
        ReconcileReport report = reconciler.reconcile();
        engine.confirmed(asked); // the engine listed every container: the live meter may bill on from here
        return report;
    }

    /**
     * Why renting is unavailable because of the container engine (its last look failed), in words
     * for the operator; empty while it answers. Launches are refused {@code engine_unavailable}
     * meanwhile; the offer and {@code /readyz} say so.
     */
    public Optional<String> engineProblem() {
        return engine.problem();
    }

    /** Writes the table as a journal snapshot and lets the journal drop older segments. */
    public void compact() throws JournalException {
        table.compact();
    }

    /**
     * Accepts a launch, journals its intent and starts it in the background. Idempotent by
     * session id: a retried launch returns the existing session and never starts a second
     * container.
     */
    public SessionView launch(LaunchRequest r) throws SessionException {
        return launcher.launch(r);
    }

    /** Stops a session for the scheduler (idempotent): SIGTERM, the grace period, SIGKILL; billing from the engine's times. */
    public SessionView stop(String sessionId, String reason) throws SessionException {
        return stopper.stop(sessionId, EndReason.STOPPED, reason);
    }

    /**
     * Ends the sessions on a unit that failed, with a reason the renter sees: for a MIG instance
     * ({@code MIG-...}) the one holding it; for a GPU every session on it, whole or on one of its
     * MIG instances. Nothing when the unit is free.
     */
    public void onGpuFailed(String unitUuid, String why) {
        for (String id : table.sessionsOn(unitUuid)) {
            stopper.stopQuietly(id, EndReason.GPU_FAILED, "gpu_failed: " + (unitUuid.startsWith("MIG-")
                    ? "MIG instance " : "GPU ") + unitUuid + " " + why);
        }
    }

    /** Pulls images in the background so that launches of them are instant. */
    public void prepull(List<String> images) {
        launcher.prepull(images);
    }

    /** One meter tick now (tests; the daemon's last tick at shutdown). */
    public void tick() {
        meter.tick(clock.wallTime());
    }

    /**
     * One meter tick at {@code scheduled}, the tick's planned instant: the daemon's meter thread
     * passes its start plus a whole number of seconds, so every session's billed seconds rise by
     * exactly one per tick, also when the thread runs late (late ticks catch up, one second each).
     */
    public void tick(Instant scheduled) {
        meter.tick(scheduled);
    }

    public void drain(boolean on) {
        launcher.drain(on);
    }

    @Override
    public boolean draining() {
        return launcher.draining();
    }

    @Override
    public List<SessionView> list() {
        return table.all().stream().map(Session::view).toList();
    }

    @Override
    public Optional<SessionView> get(String id) {
        return table.get(id).map(Session::view);
    }

    @Override
    public Map<String, Long> launchCounts() {
        return counters.launches();
    }

    @Override
    public Map<String, Long> failureCounts() {
        return counters.failures();
    }

    /** Stops the launch and stop pools; tasks in flight finish, running containers are untouched. */
    @Override
    public void close() {
        launchPool.shutdown();
        stopPool.shutdown();
        if (ownChecks != null) {
            ownChecks.shutdown();
        }
        if (ownReads != null) {
            ownReads.shutdown();
        }
    }

    /**
     * What the session core needs. Required: runtime, journal, policy, gpus, ports, clock,
     * listener, fatal. The rest have defaults.
     */
    public static final class Builder {
        private ContainerRuntime runtime;
        private Journal journal;
        private LaunchPolicy policy;
        private GpuAllocator gpus;
        private PortAllocator ports;
        private Clock clock;
        private long epoch;
        private int machineGpus;
        private Duration stopGrace = Duration.ofSeconds(10);
        private SessionListener listener = SessionListener.NONE;
        private Consumer<Throwable> fatal;
        private PaymentGate payments = PaymentGate.NONE;
        private long creditLimitSeconds;
        private GpuUsageSource gpuUsage = GpuUsageSource.NONE;
        private int launchThreads = 4;
        private int launchQueue = 64;
        private int stopThreads = 2;
        private int stopQueue = 256;
        private Executor engineChecks;
        private Executor usageReads;

        private Builder() {
        }

        public Builder runtime(ContainerRuntime r) {
            runtime = r;
            return this;
        }

        public Builder journal(Journal j) {
            journal = j;
            return this;
        }

        public Builder policy(LaunchPolicy p) {
            policy = p;
            return this;
        }

        /** The machine's GPUs and who holds them; {@code machineGpus} is their number for the policy. */
        public Builder gpus(GpuAllocator g, int machineGpus) {
            gpus = g;
            this.machineGpus = machineGpus;
            return this;
        }

        public Builder ports(PortAllocator p) {
            ports = p;
            return this;
        }

        public Builder clock(Clock c) {
            clock = c;
            return this;
        }

        /** This agent process's epoch (a container label): tells which start created a container. */
        public Builder epoch(long e) {
            epoch = e;
            return this;
        }

        /** Between SIGTERM and SIGKILL when a session stops (default 10 s). */
        public Builder stopGrace(Duration d) {
            stopGrace = d;
            return this;
        }

        /** Told about every session change, outside every lock. */
        public Builder listener(SessionListener l) {
            listener = l;
            return this;
        }

        /** Called with a fatal journal failure (fsync): the daemon exits so that systemd restarts it. */
        public Builder fatal(Consumer<Throwable> f) {
            fatal = f;
            return this;
        }

        /**
         * Sessions whose metered seconds run more than {@code creditLimitSeconds} ahead of what
         * their vouchers pay are ended ({@code payment_overdue}); the provider's loss is bounded
         * by the limit. Default: no vouchers, never overdue.
         */
        public Builder payments(PaymentGate gate, long creditLimitSeconds) {
            payments = gate;
            this.creditLimitSeconds = creditLimitSeconds;
            return this;
        }

        /** Where per-GPU utilization and processes come from (the daemon's sampler). */
        public Builder gpuUsage(GpuUsageSource source) {
            gpuUsage = source;
            return this;
        }

        /**
         * Where the meter's engine checks run and where their usage reads run side by side; by
         * default a thread of its own ({@code gpu-agent-engine-check}) and {@value #USAGE_READERS}
         * readers ({@code gpu-agent-usage}). Tests pass {@code Runnable::run} for both to have a
         * check done when the tick that starts it returns.
         */
        public Builder engineExecutors(Executor checks, Executor reads) {
            engineChecks = Objects.requireNonNull(checks, "checks");
            usageReads = Objects.requireNonNull(reads, "reads");
            return this;
        }

        /** Launch threads and how many more launches may wait for one (defaults 4 and 64). */
        public Builder launchPool(int threads, int queue) {
            launchThreads = positive("launch threads", threads);
            launchQueue = positive("launch queue", queue);
            return this;
        }

        public SessionCore build() {
            Objects.requireNonNull(runtime, "runtime");
            Objects.requireNonNull(journal, "journal");
            Objects.requireNonNull(policy, "policy");
            Objects.requireNonNull(gpus, "gpus");
            Objects.requireNonNull(ports, "ports");
            Objects.requireNonNull(clock, "clock");
            Objects.requireNonNull(listener, "listener");
            Objects.requireNonNull(fatal, "fatal");
            Objects.requireNonNull(payments, "payments");
            Objects.requireNonNull(gpuUsage, "gpuUsage");
            return new SessionCore(this);
        }

        private static int positive(String what, int n) {
            if (n < 1) {
                throw new IllegalArgumentException(what + " must be at least 1: " + n);
            }
            return n;
        }
    }
}
