package io.gpuagent.container;

import io.gpuagent.util.Clock;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * A {@link ContainerRuntime} in memory with knobs (HikariCP's StubConnection style), held to the
 * same {@link ContainerRuntimeContract} as the Docker adapter so tests of the session layer can
 * trust it. Times come from the injected {@link Clock}; nothing sleeps except {@link #slowCreate},
 * whose hold a test can take over with {@link #pauseWith}.
 *
 * <p>Containers run tiny programs instead of commands (see {@link #printThenExit}, {@link #runUntilTerm},
 * {@link #catWithMode}); any other command runs until killed and ignores SIGTERM, as {@code sleep}
 * does as PID 1. Knobs: slow or failing create/start, a container that exits (or is OOM-killed) at
 * a given time, the engine down for a while, an engine restart that ends every container, a
 * registry to pull from, and call counts. A container's log is rotated and forgotten under its
 * spec's limit as json-file would ({@link FakeLog}).
 */
public final class FakeContainerRuntime implements ContainerRuntime {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]+");
    private static final String PRINT_EXIT = "fake:print-exit";
    private static final String RUN_UNTIL_TERM = "fake:run-until-term";
    private static final String CAT_WITH_MODE = "fake:cat-with-mode";

    private final Clock clock;
    private final Map<String, Box> containers = new LinkedHashMap<>();
    private final Map<String, String> networks = new LinkedHashMap<>();
    private final Set<String> images = new HashSet<>();
    private final Map<String, Long> registry = new HashMap<>();
    /** The configuration of local images, and of the registry's (copied on pull); absent: empty env and labels. */
    private final Map<String, ImageConfig> imageConfigs = new HashMap<>();
    private final Deque<ContainerException> createFailures = new ArrayDeque<>();
    private final Deque<ContainerException> startFailures = new ArrayDeque<>();
    private final Map<String, Integer> calls = new HashMap<>();
    private volatile Duration createDelay = Duration.ZERO;
    private volatile java.util.concurrent.CountDownLatch stopHold;
    private volatile Pause pause = d -> Thread.sleep(d.toMillis());
    private long downUntilNanos = Long.MIN_VALUE;
    private boolean down;

    public FakeContainerRuntime(Clock clock, String... images) {
        this.clock = clock;
        this.images.addAll(List.of(images));
    }

    // ---- programs

    /** Prints {@code lines} when started, then exits with {@code exitCode} at once. */
    public static List<String> printThenExit(List<String> lines, int exitCode) {
        List<String> cmd = new ArrayList<>(List.of(PRINT_EXIT, Integer.toString(exitCode)));
        cmd.addAll(lines);
        return cmd;
    }

    /** Runs until stopped; exits with {@code exitCode} on SIGTERM. */
    public static List<String> runUntilTerm(int exitCode) {
        return List.of(RUN_UNTIL_TERM, Integer.toString(exitCode));
    }

    /** Prints the file's lines and its mode in octal, then exits 0 (1 when there is no such file). */
    public static List<String> catWithMode(String path) {
        return List.of(CAT_WITH_MODE, path);
    }

    // ---- knobs

    /** How {@link #slowCreate}'s delay holds the creating thread. */
    @FunctionalInterface
    public interface Pause {
        void pause(Duration delay) throws InterruptedException;
    }

    /**
     * Every create takes this long before it does anything. Real time on purpose: concurrency tests
     * use it to hold a real thread inside create while other threads call in (their assertions hold
     * however long the hold really lasts); the calling thread sleeps, unless {@link #pauseWith} says
     * otherwise.
     */
    public void slowCreate(Duration delay) {
        createDelay = delay;
    }

    /** Holds slow creates with {@code p} instead of a sleep: a test then decides when the hold ends. */
    public void pauseWith(Pause p) {
        pause = p;
    }

    /** The next create fails with {@code e} (queued: call again for more failures). */
    public synchronized void failNextCreate(ContainerException e) {
        createFailures.add(e);
    }

    /** The next start fails with {@code e}; the container stays created. */
    public synchronized void failNextStart(ContainerException e) {
        startFailures.add(e);
    }

    /** The container ends at wall time {@code at} (if running then) with this code, OOM-killed or not. */
    public synchronized void exitAt(String idOrName, Instant at, int exitCode, boolean oomKilled) {
        find(idOrName).orElseThrow(() -> new IllegalArgumentException("no container " + idOrName)).plannedExit =
                new PlannedExit(at, exitCode, oomKilled);
    }

    /** Every call fails as if the socket were gone, for {@code d} of monotonic time. */
    public synchronized void engineDownFor(Duration d) {
        downUntilNanos = clock.monotonicNanos() + d.toNanos();
    }

    /** Every call fails until {@link #engineUp()}. */
    public synchronized void engineDown() {
        down = true;
    }

    public synchronized void engineUp() {
        down = false;
        downUntilNanos = Long.MIN_VALUE;
    }

    /** A daemon restart without live-restore: every running container ends now with {@code exitCode}. */
    public synchronized void restartEngine(int exitCode) {
        for (Box b : containers.values()) {
            if (b.status.equals("running")) {
                b.end(clock.wallTime(), exitCode, false);
            }
        }
    }

    public synchronized void addImage(String image) {
        images.add(image);
    }

    /** A local image whose configuration has this environment and these labels (what {@link #inspectImage} reports). */
    public synchronized void addImage(String image, Map<String, String> env, Map<String, String> labels) {
        imageConfigs.put(image, config(image, env, labels));
        images.add(image);
    }

    /** {@link #pull} of {@code image} succeeds, reporting {@code bytes} of progress. */
    public synchronized void registryHas(String image, long bytes) {
        registry.put(image, bytes);
    }

    /** {@link #pull} of {@code image} succeeds, and the pulled image's environment is {@code env}. */
    public synchronized void registryHas(String image, long bytes, Map<String, String> env) {
        registry.put(image, bytes);
        imageConfigs.put(image, config(image, env, Map.of()));
    }

    private static ImageConfig config(String image, Map<String, String> env, Map<String, String> labels) {
        return new ImageConfig("sha256:" + HexFormat.of().formatHex(image.getBytes(StandardCharsets.UTF_8)), env, labels);
    }

    /** How many times {@code method} (e.g. "create") was called, failed calls included. */
    public synchronized int calls(String method) {
        return calls.getOrDefault(method, 0);
    }

    // ---- the port

    @Override
    public synchronized String describe() throws ContainerException {
        enter("describe");
        return "Fake engine (API fake)";
    }

    @Override
    public synchronized boolean imagePresent(String image) throws ContainerException {
        enter("imagePresent");
        return images.contains(image);
    }

    @Override
    public synchronized Optional<ImageConfig> inspectImage(String image) throws ContainerException {
        enter("inspectImage");
        if (!images.contains(image)) {
            return Optional.empty();
        }
        return Optional.of(imageConfigs.getOrDefault(image, config(image, Map.of(), Map.of())));
    }

    @Override
    public void pull(String image, PullProgressListener progress) throws ContainerException {
        long bytes;
        synchronized (this) {
            enter("pull");
            if (images.contains(image)) {
                progress.onProgress("Already exists", 0, 0);
                return;
            }
            Long size = registry.get(image);
            if (size == null) {
                throw new ContainerNotFoundException("pull " + image + ": pull access denied for " + image
                        + ", repository does not exist or may require 'docker login'");
            }
            bytes = size;
        }
        for (int q = 1; q <= 4; q++) {
            progress.onProgress("Downloading", bytes * q / 4, bytes);
        }
        progress.onProgress("Pull complete", bytes, bytes);
        addImage(image);
    }

    @Override
    public String create(ContainerSpec spec) throws ContainerException {
        Duration delay = createDelay;
        if (!delay.isZero()) {
            try {
                pause.pause(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ContainerException("create container " + spec.name() + ": interrupted", e);
            }
        }
        synchronized (this) {
            enter("create");
            ContainerException planned = createFailures.poll();
            if (planned != null) {
                throw planned;
            }
            if (!NAME.matcher(spec.name()).matches()) {
                throw new ContainerException("create container " + spec.name() + ": Invalid container name ("
                        + spec.name() + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
            }
            if (find(spec.name()).isPresent()) {
                throw new ContainerConflictException("create container " + spec.name() + ": Conflict. The container name \"/"
                        + spec.name() + "\" is already in use");
            }
            for (ContainerSpec.ContainerFile f : spec.files()) {
                String path = f.path();
                if (path == null || !path.startsWith("/") || path.endsWith("/") || path.contains("/../") || path.endsWith("/..")
                        || path.contains("//") || path.contains("/./")) {
                    throw new ContainerException("create container " + spec.name()
                            + ": container file path must be absolute, normalized and name a file: " + path);
                }
            }
            if (!images.contains(spec.image())) {
                throw new ContainerNotFoundException("create container " + spec.name() + ": No such image: " + spec.image());
            }
            String id = HexFormat.of().formatHex(randomBytes(32));
            containers.put(id, new Box(id, spec));
            return id;
        }
    }

    @Override
    public synchronized void start(String idOrName) throws ContainerException {
        enter("start");
        Box b = require("start", idOrName);
        ContainerException planned = startFailures.poll();
        if (planned != null) {
            throw planned;
        }
        if (b.status.equals("running")) {
            return;
        }
        Instant now = clock.wallTime();
        b.status = "running";
        b.startedAt = now;
        b.finishedAt = null;
        b.exitCode = null;
        b.oomKilled = false;
        b.runProgram(now);
    }

    /** Stops wait for {@code release} before they do anything (a session then stays STOPPING until the test says). */
    public void holdStops(java.util.concurrent.CountDownLatch release) {
        stopHold = release;
    }

    @Override
    public void stop(String idOrName, Duration grace) throws ContainerException {
        java.util.concurrent.CountDownLatch hold = stopHold;
        if (hold != null) {
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ContainerException("stop container " + idOrName + ": interrupted", e);
            }
        }
        stopNow(idOrName);
    }

    private synchronized void stopNow(String idOrName) throws ContainerException {
        enter("stop");
        Box b = require("stop", idOrName);
        if (!b.status.equals("running")) {
            return;
        }
        List<String> cmd = b.spec.command();
        if (!cmd.isEmpty() && cmd.get(0).equals(RUN_UNTIL_TERM)) {
            b.end(clock.wallTime(), Integer.parseInt(cmd.get(1)), false);
        } else {
            // ignores SIGTERM: SIGKILL once the grace is over (the engine's clock, not ours, would show it)
            b.end(clock.wallTime(), 137, false);
        }
    }

    @Override
    public synchronized void remove(String idOrName) throws ContainerException {
        enter("remove");
        find(idOrName).ifPresent(b -> containers.remove(b.id));
    }

    @Override
    public synchronized Optional<ContainerState> inspect(String idOrName) throws ContainerException {
        enter("inspect");
        return find(idOrName).map(Box::state);
    }

    @Override
    public synchronized List<ContainerState> list(Map<String, String> labels) throws ContainerException {
        enter("list");
        List<ContainerState> out = new ArrayList<>();
        for (Box b : containers.values()) {
            boolean all = labels.entrySet().stream().allMatch(e -> b.spec.labels().containsKey(e.getKey())
                    && (e.getValue() == null || e.getValue().equals(b.spec.labels().get(e.getKey()))));
            if (all) {
                out.add(b.state());
            }
        }
        return out;
    }

    @Override
    public synchronized java.util.Set<String> runningIds(Map<String, String> labels) throws ContainerException {
        enter("runningIds");
        java.util.Set<String> out = new java.util.HashSet<>();
        for (Box b : containers.values()) {
            boolean all = labels.entrySet().stream().allMatch(e -> b.spec.labels().containsKey(e.getKey())
                    && (e.getValue() == null || e.getValue().equals(b.spec.labels().get(e.getKey()))));
            if (all && b.state().running()) {
                out.add(b.state().id());
            }
        }
        return out;
    }

    @Override
    public synchronized ContainerUsage usage(String idOrName) throws ContainerException {
        enter("usage");
        Box b = require("read the usage of container", idOrName);
        if (!b.status.equals("running")) {
            throw new ContainerException("read the usage of container " + idOrName + ": it is not running");
        }
        // a steady program: half a core, 64 MiB, 1 KB/s in and out, one process (pid from the knob)
        long ranNanos = java.time.Duration.between(b.startedAt, clock.wallTime()).toNanos();
        return new ContainerUsage(ranNanos / 2, 64L << 20, ranNanos / 1_000_000, ranNanos / 1_000_000,
                b.pids);
    }

    @Override
    public synchronized Long diskUsage(String idOrName) throws ContainerException {
        enter("diskUsage");
        return require("read the disk usage of container", idOrName).diskBytes;
    }

    /** What the writable layer holds, as the engine would report it (null: the driver cannot tell). */
    public synchronized void diskBytes(String idOrName, Long bytes) {
        find(idOrName).orElseThrow(() -> new IllegalArgumentException("no container " + idOrName)).diskBytes = bytes;
    }

    /** The host PIDs the engine reports for a container (to attribute GPU memory). */
    public synchronized void pids(String idOrName, List<Integer> pids) {
        find(idOrName).orElseThrow(() -> new IllegalArgumentException("no container " + idOrName)).pids = List.copyOf(pids);
    }

    @Override
    public synchronized List<String> logTail(String idOrName, int lines) throws ContainerException {
        enter("logTail");
        Box b = require("read the log of container", idOrName);
        if (lines <= 0) {
            return List.of();
        }
        return b.log.tail(lines);
    }

    @Override
    public synchronized String createNetwork(String name, Map<String, String> labels) throws ContainerException {
        enter("createNetwork");
        return networks.computeIfAbsent(name, n -> HexFormat.of().formatHex(randomBytes(32)));
    }

    @Override
    public synchronized void removeNetwork(String name) throws ContainerException {
        enter("removeNetwork");
        networks.remove(name);
    }

    @Override
    public void close() {
        // nothing to release: state stays inspectable by the test after close
    }

    // ---- inside

    private void enter(String method) throws ContainerException {
        calls.merge(method, 1, Integer::sum);
        if (down || clock.monotonicNanos() < downUntilNanos) {
            throw new ContainerException(method + ": Docker engine unreachable at /fake/docker.sock: Connection refused");
        }
        Instant now = clock.wallTime();
        for (Box b : containers.values()) {
            PlannedExit p = b.plannedExit;
            if (p != null && b.status.equals("running") && !now.isBefore(p.at)) {
                b.end(p.at, p.exitCode, p.oomKilled);
            }
        }
    }

    private Optional<Box> find(String idOrName) {
        Box byId = containers.get(idOrName);
        if (byId != null) {
            return Optional.of(byId);
        }
        return containers.values().stream().filter(b -> b.spec.name().equals(idOrName)).findFirst();
    }

    private Box require(String what, String idOrName) throws ContainerNotFoundException {
        return find(idOrName).orElseThrow(() -> new ContainerNotFoundException(what + " " + idOrName
                + ": No such container: " + idOrName));
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }

    private record PlannedExit(Instant at, int exitCode, boolean oomKilled) {
    }

    private static final class Box {
        final String id;
        final ContainerSpec spec;
        final FakeLog log;
        String status = "created";
        Instant startedAt;
        Instant finishedAt;
        Integer exitCode;
        boolean oomKilled;
        PlannedExit plannedExit;
        List<Integer> pids = List.of();
        Long diskBytes = 4096L;

        Box(String id, ContainerSpec spec) {
            this.id = id;
            this.spec = spec;
            this.log = new FakeLog(spec.log());
        }

        void runProgram(Instant now) {
            List<String> cmd = spec.command();
            String program = cmd.isEmpty() ? "" : cmd.get(0);
            if (program.equals(PRINT_EXIT)) {
                log.addAll(cmd.subList(2, cmd.size()));
                end(now, Integer.parseInt(cmd.get(1)), false);
            } else if (program.equals(CAT_WITH_MODE)) {
                Optional<ContainerSpec.ContainerFile> f = spec.files().stream().filter(x -> x.path().equals(cmd.get(1))).findFirst();
                if (f.isEmpty()) {
                    log.add("cat: can't open '" + cmd.get(1) + "': No such file or directory");
                    end(now, 1, false);
                    return;
                }
                String text = new String(f.get().content(), StandardCharsets.UTF_8);
                List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
                if (text.endsWith("\n")) {
                    lines.remove(lines.size() - 1);
                }
                log.addAll(lines);
                log.add(Integer.toOctalString(f.get().mode()));
                end(now, 0, false);
            }
        }

        void end(Instant at, int code, boolean oom) {
            status = "exited";
            finishedAt = at;
            exitCode = code;
            oomKilled = oom;
        }

        ContainerState state() {
            List<String> gpus = spec.gpuMode() == GpuAttachMode.NONE ? List.of() : spec.gpuUuids();
            return new ContainerState(id, spec.name(), spec.image(), spec.labels(), status, startedAt, finishedAt,
                    exitCode, oomKilled, gpus);
        }
    }
}
