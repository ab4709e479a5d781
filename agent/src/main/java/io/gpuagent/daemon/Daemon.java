package io.gpuagent.daemon;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.daemon.systemd.SystemdNotifier;
import io.gpuagent.daemon.systemd.WatchdogFeeder;
import io.gpuagent.gpu.GpuDriver;
import io.gpuagent.gpu.GpuHealth;
import io.gpuagent.gpu.GpuHealthState;
import io.gpuagent.gpu.GpuMonitor;
import io.gpuagent.gpu.GpuUnavailableException;
import io.gpuagent.config.ConfigException;
import io.gpuagent.config.HostPort;
import io.gpuagent.metrics.MetricsEndpoint;
import io.gpuagent.metrics.http.MetricsHttpServer;
import io.gpuagent.metrics.http.MetricsServerException;
import io.gpuagent.util.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The running agent. Start order (each step needs the ones before it; docs/architecture.md):
 * <ol>
 *   <li>with sessions or escrow: the state directory made private ({@link StateDirectory}: 0700,
 *       what an older agent left readable narrowed) &mdash; failure is fatal with the fix;</li>
 *   <li>open the GPU driver (NVML) &mdash; failure is fatal with a clear message;</li>
 *   <li>the GPU layer ({@link GpuMonitor}): the inventory, then the sampler and the health watcher;</li>
 *   <li>with escrow: the wallet, the escrow store (recovered) and the claim worker;</li>
 *   <li>with sessions ({@link SessionService}): the journal replayed, Docker reached, the session
 *       core rebuilt and reconciled with the engine's containers, then the meter; the escrow hears
 *       of every session, and the control socket opens;</li>
 *   <li>the scheduler link (listen and/or dial-out), with its events hooked to sessions, GPU health
 *       and claims;</li>
 *   <li>the operator endpoint ({@link MetricsHttpServer}): {@code /readyz} says 503 until the next step;</li>
 *   <li>{@code READY=1} to systemd, then the watchdog, fed while the sampler and the meter progress.</li>
 * </ol>
 * Three things that take long on a cold JVM run beside that order on threads of their own, each
 * joined at its step: the Docker client's first call (begun before NVML is opened), the wallet's
 * scrypt with the escrow store, and the scheduler link's TLS contexts.
 * {@link #stop()} runs in reverse: {@code STOPPING=1}, the watchdog, the operator endpoint, the
 * scheduler link, the control socket, the sessions (a last meter tick, the journal closed; renters'
 * containers keep running), the escrow, the GPU layer; each step within the drain timeout, saying
 * which one timed out.
 *
 * <p>Why this class is longer than 400 lines: it is the start order above and its reverse, each
 * step with the rollback of the steps before it when it fails; the steps' own work lives in their
 * classes ({@link SessionService}, {@code SchedulerLinkFactory}, the escrow and GPU layers). Split
 * across files, the order, the joins of the background starts and the rollback would no longer
 * read as the one sequence they are.
 */
public final class Daemon {
    /** Opens the GPU driver; NVML in production, swappable in tests. */
    @FunctionalInterface
    public interface DriverFactory {
        GpuDriver open(String library) throws GpuUnavailableException;
    }

    /**
     * Who makes the sampler tick: its own thread every interval (with the event watcher on its own),
     * or the caller, with neither thread started (tests drive each tick).
     */
    enum Sampling { ON_ITS_THREAD, BY_THE_CALLER }

    private static final Logger log = LoggerFactory.getLogger(Daemon.class);

    private final AgentConfig config;
    private final Clock clock;
    private final SystemdNotifier notifier;
    private final Map<String, String> env;
    private final DriverFactory drivers;
    private final Sampling sampling;
    private GpuMonitor gpus;
    private MetricsHttpServer metrics;
    private SessionService sessions;
    private ControlSocket control;
    private io.gpuagent.market.netty.MarketLink market;
    private io.gpuagent.escrow.Payouts payouts;
    /** Set by the start-up thread once the escrow is up; read by the meter's thread. */
    private volatile EscrowBridge escrow;
    private WatchdogFeeder watchdog;
    private volatile String notReady = "starting";

    /** Why {@code /readyz} is not 200: starting, stopping, or renting impossible because the engine does not answer. */
    private Optional<String> notReadyReason() {
        String n = notReady;
        if (n != null) {
            return Optional.of(n);
        }
        SessionService s = sessions;
        return s == null ? Optional.empty() : s.manager().engineProblem();
    }
    /** Set by the start-up thread when the Docker connection is given to the session service. */
    private boolean dockerHandedOver;

    /** The agent for this configuration; nothing starts before {@link #start()}. */
    public Daemon(AgentConfig config, Clock clock, SystemdNotifier notifier, Map<String, String> env, DriverFactory drivers) {
        this(config, clock, notifier, env, drivers, Sampling.ON_ITS_THREAD);
    }

    /**
     * With {@link Sampling#BY_THE_CALLER} the GPU layer starts no thread: a test on a manual clock
     * calls {@code gpus().sampler().tick()} itself, and no tick of the sampler's thread, due at real
     * times, lands between the test's steps and stamps the clock the test has just moved.
     */
    Daemon(AgentConfig config, Clock clock, SystemdNotifier notifier, Map<String, String> env, DriverFactory drivers,
           Sampling sampling) {
        this.config = config;
        this.clock = clock;
        this.notifier = notifier;
        this.env = env;
        this.drivers = drivers;
        this.sampling = sampling;
    }

    /** Starts the components in the order above; throws the failing step's typed exception. */
    public void start() throws GpuUnavailableException, MetricsServerException, SessionService.SessionStartException,
            io.gpuagent.market.MarketException, EscrowStartException, io.gpuagent.gpu.MigLayoutException,
            StateDirectory.StateDirectoryException {
        long t0 = clock.monotonicNanos();
        // the Docker client's first call runs beside NVML's start and the journal's replay
        java.util.concurrent.CompletableFuture<SessionService.Engine> docker =
                config.sessions().enabled() ? SessionService.connect(config) : null;
        try {
            startAll(t0, docker);
        } catch (Exception | Error e) { // rethrown as precisely as startAll throws it
            if (docker != null && !dockerHandedOver) {
                docker.thenAccept(x -> x.runtime().close()); // the start failed before the sessions took it
            }
            throw e;
        }
    }

    private void startAll(long t0, java.util.concurrent.CompletableFuture<SessionService.Engine> docker)
            throws GpuUnavailableException, MetricsServerException, SessionService.SessionStartException,
            io.gpuagent.market.MarketException, EscrowStartException, io.gpuagent.gpu.MigLayoutException,
            StateDirectory.StateDirectoryException {
        if (config.sessions().enabled() || config.escrow().enabled()) {
            // before the journal, the escrow store and the control socket write anything into it
            StateDirectory.prepare(java.nio.file.Path.of(config.agent().stateDir()));
        }
        notifier.status("opening NVML");
        GpuDriver driver = drivers.open(config.gpu().nvmlLibrary());
        var info = driver.driverInfo();
        log.info("NVML {} (driver {}, CUDA {}) from {}{}", info.nvmlVersion(), info.driverVersion(),
                info.cudaDriverVersion(), info.library(), info.simulated() ? " [SIMULATED: never sold as real]" : "");
        notifier.status("probing " + driver.deviceCount() + " GPUs");
        gpus = GpuMonitor.open(driver, clock, Duration.ofMillis(config.gpu().sampleIntervalMs()),
                Duration.ofMillis(config.gpu().callTimeoutMs()), config.gpu().healthEvents());
        if (sampling == Sampling.ON_ITS_THREAD) {
            gpus.start();
        }
        gpus.inventory().gpus().forEach(d -> log.info("GPU {}: {} {} {} {} MiB, CC {}", d.index(), d.name(), d.uuid(),
                d.pciBusId(), d.memoryTotalBytes() / (1024 * 1024), d.computeCapability()));
        gpus.health().addListener((prev, cur) -> notifier.status(statusLine()));
        java.util.Map<String, java.util.List<String>> layouts = config.gpu().migLayoutMap();
        io.gpuagent.gpu.MigConfigurator mig = new io.gpuagent.gpu.MigConfigurator(gpus);
        mig.validate(layouts); // a layout that can never be made stops the start before anything changes

        // the wallet's scrypt and the escrow store open beside the sessions' start (journal replay,
        // Docker, reconciliation): on two cores that takes the wallet's time off the way to READY
        java.util.concurrent.CompletableFuture<io.gpuagent.escrow.Payouts> escrowStart = null;
        if (config.escrow().enabled()) {
            notifier.status("opening the wallet and the escrow store");
            escrowStart = StartThread.run("gpu-agent-escrow-start", this::startPayouts);
        }
        // the scheduler link's TLS contexts (the JDK's TLS classes, keys, PKIX checks: a third of a
        // second on a cold JVM) are made beside the sessions' start too
        java.util.concurrent.CompletableFuture<SchedulerLinkFactory.Prepared> tlsStart = null;
        if (config.market().enabled()) {
            tlsStart = StartThread.run("gpu-agent-tls-start", () -> SchedulerLinkFactory.prepare(config, clock));
        }
        if (config.sessions().enabled()) {
            try {
                // the credit limit counts from the first tick after the escrow is up (about when the meter starts)
                dockerHandedOver = true; // from here the session service closes it on every path
                sessions = SessionService.start(config, docker, gpus, clock, Daemon::fatal, notifier::status,
                        escrowStart == null ? io.gpuagent.session.PaymentGate.NONE : this::paidSeconds,
                        escrowStart != null ? config.escrow().creditLimitS() : 0);
            } catch (SessionService.SessionStartException e) {
                if (escrowStart != null) {
                    escrowStart.thenAccept(io.gpuagent.escrow.Payouts::close); // its worker must not outlive the failed start
                }
                throw e;
            }
        }
        if (escrowStart != null) {
            try {
                payouts = escrowStart.join();
            } catch (java.util.concurrent.CompletionException e) {
                throw new EscrowStartException("cannot start the escrow: " + e.getCause().getMessage(), e.getCause());
            }
            escrow = new EscrowBridge(payouts, config.escrow().token(), config.escrow().chainId(),
                    config.escrow().contract());
            log.info("payouts go to {} (escrow {} on chain {} via {})", payouts.payoutAddress(), config.escrow().contract(),
                    config.escrow().chainId(), config.escrow().rpcUrl());
        }

        if (!layouts.isEmpty() && sessions == null) {
            // without the sessions the agent cannot know which instances renters' containers still use
            log.warn("gpu.mig_layouts is set but sessions.enabled = false: the layouts are not applied");
        } else if (!layouts.isEmpty()) {
            notifier.status("applying MIG layouts");
            sessions.applyMigLayouts(mig, layouts, gpus);
        }
        if (sessions != null) {
            if (escrow != null) {
                sessions.addListener(escrow);
                // after a restart: running sessions are claimed periodically again, ended ones finally
                sessions.manager().list().forEach(escrow::onChange);
            }
            try {
                control = ControlSocket.start(java.nio.file.Path.of(config.agent().stateDir()), sessions.manager());
            } catch (java.io.IOException e) {
                log.warn("no control socket in {} ({}): gpu-agent drain/undrain will not reach this agent",
                        config.agent().stateDir(), e.toString());
            }
        } else {
            log.info("sessions.enabled = false: no renting; probing, sampling and metrics only");
        }

        if (config.market().enabled()) {
            notifier.status("connecting the scheduler link");
            SchedulerLinkFactory.Prepared tls = StartThread.join(tlsStart, io.gpuagent.market.MarketException.class);
            market = SchedulerLinkFactory.start(config, tls, gpus, sessions, escrow, clock,
                    AgentVersion.version(), hostname(), Long.toString(clock.wallTime().toEpochMilli()));
        } else {
            log.info("market.listen and market.dial are empty: no scheduler link (this host takes no rentals from a marketplace)");
        }

        if (config.metrics().enabled()) {
            HostPort listen;
            try {
                listen = HostPort.parse("metrics.listen", config.metrics().listen());
            } catch (ConfigException e) {
                throw new IllegalStateException("validated configuration has a bad metrics.listen", e);
            }
            MetricsEndpoint endpoint = new MetricsEndpoint(gpus, clock, AgentVersion.version(), hostname(),
                    this::notReadyReason, true);
            if (sessions != null) {
                endpoint.addSessions(sessions.manager(), sessions.journal().stats());
            }
            if (market != null) {
                endpoint.addMarket(market.stats(), market.hub()::size);
                if (market.streams() != null) {
                    endpoint.addStreams(market.streams().stats());
                }
            }
            if (payouts != null) {
                endpoint.addEscrow(payouts::stats, payouts.payoutAddress());
            }
            metrics = MetricsHttpServer.start(listen.host(), listen.port(), (int) config.metrics().maxConnections(),
                    Duration.ofMillis(config.metrics().requestTimeoutMs()), endpoint);
        }

        Optional<Duration> wd = WatchdogFeeder.periodFrom(env, ProcessHandle.current().pid());
        if (wd.isPresent()) {
            watchdog = new WatchdogFeeder(notifier, wd.get(), this::progressing);
            watchdog.start();
        }
        notReady = null;
        long ms = (clock.monotonicNanos() - t0) / 1_000_000;
        log.info("ready in {} ms: {}", ms, statusLine());
        notifier.ready(statusLine());
    }

    /**
     * True while the sampler completes ticks (the last one ended within two intervals plus one call
     * timeout: a hung GPU costs a tick at most one timeout, so it does not count as stuck) and,
     * with sessions, the meter has ticked and committed the journal within 5 s.
     */
    boolean progressing() {
        long allowed = 2 * gpus.sampler().interval().toNanos() + gpus.sampler().callTimeout().toNanos();
        boolean sampling = clock.monotonicNanos() - gpus.sampler().lastTickNanos() <= allowed;
        // with sessions, the meter (and its journal commit) must tick too: a wedged journal must restart us
        return sampling && (sessions == null || sessions.progressing());
    }

    private io.gpuagent.escrow.Payouts startPayouts() throws io.gpuagent.escrow.WalletException, java.io.IOException {
        return io.gpuagent.escrow.web3j.Web3jPayouts.start(config.escrow(), java.nio.file.Path.of(config.agent().stateDir()),
                clock);
    }

    /** The sessions' payment gate: empty (never overdue) until the escrow is up. */
    private java.util.OptionalLong paidSeconds(String rentalId) {
        EscrowBridge e = escrow;
        return e == null ? java.util.OptionalLong.empty() : e.paidSeconds(rentalId);
    }

    /** The wallet or the escrow store cannot be opened: the owner must act (exit code 3). */
    public static final class EscrowStartException extends Exception {
        EscrowStartException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A failure the agent cannot continue after (journal fsync): exit so that systemd restarts it. */
    static void fatal(Throwable t) {
        log.error("fatal: {}; exiting with code {} so that systemd restarts the agent", t.getMessage(), ExitCodes.FATAL);
        new Thread(() -> System.exit(ExitCodes.FATAL), "gpu-agent-fatal-exit").start();
    }

    String statusLine() {
        long healthy = gpus.health().all().stream().filter(s -> s.health() == GpuHealth.HEALTHY).count();
        StringBuilder sb = new StringBuilder();
        sb.append("serving ").append(gpus.inventory().gpus().size()).append(" GPUs, ").append(healthy).append(" healthy");
        if (sessions != null) {
            long running = sessions.manager().list().stream()
                    .filter(v -> v.state() == io.gpuagent.session.SessionState.RUNNING).count();
            sb.append(", ").append(running).append(" sessions running");
            if (sessions.manager().draining()) {
                sb.append(" (draining)");
            }
        }
        if (market != null) {
            sb.append(", ").append(market.hub().size()).append(" schedulers connected");
        }
        for (GpuHealthState s : gpus.health().all()) {
            if (s.health() != GpuHealth.HEALTHY) {
                sb.append("; GPU ").append(s.index()).append(' ').append(s.health()).append(": ").append(s.reason());
            }
        }
        return sb.toString();
    }

    /** The scheduler link's listening address, when it listens. */
    Optional<java.net.InetSocketAddress> marketAddress() {
        return market == null ? Optional.empty() : market.listenAddress();
    }

    GpuMonitor gpus() {
        return gpus;
    }

    /** The metrics endpoint's address, when it runs (port 0 in tests binds a free one). */
    Optional<java.net.InetSocketAddress> metricsAddress() {
        return Optional.ofNullable(metrics).map(MetricsHttpServer::localAddress);
    }

    /** The host's name for the Hostname label: agent.host_id, else the machine's hostname. */
    String hostname() {
        if (!config.agent().hostId().isEmpty()) {
            return config.agent().hostId();
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            String env = this.env.get("HOSTNAME");
            return env != null && !env.isEmpty() ? env : "localhost";
        }
    }

    /** Stops in reverse start order; returns false when a step hit its timeout. */
    public boolean stop() {
        Duration timeout = Duration.ofMillis(config.shutdown().drainTimeoutMs());
        notifier.stopping("draining");
        notReady = "stopping";
        boolean clean = true;
        if (watchdog != null) {
            watchdog.close();
        }
        if (metrics != null) {
            try {
                if (!metrics.stop(timeout)) {
                    log.warn("metrics endpoint did not stop within {} ms", timeout.toMillis());
                    clean = false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                clean = false;
            }
        }
        if (market != null) {
            try {
                if (!market.stop(timeout)) {
                    log.warn("scheduler link did not stop within {} ms", timeout.toMillis());
                    clean = false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                clean = false;
            }
        }
        if (control != null) {
            control.close();
        }
        if (sessions != null) {
            try {
                if (!sessions.stop(timeout)) {
                    log.warn("the meter did not stop within {} ms", timeout.toMillis());
                    clean = false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                clean = false;
            }
        }
        if (payouts != null) {
            payouts.close(); // a claim in flight stays persisted and resumes at the next start
        }
        if (gpus != null) {
            try {
                if (!gpus.stop(timeout)) {
                    log.warn("GPU layer did not stop cleanly (see the warnings above)");
                    clean = false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                clean = false;
            }
        }
        log.info("stopped{}", clean ? "" : " (some steps timed out)");
        return clean;
    }
}
