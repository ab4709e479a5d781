package io.gpuagent.session;

import io.gpuagent.container.ContainerConflictException;
import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerRuntime;
import io.gpuagent.container.ContainerSpec;
import io.gpuagent.container.ContainerState;
import io.gpuagent.metering.BillingRule;
import io.gpuagent.journal.JournalException;
import io.gpuagent.journal.JournalFatalException;
import io.gpuagent.journal.JournalRecord;
import io.gpuagent.journal.Journal;
import io.gpuagent.util.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;

/**
 * Renters' sessions: launch, stop, meter, reconcile. Every transition is journaled (durably)
 * before it takes effect; usage is journaled every tick for all sessions in one group commit;
 * billing comes from the engine's own start and finish times through {@link BillingRule}.
 *
 * <p>Threads: the table is guarded by this object's monitor and every engine call happens outside
 * it, on the launch executor (pull, create, start, stop) or on the meter thread ({@link #tick}).
 * After an agent restart, {@link #recover} rebuilds the table from the journal and
 * {@link #reconcile} diffs it with the engine's containers: running ones are adopted (metering
 * resumes from the engine's start time, so no second is lost or counted twice), those that ended
 * while the agent was down are settled from the engine's times, strays are removed.
 */
public final class SessionManager implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SessionManager.class);
    /** How often (in ticks) the engine is asked which containers still run. */
    static final int ENGINE_CHECK_EVERY = 5;
    static final int LOG_TAIL_LINES = 50;
    /** Ended sessions kept in a snapshot (and so in the table after a restart). */
    static final int KEEP_ENDED = 200;
    /** Engine checks between writable-layer size readings (a minute at 1 Hz). */
    static final int DISK_EVERY = 12;
    /** Ticks between journal compactions (an hour at 1 Hz). */
    static final int COMPACT_EVERY = 3600;

    private final ContainerRuntime runtime;
    private final Journal journal;
    private final LaunchPolicy policy;
    private final GpuAllocator gpus;
    private final PortAllocator ports;
    private final Clock clock;
    private final long epoch;
    private final int machineGpus;
    private final Duration stopGrace;
    private final ExecutorService launcher;
    private final SessionListener listener;
    private volatile PaymentGate payments = PaymentGate.NONE;
    private volatile long creditLimitSeconds;
    private final Consumer<Throwable> fatal;
    private final Map<String, Session> sessions = new LinkedHashMap<>();
    private volatile boolean draining;
    private volatile GpuUsageSource gpuUsage = GpuUsageSource.NONE;
    private final java.util.concurrent.ConcurrentMap<String, java.util.concurrent.atomic.LongAdder> launches =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.ConcurrentMap<String, java.util.concurrent.atomic.LongAdder> failures =
            new java.util.concurrent.ConcurrentHashMap<>();
    private long ticks;
    private boolean engineWarned;

    public SessionManager(ContainerRuntime runtime, Journal journal, LaunchPolicy policy, GpuAllocator gpus,
                          PortAllocator ports, Clock clock, long epoch, int machineGpus, Duration stopGrace,
                          ExecutorService launcher, SessionListener listener, Consumer<Throwable> fatal) {
        this.runtime = runtime;
        this.journal = journal;
        this.policy = policy;
        this.gpus = gpus;
        this.ports = ports;
        this.clock = clock;
        this.epoch = epoch;
        this.machineGpus = machineGpus;
        this.stopGrace = stopGrace;
        this.launcher = launcher;
        this.listener = listener;
        this.fatal = fatal;
    }

    /**
     * Ends sessions whose metered seconds run more than {@code creditLimitSeconds} ahead of what
     * their vouchers pay ({@code payment_overdue}); the provider's loss is bounded by the limit.
     */
    public SessionManager withPayments(PaymentGate gate, long creditLimitSeconds) {
        this.payments = gate;
        this.creditLimitSeconds = creditLimitSeconds;
        return this;
    }

    /** Where per-GPU utilization and processes come from (the daemon's sampler). */
    public SessionManager withGpuUsage(GpuUsageSource source) {
        this.gpuUsage = source;
        return this;
    }

    // ---- recovery -----------------------------------------------------------------------------

    /** Rebuilds the table from the journal's records (in order); unknown record types are skipped. */
    public synchronized void recover(List<JournalRecord> records) throws IOException {
        for (JournalRecord r : records) {
            if (r.isSnapshot()) {
                loadSnapshot(SessionSnapshot.decode(r.payload()));
                continue;
            }
            if (r.type() < SessionRecord.INTENT || r.type() > SessionRecord.END) {
                continue;
            }
            SessionRecord sr = SessionRecord.decode(r.payload());
            Session s = sessions.get(sr.session());
            switch (r.type()) {
                case SessionRecord.INTENT -> {
                    s = new Session(sr.request());
                    s.gpus = sr.gpus();
                    s.hostPorts = sr.hostPorts();
                    sessions.put(sr.session(), s);
                }
                case SessionRecord.STATE -> {
                    if (s != null) {
                        s.state = sr.to();
                        s.reason = sr.reason();
                        if (sr.containerId() != null) {
                            s.containerId = sr.containerId();
                        }
                        if (sr.startedAt() != null) {
                            s.startedAt = Instant.parse(sr.startedAt());
                        }
                    }
                }
                case SessionRecord.USAGE -> {
                    if (s != null) {
                        if (sr.usage() != null) {
                            s.usage = sr.usage();
                        }
                        s.billedSeconds = Math.max(s.billedSeconds, sr.billedSeconds());
                        if (sr.startedAt() != null) {
                            s.startedAt = Instant.parse(sr.startedAt());
                        }
                    }
                }
                case SessionRecord.END -> {
                    if (s != null) {
                        s.state = sr.to();
                        s.reason = sr.reason();
                        s.billedSeconds = sr.billedSeconds();
                        s.exitCode = sr.exitCode();
                        s.oomKilled = Boolean.TRUE.equals(sr.oomKilled());
                        s.finishedAt = sr.finishedAt() == null ? null : Instant.parse(sr.finishedAt());
                        s.logTail = sr.logTail() == null ? List.of() : sr.logTail();
                        if (sr.usage() != null) {
                            s.usage = sr.usage();
                        }
                    }
                }
                default -> {
                }
            }
        }
    }

    private void loadSnapshot(SessionSnapshot snap) {
        sessions.clear();
        for (SessionSnapshot.Entry e : snap.sessions()) {
            Session s = new Session(e.request());
            s.state = e.state();
            s.gpus = e.gpus() == null ? List.of() : e.gpus();
            s.hostPorts = e.hostPorts() == null ? List.of() : e.hostPorts();
            s.containerId = e.containerId();
            s.startedAt = e.startedAt() == null ? null : Instant.parse(e.startedAt());
            s.finishedAt = e.finishedAt() == null ? null : Instant.parse(e.finishedAt());
            s.billedSeconds = e.billedSeconds();
            s.basis = e.basis();
            s.reason = e.reason();
            s.exitCode = e.exitCode();
            s.oomKilled = e.oomKilled();
            s.logTail = e.logTail() == null ? List.of() : e.logTail();
            s.usage = e.usage() == null ? SessionUsage.NONE : e.usage();
            sessions.put(s.id(), s);
        }
    }

    /**
     * Writes the session table as a journal snapshot and lets the journal drop older segments.
     * Runs under the table's monitor, so the snapshot covers every record appended before it.
     */
    public synchronized void compact() throws JournalException {
        List<Session> ended = sessions.values().stream().filter(s -> s.state.terminal()).toList();
        List<Session> keepEnded = ended.subList(Math.max(0, ended.size() - KEEP_ENDED), ended.size());
        List<SessionSnapshot.Entry> entries = new ArrayList<>();
        for (Session s : sessions.values()) {
            if (s.state.terminal() && !keepEnded.contains(s)) {
                continue;
            }
            entries.add(new SessionSnapshot.Entry(s.request, s.state, s.gpus, s.hostPorts, s.containerId,
                    s.startedAt == null ? null : s.startedAt.toString(), s.finishedAt == null ? null : s.finishedAt.toString(),
                    s.billedSeconds, s.basis, s.reason, s.exitCode, s.oomKilled, s.logTail, s.usage));
        }
        journal.snapshot(new SessionSnapshot(1, entries).encode());
        sessions.values().removeIf(s -> s.state.terminal() && !keepEnded.contains(s));
        log.info("journal compacted: {} sessions in the snapshot", entries.size());
    }

    /** What {@link #reconcile} did, for the start-up log and tests. */
    public record ReconcileReport(List<String> adopted, List<String> settled, List<String> failed, List<String> strays) {
    }

    /**
     * Diffs the journal's sessions with the engine's containers (by label) and acts on every
     * difference. Call once at start, before READY.
     */
    public ReconcileReport reconcile() throws ContainerException {
        List<ContainerState> containers = runtime.list(java.util.Collections.singletonMap(LaunchPolicy.LABEL_SESSION, null));
        Map<String, ContainerState> bySession = new HashMap<>();
        for (ContainerState c : containers) {
            bySession.put(c.labels().get(LaunchPolicy.LABEL_SESSION), c);
        }
        List<String> adopted = new ArrayList<>();
        List<String> settled = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        List<Session> open;
        synchronized (this) {
            open = sessions.values().stream().filter(s -> !s.state.terminal()).toList();
        }
        for (Session s : open) {
            ContainerState c = bySession.remove(s.id());
            if (c == null) {
                String why = s.state == SessionState.REQUESTED || s.state == SessionState.PULLING
                        ? "the agent restarted before the container was created"
                        : "the container disappeared while the agent was down";
                finish(s, SessionState.FAILED, why, null);
                failed.add(s.id());
            } else if (c.running()) {
                synchronized (this) {
                    List<String> held = c.gpuUuids().isEmpty() ? s.gpus : c.gpuUuids();
                    List<String> conflicts = gpus.adopt(s.id(), held);
                    if (!conflicts.isEmpty()) {
                        log.error("session {}: its container holds GPUs also held elsewhere: {}", s.id(), conflicts);
                    }
                    s.gpus = List.copyOf(held);
                    ports.adopt(s.id(), s.hostPorts);
                    s.containerId = c.id();
                    s.startedAt = c.startedAt();
                }
                if (s.state == SessionState.STARTING || s.state == SessionState.REQUESTED
                        || s.state == SessionState.PULLING) {
                    try {
                        transition(s, SessionState.RUNNING, "adopted after an agent restart");
                    } catch (SessionException e) {
                        log.error("session {}: adopting it could not be journaled: {}", s.id(), e.getMessage());
                    }
                }
                adopted.add(s.id());
                if (s.state == SessionState.STOPPING) {
                    launcher.execute(() -> stopContainer(s, s.reason == null ? "stopped" : s.reason));
                }
            } else if (c.startedAt() == null) {
                finish(s, SessionState.FAILED, "the container was created but never started", c);
                failed.add(s.id());
            } else {
                finish(s, SessionState.ENDED, endReason(c, "ended while the agent was down"), c);
                settled.add(s.id());
            }
        }
        List<String> strays = new ArrayList<>();
        for (Map.Entry<String, ContainerState> stray : bySession.entrySet()) {
            ContainerState c = stray.getValue();
            log.warn("removing stray container {} (session {} is not in the journal)", c.name(), stray.getKey());
            runtime.remove(c.id());
            runtime.removeNetwork(c.name());
            strays.add(c.name());
        }
        return new ReconcileReport(adopted, settled, failed, strays);
    }

    // ---- commands -------------------------------------------------------------------------------

    /**
     * Accepts a launch, journals its intent and starts it in the background. Idempotent by
     * session id: a retried launch returns the existing session and never starts a second
     * container.
     */
    public SessionView launch(LaunchRequest r) throws SessionException {
        try {
            SessionView v = accept(r);
            count(launches, "accepted");
            return v;
        } catch (SessionException e) {
            count(launches, e.code());
            throw e;
        }
    }

    private static void count(java.util.concurrent.ConcurrentMap<String, java.util.concurrent.atomic.LongAdder> m,
                              String key) {
        m.computeIfAbsent(key, k -> new java.util.concurrent.atomic.LongAdder()).increment();
    }

    /** Launch requests by result: {@code accepted} or the refusal's code. */
    public Map<String, Long> launchCounts() {
        Map<String, Long> out = new java.util.TreeMap<>();
        launches.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** Sessions that ended FAILED, by cause. */
    public Map<String, Long> failureCounts() {
        Map<String, Long> out = new java.util.TreeMap<>();
        failures.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    static String failureCause(String reason) {
        if (reason == null) {
            return "other";
        }
        if (reason.startsWith("launch failed")) {
            return "launch_failed";
        }
        if (reason.startsWith("gpu_failed")) {
            return "gpu_failed";
        }
        if (reason.contains("disappeared")) {
            return "container_disappeared";
        }
        if (reason.contains("before the container was created")) {
            return "agent_restarted_during_launch";
        }
        if (reason.contains("never started")) {
            return "never_started";
        }
        return "other";
    }

    private SessionView accept(LaunchRequest r) throws SessionException {
        Session s;
        synchronized (this) {
            Session existing = sessions.get(r.sessionId());
            if (existing != null) {
                if (!existing.request.image().equals(r.image()) || !existing.request.rentalId().equals(r.rentalId())) {
                    throw new SessionException("session_conflict", "session " + r.sessionId() + " exists with "
                            + "another image or rental");
                }
                return existing.view();
            }
            if (draining) {
                throw new SessionException("draining", "this host is draining: it takes no new sessions "
                        + "(gpu-agent undrain)");
            }
            if (journal.isDegraded()) {
                throw new SessionException("journal_degraded", "no new sessions while the journal cannot write: "
                        + journal.degradedReason().orElse("unknown"));
            }
            try {
                policy.check(r, machineGpus);
            } catch (PolicyViolationException e) {
                throw new SessionException("policy_" + e.rule(), e.getMessage(), e);
            }
            List<String> g;
            List<Integer> p;
            try {
                g = gpus.allocate(r.sessionId(), r.gpuCount(), r.gpuUuids());
            } catch (AllocationException e) {
                throw new SessionException(e.code(), e.getMessage(), e);
            }
            try {
                p = ports.allocate(r.sessionId(), r.ports().size());
            } catch (PolicyViolationException e) {
                gpus.release(r.sessionId());
                throw new SessionException("policy_" + e.rule(), e.getMessage(), e);
            }
            s = new Session(r);
            s.gpus = g;
            s.hostPorts = p;
            try {
                journal.appendDurably(SessionRecord.INTENT, SessionRecord.intent(r, g, p, epoch, now()).encode());
            } catch (JournalException e) {
                gpus.release(r.sessionId());
                ports.release(r.sessionId());
                throw new SessionException("journal", "the launch could not be journaled: " + e.getMessage(), e);
            }
            sessions.put(r.sessionId(), s);
        }
        log.info("session {}: accepted ({} on GPUs {}, ports {})", r.sessionId(), r.image(), s.gpus, s.hostPorts);
        listener.onChange(s.view());
        launcher.execute(() -> run(s));
        return s.view();
    }

    private void run(Session s) {
        try {
            if (!runtime.imagePresent(s.request.image())) {
                transition(s, SessionState.PULLING, "pulling " + s.request.image());
                io.gpuagent.container.PullProgressListener logged = loggedProgress("session " + s.id(), s.request.image());
                runtime.pull(s.request.image(), (status, cur, total) -> {
                    synchronized (this) {
                        s.pullProgress = total > 0 ? String.format("%s %d/%d MB", status, cur >> 20, total >> 20) : status;
                    }
                    logged.onProgress(status, cur, total);
                });
            }
            if (stopRequestedBeforeStart(s)) {
                return;
            }
            long seq = transition(s, SessionState.STARTING, null);
            ContainerSpec spec = policy.containerSpec(s.request, s.gpus, s.hostPorts, epoch, seq);
            runtime.createNetwork(spec.network(), Map.of(LaunchPolicy.LABEL_SESSION, s.id()));
            String id;
            try {
                id = runtime.create(spec);
            } catch (ContainerConflictException retried) {
                // created before a crash: the name is the session's, so it is ours
                id = runtime.inspect(spec.name()).orElseThrow(() -> retried).id();
            }
            synchronized (this) {
                s.containerId = id;
            }
            runtime.start(id);
            ContainerState c = runtime.inspect(id).orElseThrow(() -> new ContainerException("container vanished"));
            synchronized (this) {
                s.startedAt = c.startedAt();
            }
            transition(s, SessionState.RUNNING, null);
            log.info("session {}: running as {} since {}", s.id(), id.substring(0, Math.min(12, id.length())),
                    c.startedAt());
            String stop;
            synchronized (this) {
                stop = s.stopRequested;
            }
            if (stop != null) {
                stop(s.id(), stop);
            }
        } catch (ContainerException | RuntimeException e) {
            log.warn("session {}: launch failed: {}", s.id(), e.getMessage());
            ContainerState c = null;
            try {
                if (s.containerId != null) {
                    c = runtime.inspect(s.containerId).orElse(null);
                }
            } catch (ContainerException ignored) {
                // the engine is unwell: finish without its times
            }
            finish(s, SessionState.FAILED, "launch failed: " + e.getMessage(), c);
        } catch (SessionException e) {
            finish(s, SessionState.FAILED, e.getMessage(), null);
        }
    }

    private boolean stopRequestedBeforeStart(Session s) {
        String stop;
        synchronized (this) {
            stop = s.stopRequested;
        }
        if (stop != null) {
            finish(s, SessionState.ENDED, stop, null);
            return true;
        }
        return false;
    }

    /** Stops a session (idempotent): SIGTERM, the grace period, SIGKILL; billing from the engine's times. */
    public SessionView stop(String sessionId, String reason) throws SessionException {
        Session s;
        synchronized (this) {
            s = sessions.get(sessionId);
            if (s == null) {
                throw new SessionException("unknown_session", "no session " + sessionId);
            }
            if (s.state.terminal() || s.state == SessionState.STOPPING) {
                return s.view();
            }
            if (s.state != SessionState.RUNNING) {
                s.stopRequested = reason;
                return s.view();
            }
        }
        transition(s, SessionState.STOPPING, reason);
        launcher.execute(() -> stopContainer(s, reason));
        return s.view();
    }

    private void stopContainer(Session s, String reason) {
        ContainerState c = null;
        try {
            runtime.stop(s.containerId, stopGrace);
            c = runtime.inspect(s.containerId).orElse(null);
        } catch (ContainerException e) {
            log.warn("session {}: stopping its container failed: {}", s.id(), e.getMessage());
        }
        finish(s, SessionState.ENDED, reason, c);
    }

    /** Takes the session's GPUs away when one fails: the renter sees the reason. */
    public void onGpuFailed(String gpuUuid, String why) {
        Optional<String> owner = gpus.ownerOf(gpuUuid);
        if (owner.isPresent()) {
            try {
                stop(owner.get(), "gpu_failed: " + why);
            } catch (SessionException e) {
                log.warn("ending session {} after GPU failure: {}", owner.get(), e.getMessage());
            }
        }
    }

    /**
     * Pulls images in the background so that launches of them are instant; an image the policy
     * would refuse is skipped with a warning. Progress is logged at most every 10 %.
     */
    public void prepull(List<String> images) {
        for (String image : images) {
            try {
                policy.checkImageOnly(image);
            } catch (PolicyViolationException e) {
                log.warn("not pre-pulling {}: {}", image, e.getMessage());
                continue;
            }
            launcher.execute(() -> {
                try {
                    if (runtime.imagePresent(image)) {
                        log.info("pre-pull: {} is present", image);
                        return;
                    }
                    log.info("pre-pull: pulling {}", image);
                    runtime.pull(image, loggedProgress("pre-pull", image));
                    log.info("pre-pull: {} ready", image);
                } catch (ContainerException e) {
                    log.warn("pre-pull of {} failed: {}", image, e.getMessage());
                }
            });
        }
    }

    /** A pull listener that logs every 10 % (a 10 GB image takes minutes: progress must be visible). */
    private static io.gpuagent.container.PullProgressListener loggedProgress(String who, String image) {
        long[] lastTenth = {-1};
        return (status, cur, total) -> {
            long tenth = total > 0 ? Math.min(10, cur * 10 / total) : -1;
            if (tenth > lastTenth[0]) {
                lastTenth[0] = tenth;
                log.info("{}: pulling {}: {}% ({} of {} MB)", who, image, tenth * 10, cur >> 20, total >> 20);
            }
        };
    }

    public void drain(boolean on) {
        draining = on;
        log.info(on ? "draining: no new sessions; running ones continue" : "undrained: taking new sessions");
    }

    public boolean draining() {
        return draining;
    }

    public synchronized List<SessionView> list() {
        return sessions.values().stream().map(Session::view).toList();
    }

    public synchronized Optional<SessionView> get(String id) {
        return Optional.ofNullable(sessions.get(id)).map(Session::view);
    }

    // ---- metering ---------------------------------------------------------------------------------

    /**
     * One meter tick: journal every running session's cumulative billed seconds in one group
     * commit, end sessions past their max duration, and (every few ticks) ask the engine which
     * containers still run.
     */
    public void tick() {
        Instant now = clock.wallTime();
        List<Session> expired = new ArrayList<>();
        List<Session> overdue = new ArrayList<>();
        List<Session> running;
        synchronized (this) {
            running = sessions.values().stream().filter(s -> s.state == SessionState.RUNNING && s.startedAt != null)
                    .toList();
            for (Session s : running) {
                BillingRule.BilledTime b = BillingRule.billedSeconds(s.startedAt, null, now);
                // monotonic even if the wall clock steps back: vouchers only ever grow
                s.billedSeconds = Math.max(s.billedSeconds, b.seconds());
                s.basis = b.basis().name();
                try {
                    SessionUsage fresh = s.usageFresh ? s.view().usage() : null;
                    s.usageFresh = false;
                    journal.append(SessionRecord.USAGE, SessionRecord.usage(s.id(), s.startedAt.toString(),
                            s.billedSeconds, s.basis, now.toString(), fresh).encode());
                } catch (JournalException e) {
                    handleJournal(e);
                }
                if (s.billedSeconds >= s.request.maxDurationSeconds()) {
                    expired.add(s);
                }
            }
        }
        for (Session s : running) {
            java.util.OptionalLong paid = payments.paidSeconds(s.request.rentalId());
            if (paid.isPresent() && s.billedSeconds - paid.getAsLong() > creditLimitSeconds && !expired.contains(s)) {
                log.warn("session {}: metered {} s but its vouchers pay {} s, more than the credit limit of {} s behind: "
                        + "ending it", s.id(), s.billedSeconds, paid.getAsLong(), creditLimitSeconds);
                overdue.add(s);
            }
        }
        try {
            journal.commit();
        } catch (JournalException e) {
            handleJournal(e);
        }
        for (Session s : expired) {
            try {
                stop(s.id(), "max_duration");
            } catch (SessionException e) {
                log.warn("session {}: {}", s.id(), e.getMessage());
            }
        }
        for (Session s : overdue) {
            try {
                stop(s.id(), "payment_overdue");
            } catch (SessionException e) {
                log.warn("session {}: {}", s.id(), e.getMessage());
            }
        }
        if (++ticks % ENGINE_CHECK_EVERY == 0 && !running.isEmpty()) {
            checkEngine(running);
        }
        if (ticks % COMPACT_EVERY == 0 && !journal.isDegraded()) {
            try {
                compact();
            } catch (JournalException e) {
                handleJournal(e);
            }
        }
    }

    private void checkEngine(List<Session> running) {
        List<ContainerState> containers;
        try {
            containers = runtime.list(java.util.Collections.singletonMap(LaunchPolicy.LABEL_SESSION, null));
            if (engineWarned) {
                log.info("the container engine answers again");
                engineWarned = false;
            }
        } catch (ContainerException e) {
            if (!engineWarned) {
                log.warn("the container engine does not answer ({}); sessions keep being metered from their start "
                        + "times, and their end is settled from the engine's times once it is back", e.getMessage());
                engineWarned = true;
            }
            return;
        }
        Map<String, ContainerState> byId = new HashMap<>();
        containers.forEach(c -> byId.put(c.id(), c));
        for (Session s : running) {
            synchronized (this) {
                if (s.state != SessionState.RUNNING) {
                    continue; // stopping meanwhile: its stop settles it with its own reason
                }
            }
            ContainerState c = byId.get(s.containerId);
            if (c == null) {
                finish(s, SessionState.FAILED, "the container disappeared", null);
            } else if (!c.running()) {
                finish(s, SessionState.ENDED, endReason(c, "the container exited"), c);
            } else {
                refreshUsage(s);
            }
        }
    }

    /** Reads the container's counters and attributes its GPUs' figures (exclusive GPUs: all theirs). */
    private void refreshUsage(Session s) {
        io.gpuagent.container.ContainerUsage u;
        try {
            u = runtime.usage(s.containerId);
        } catch (ContainerException e) {
            log.debug("session {}: no usage this time: {}", s.id(), e.getMessage());
            return;
        }
        Long disk = null;
        boolean readDisk = (ticks / ENGINE_CHECK_EVERY) % DISK_EVERY == 1;
        if (readDisk) {
            try {
                disk = runtime.diskUsage(s.containerId);
            } catch (ContainerException e) {
                log.debug("session {}: no disk usage this time: {}", s.id(), e.getMessage());
            }
        }
        java.util.Set<Integer> pids = new java.util.HashSet<>(u.pids());
        long gpuMem = 0;
        int utilSum = 0;
        int utilCount = 0;
        List<String> held;
        synchronized (this) {
            held = s.gpus;
        }
        for (String g : held) {
            for (io.gpuagent.gpu.GpuProcess p : gpuUsage.processes(g)) {
                if (pids.contains(p.pid()) && p.usedMemoryBytes() != null) {
                    gpuMem += p.usedMemoryBytes();
                }
            }
            Integer util = gpuUsage.utilizationPercent(g);
            if (util != null) {
                utilSum += util;
                utilCount++;
            }
        }
        synchronized (this) {
            SessionUsage old = s.usage;
            s.usage = new SessionUsage(0, utilCount == 0 ? null : utilSum / utilCount, gpuMem, u.cpuNanos() / 1e9,
                    u.memoryBytes(), Math.max(old.peakMemoryBytes(), u.memoryBytes()), u.netRxBytes(), u.netTxBytes(),
                    readDisk ? disk : old.diskBytes());
            s.usageFresh = true;
        }
    }

    private static String endReason(ContainerState c, String what) {
        if (c.oomKilled()) {
            return what + ": killed for exceeding its memory limit (OOM)";
        }
        return what + (c.exitCode() != null ? " with code " + c.exitCode() : "");
    }

    // ---- transitions ----------------------------------------------------------------------------

    /** Journals a transition durably, then applies it; returns the record's sequence number. */
    private long transition(Session s, SessionState to, String reason) throws SessionException {
        long seq;
        synchronized (this) {
            SessionState.check(s.id(), s.state, to);
            try {
                seq = journal.appendDurably(SessionRecord.STATE, SessionRecord.state(s.id(), s.state, to, reason,
                        s.containerId, now()).encode());
            } catch (JournalException e) {
                handleJournal(e);
                throw new SessionException("journal", "session " + s.id() + ": " + s.state + " -> " + to
                        + " could not be journaled: " + e.getMessage(), e);
            }
            s.state = to;
            if (reason != null) {
                s.reason = reason;
            }
        }
        listener.onChange(s.view());
        return seq;
    }

    /** Ends a session: bills from the engine's times, journals the end, frees everything. */
    private void finish(Session s, SessionState to, String reason, ContainerState c) {
        List<String> tail = List.of();
        if (c != null) {
            try {
                tail = runtime.logTail(c.id(), LOG_TAIL_LINES);
            } catch (ContainerException e) {
                log.debug("session {}: no log tail: {}", s.id(), e.getMessage());
            }
        }
        synchronized (this) {
            if (s.state.terminal()) {
                return;
            }
            SessionState.check(s.id(), s.state, s.state.canMoveTo(to) ? to : SessionState.FAILED);
            SessionState target = s.state.canMoveTo(to) ? to : SessionState.FAILED;
            if (c != null && c.startedAt() != null) {
                s.startedAt = c.startedAt();
                s.finishedAt = c.finishedAt();
            }
            if (s.startedAt != null) {
                BillingRule.BilledTime b = BillingRule.billedSeconds(s.startedAt, s.finishedAt,
                        s.finishedAt != null ? s.finishedAt : clock.wallTime());
                s.billedSeconds = b.seconds();
                s.basis = b.basis().name();
            }
            s.exitCode = c == null ? null : c.exitCode();
            s.oomKilled = c != null && c.oomKilled();
            s.logTail = tail;
            try {
                journal.appendDurably(SessionRecord.END, SessionRecord.end(s.id(), s.state, target, reason,
                        s.startedAt == null ? null : s.startedAt.toString(),
                        s.finishedAt == null ? null : s.finishedAt.toString(), s.billedSeconds, s.basis, s.exitCode,
                        s.oomKilled, tail, now(), s.view().usage()).encode());
            } catch (JournalException e) {
                // the end is settled again from the engine's times after the restart this causes
                handleJournal(e);
            }
            s.state = target;
            s.reason = reason;
            if (target == SessionState.FAILED) {
                count(failures, failureCause(reason));
            }
            gpus.release(s.id());
            ports.release(s.id());
        }
        String name = LaunchPolicy.containerName(s.id());
        try {
            runtime.remove(s.containerId != null ? s.containerId : name);
            runtime.removeNetwork(name);
        } catch (ContainerException e) {
            log.warn("session {}: cleaning up its container failed ({}); it is removed as a stray at the next start",
                    s.id(), e.getMessage());
        }
        log.info("session {}: {} ({}), billed {} s", s.id(), s.state, reason, s.billedSeconds);
        listener.onChange(s.view());
    }

    private void handleJournal(JournalException e) {
        if (e instanceof JournalFatalException) {
            fatal.accept(e);
        } else {
            log.warn("journal: {}", e.getMessage());
        }
    }

    private String now() {
        return clock.wallTime().toString();
    }

    @Override
    public void close() {
        launcher.shutdown();
    }
}
