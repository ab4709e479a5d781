package io.gpuagent.container.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.ContainerConfig;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.Network;
import com.github.dockerjava.api.model.PullResponseItem;
import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerRuntime;
import io.gpuagent.container.ContainerSpec;
import io.gpuagent.container.ContainerState;
import io.gpuagent.container.ImageConfig;
import io.gpuagent.container.PullProgressListener;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * {@link ContainerRuntime} on the Docker Engine API over its unix socket, through docker-java's
 * zero-dependency transport. The only class of the agent that talks to Docker; see
 * docs/docker.md for the socket, API version negotiation, timeouts and how each spec field maps.
 * Thread-safe: docker-java's clients are, and the only other state is {@link HostCgroups}' map of
 * where running containers' counters are.
 */
public final class DockerContainerRuntime implements ContainerRuntime {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DockerContainerRuntime.class);

    private final DockerSettings settings;
    private final EngineErrors errors;
    private final DockerConnection connection;
    /** Null: usage only from the engine's stats endpoint. */
    private final HostCgroups cgroups;
    private final java.util.concurrent.atomic.AtomicBoolean engineUsageNoted = new java.util.concurrent.atomic.AtomicBoolean();

    /** The engine at {@code socket}, with {@link DockerSettings#defaults default} timeouts. */
    public DockerContainerRuntime(Path socket) {
        this(DockerSettings.defaults(socket));
    }

    /** Connects lazily: nothing is sent to the engine before the first call. */
    public DockerContainerRuntime(DockerSettings settings) {
        this(settings, new HostCgroups(Path.of("/proc")));
    }

    /** With {@code cgroups} null, usage is read from the engine's stats endpoint only (tests compare the two). */
    DockerContainerRuntime(DockerSettings settings, HostCgroups cgroups) {
        this.settings = settings;
        this.errors = new EngineErrors(settings.socket());
        this.connection = new DockerConnection(settings, errors);
        this.cgroups = cgroups;
    }

    @Override
    public String describe() throws ContainerException {
        return "Docker " + connection.engineVersion() + " (API " + connection.apiVersion() + ")";
    }

    @Override
    public boolean imagePresent(String image) throws ContainerException {
        DockerClient c = connection.calls();
        try {
            c.inspectImageCmd(image).exec();
            return true;
        } catch (NotFoundException e) {
            return false;
        } catch (RuntimeException e) {
            throw errors.map("inspect image " + image, e, settings.callTimeout());
        }
    }

    @Override
    public Optional<ImageConfig> inspectImage(String image) throws ContainerException {
        InspectImageResponse r;
        try {
            r = connection.calls().inspectImageCmd(image).exec();
        } catch (NotFoundException e) {
            return Optional.empty();
        } catch (RuntimeException e) {
            throw errors.map("inspect image " + image, e, settings.callTimeout());
        }
        // the image's own config ("Config"); "ContainerConfig" is the build container's and may differ
        ContainerConfig cfg = r.getConfig();
        List<String> env = cfg == null || cfg.getEnv() == null ? List.of() : Arrays.asList(cfg.getEnv());
        Map<String, String> labels = cfg == null || cfg.getLabels() == null ? Map.of() : cfg.getLabels();
        return Optional.of(new ImageConfig(r.getId(), ImageConfig.parseEnv(env), labels));
    }

    @Override
    public void pull(String image, PullProgressListener progress) throws ContainerException {
        ImageReference ref;
        try {
            ref = ImageReference.parse(image);
        } catch (IllegalArgumentException e) {
            throw new ContainerException("pull " + image + ": " + e.getMessage(), e);
        }
        PullProgress sum = new PullProgress(progress);
        List<String> failures = new ArrayList<>();
        ResultCallback.Adapter<PullResponseItem> cb = new ResultCallback.Adapter<>() {
            @Override
            public void onNext(PullResponseItem item) {
                if (item.isErrorIndicated()) {
                    failures.add(pullError(item));
                    return;
                }
                Long cur = item.getProgressDetail() == null ? null : item.getProgressDetail().getCurrent();
                Long tot = item.getProgressDetail() == null ? null : item.getProgressDetail().getTotal();
                sum.onStatus(item.getId(), item.getStatus(), cur, tot);
            }
        };
        String what = "pull " + image;
        try {
            connection.pulls().pullImageCmd(ref.repository()).withTag(ref.tag()).exec(cb);
            if (!cb.awaitCompletion(settings.pullTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                throw abandon(cb, new ContainerException(what + ": not done within " + settings.pullTimeout().toMinutes() + " min"));
            }
        } catch (InterruptedException e) {
            throw abandon(cb, errors.interrupted(what, e));
        } catch (RuntimeException e) {
            throw errors.map(what, e, settings.pullTimeout());
        }
        if (!failures.isEmpty()) {
            throw new ContainerException(what + ": " + String.join("; ", failures));
        }
        if (!imagePresent(image)) {
            throw new ContainerException(what + ": the engine reported success but has no such image");
        }
    }

    @Override
    public String create(ContainerSpec spec) throws ContainerException {
        DockerClient c = connection.calls();
        String what = "create container " + spec.name();
        byte[] tar;
        String id;
        try {
            tar = spec.files().isEmpty() ? null : TarArchive.of(spec.files());
            id = ContainerSpecMapper.apply(spec, c.createContainerCmd(spec.image())).exec().getId();
        } catch (IllegalArgumentException e) {
            throw new ContainerException(what + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw errors.map(what, e, settings.callTimeout());
        }
        if (tar != null) {
            try {
                c.copyArchiveToContainerCmd(id).withRemotePath("/").withTarInputStream(new ByteArrayInputStream(tar)).exec();
            } catch (RuntimeException e) {
                ContainerException failure = errors.map("write files into container " + spec.name(), e, settings.callTimeout());
                // never leave a half-made container behind: the session would start it without its files
                try {
                    remove(id);
                } catch (ContainerException cleanup) {
                    failure.addSuppressed(cleanup);
                }
                throw failure;
            }
        }
        return id;
    }

    @Override
    public void start(String idOrName) throws ContainerException {
        try {
            connection.calls().startContainerCmd(idOrName).exec();
        } catch (NotModifiedException alreadyRunning) {
            // 304: started already; a retried start is not an error
        } catch (RuntimeException e) {
            throw errors.map("start container " + idOrName, e, settings.callTimeout());
        }
    }

    @Override
    public void stop(String idOrName, Duration grace) throws ContainerException {
        // the engine answers only once the container is down: SIGTERM, grace, SIGKILL
        int seconds = (int) Math.max(0, Math.min(Integer.MAX_VALUE, (grace.toMillis() + 999) / 1000));
        Duration timeout = settings.callTimeout().plusSeconds(seconds);
        try (DockerClient c = connection.withResponseTimeout(timeout)) {
            c.stopContainerCmd(idOrName).withTimeout(seconds).exec();
        } catch (NotModifiedException alreadyStopped) {
            // 304: not running; stopping a stopped container is not an error
        } catch (RuntimeException e) {
            throw errors.map("stop container " + idOrName, e, timeout);
        } catch (IOException e) {
            throw new ContainerException("stop container " + idOrName + ": closing its connection: " + e.getMessage(), e);
        }
    }

    @Override
    public void remove(String idOrName) throws ContainerException {
        try {
            if (cgroups != null) {
                cgroups.forget(idOrName);
            }
            connection.calls().removeContainerCmd(idOrName).withForce(true).withRemoveVolumes(true).exec();
            if (cgroups != null) {
                cgroups.forget(idOrName); // a read in flight may have put it back
            }
        } catch (NotFoundException gone) {
            // a missing container is not an error
        } catch (RuntimeException e) {
            throw errors.map("remove container " + idOrName, e, settings.callTimeout());
        }
    }

    @Override
    public Optional<ContainerState> inspect(String idOrName) throws ContainerException {
        try {
            InspectContainerResponse r = connection.calls().inspectContainerCmd(idOrName).exec();
            return Optional.of(ContainerStateMapper.from(r));
        } catch (NotFoundException e) {
            return Optional.empty();
        } catch (RuntimeException e) {
            throw errors.map("inspect container " + idOrName, e, settings.callTimeout());
        }
    }

    @Override
    public List<ContainerState> list(Map<String, String> labels) throws ContainerException {
        List<String> filter = labelFilter(labels);
        List<Container> found;
        try {
            found = connection.calls().listContainersCmd().withShowAll(true).withLabelFilter(filter).exec();
        } catch (RuntimeException e) {
            throw errors.map("list containers " + labels, e, settings.callTimeout());
        }
        // the list answer lacks start/finish times and device requests: inspect each
        List<ContainerState> out = new ArrayList<>();
        for (Container ct : found) {
            inspect(ct.getId()).ifPresent(out::add);
        }
        return out;
    }

    @Override
    public java.util.Set<String> runningIds(Map<String, String> labels) throws ContainerException {
        List<String> filter = labelFilter(labels);
        try {
            // without "all" the engine lists the containers whose process runs: running, restarting, paused
            java.util.Set<String> ids = new java.util.HashSet<>();
            for (Container ct : connection.calls().listContainersCmd().withShowAll(false).withLabelFilter(filter).exec()) {
                ids.add(ct.getId());
            }
            return ids;
        } catch (RuntimeException e) {
            throw errors.map("list running containers " + labels, e, settings.callTimeout());
        }
    }

    /**
     * From the kernel's cgroup files when the agent sees the engine's containers' processes
     * ({@link HostCgroups}: a few file reads), else from the engine's stats endpoint and its
     * {@code top} (about a second, the engine's collection interval). Same figures either way.
     */
    @Override
    public io.gpuagent.container.ContainerUsage usage(String idOrName) throws ContainerException {
        if (cgroups != null) {
            Optional<io.gpuagent.container.ContainerUsage> fast = cgroups.read(idOrName, this::target);
            if (fast.isPresent()) {
                return fast.get();
            }
            if (cgroups.unreadable(idOrName) && engineUsageNoted.compareAndSet(false, true)) {
                log.info("container {}: its cgroup files are not readable from here (another PID or cgroup namespace, "
                        + "or an unknown layout); usage is read from the engine's stats endpoint", idOrName);
            }
        }
        return engineUsage(idOrName);
    }

    /** The container's full id and first process on the host (0 when none runs). */
    private HostCgroups.Target target(String idOrName) throws ContainerException {
        try {
            InspectContainerResponse r = connection.calls().inspectContainerCmd(idOrName).exec();
            Long pid = r.getState() == null ? null : r.getState().getPidLong();
            return new HostCgroups.Target(r.getId(), pid == null ? 0 : Math.toIntExact(pid));
        } catch (RuntimeException e) {
            throw errors.map("inspect container " + idOrName, e, settings.callTimeout());
        }
    }

    /** Usage from the engine's one-shot stats and its {@code top} (EngineUsage). */
    io.gpuagent.container.ContainerUsage engineUsage(String idOrName) throws ContainerException {
        return EngineUsage.read(connection, errors, settings, idOrName);
    }

    @Override
    public Long diskUsage(String idOrName) throws ContainerException {
        try {
            Long size = connection.calls().inspectContainerCmd(idOrName).withSize(true).exec().getSizeRw();
            return size == null || size < 0 ? null : size;
        } catch (RuntimeException e) {
            throw errors.map("read the disk usage of container " + idOrName, e, settings.callTimeout());
        }
    }

    @Override
    public List<String> logTail(String idOrName, int lines) throws ContainerException {
        if (lines <= 0) {
            return List.of();
        }
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        ResultCallback.Adapter<Frame> cb = new ResultCallback.Adapter<>() {
            @Override
            public void onNext(Frame frame) {
                text.writeBytes(frame.getPayload());
            }
        };
        String what = "read the log of container " + idOrName;
        try {
            connection.calls().logContainerCmd(idOrName).withStdOut(true).withStdErr(true).withTail(lines)
                    .withFollowStream(false).exec(cb);
            if (!cb.awaitCompletion(settings.callTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                throw abandon(cb, new ContainerException(what + ": not done within " + settings.callTimeout().toSeconds() + " s"));
            }
        } catch (InterruptedException e) {
            throw abandon(cb, errors.interrupted(what, e));
        } catch (RuntimeException e) {
            throw errors.map(what, e, settings.callTimeout());
        }
        return lastLines(text.toString(StandardCharsets.UTF_8), lines);
    }

    @Override
    public String createNetwork(String name, Map<String, String> labels) throws ContainerException {
        String what = "create network " + name;
        Optional<String> existing = networkId(name);
        if (existing.isPresent()) {
            return existing.get();
        }
        try {
            return connection.calls().createNetworkCmd().withName(name).withDriver("bridge").withLabels(labels)
                    .withCheckDuplicate(true).exec().getId();
        } catch (ConflictException raced) {
            // created by a concurrent call between our look-up and our create: the same network
            return networkId(name).orElseThrow(() -> errors.map(what, raced, settings.callTimeout()));
        } catch (RuntimeException e) {
            throw errors.map(what, e, settings.callTimeout());
        }
    }

    @Override
    public void removeNetwork(String name) throws ContainerException {
        try {
            connection.calls().removeNetworkCmd(name).exec();
        } catch (NotFoundException gone) {
            // a missing network is not an error
        } catch (RuntimeException e) {
            throw errors.map("remove network " + name, e, settings.callTimeout());
        }
    }

    @Override
    public void close() {
        connection.close();
    }

    /** The engine's name filter matches substrings: keep the exact name only. */
    private Optional<String> networkId(String name) throws ContainerException {
        try {
            for (Network n : connection.calls().listNetworksCmd().withNameFilter(name).exec()) {
                if (name.equals(n.getName())) {
                    return Optional.of(n.getId());
                }
            }
            return Optional.empty();
        } catch (RuntimeException e) {
            throw errors.map("look up network " + name, e, settings.callTimeout());
        }
    }

    /** {@code errorDetail.message}; older engines sent only the deprecated {@code error} string. */
    @SuppressWarnings("deprecation")
    private static String pullError(PullResponseItem item) {
        if (item.getErrorDetail() != null && item.getErrorDetail().getMessage() != null) {
            return item.getErrorDetail().getMessage();
        }
        return item.getError() != null ? item.getError() : "the engine reported an error without a message";
    }

    static List<String> lastLines(String text, int lines) {
        List<String> all = new ArrayList<>(List.of(text.split("\r?\n", -1)));
        if (!all.isEmpty() && all.get(all.size() - 1).isEmpty()) {
            all.remove(all.size() - 1);
        }
        return List.copyOf(all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /** The engine's label filter: {@code key=value}, or {@code key} alone for any value (null). */
    private static List<String> labelFilter(Map<String, String> labels) {
        List<String> filter = new ArrayList<>();
        labels.forEach((k, v) -> filter.add(v == null ? k : k + "=" + v));
        return filter;
    }

    /** Aborts a stream given up on; a failure to close travels with the failure being reported. */
    static ContainerException abandon(ResultCallback.Adapter<?> cb, ContainerException failure) {
        try {
            cb.close();
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
        return failure;
    }
}
