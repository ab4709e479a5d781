package io.gpuagent.session;

import io.gpuagent.container.ContainerConflictException;
import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerRuntime;
import io.gpuagent.container.ContainerSpec;
import io.gpuagent.container.ContainerState;
import io.gpuagent.container.ImageConfig;
import io.gpuagent.container.PullProgressListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;

/**
 * Launches sessions: admits a request into the {@link SessionTable} (idempotent by session id;
 * draining, the journal and the {@link LaunchPolicy} checked first), then pulls, creates and
 * starts its container on the launch pool, journaling each state before it takes effect. Also
 * pre-pulls the owner's images.
 *
 * <p>Queue policy: at most {@code permits} launches and pre-pulls are in flight (queued or
 * running) at once; the pool's bounded queue is sized to hold them all, so a task is never
 * rejected once admitted. A launch beyond that is refused with {@code launch_busy} before
 * anything is allocated or journaled; a pre-pull beyond it is skipped with a warning.
 */
final class Launcher {
    private static final Logger log = LoggerFactory.getLogger(Launcher.class);

    private final SessionTable table;
    private final SessionJournal journal;
    private final ContainerRuntime runtime;
    private final LaunchPolicy policy;
    private final Settler settler;
    private final Stopper stopper;
    private final SessionCounters counters;
    private final SessionListener listener;
    private final ExecutorService pool;
    private final Semaphore permits;
    private final int machineGpus;
    private final long epoch;
    private volatile boolean draining;
    private final java.util.function.Supplier<Optional<String>> engineProblem;

    Launcher(SessionTable table, SessionJournal journal, ContainerRuntime runtime, LaunchPolicy policy, Settler settler,
             Stopper stopper, SessionCounters counters, SessionListener listener, ExecutorService pool, int permits,
             int machineGpus, long epoch, java.util.function.Supplier<Optional<String>> engineProblem) {
        this.engineProblem = engineProblem;
        this.table = table;
        this.journal = journal;
        this.runtime = runtime;
        this.policy = policy;
        this.settler = settler;
        this.stopper = stopper;
        this.counters = counters;
        this.listener = listener;
        this.pool = pool;
        this.permits = new Semaphore(permits);
        this.machineGpus = machineGpus;
        this.epoch = epoch;
    }

    /** Accepts a launch and starts it in the background; a retried launch returns the existing session. */
    SessionView launch(LaunchRequest r) throws SessionException {
        try {
            SessionView v = accept(r);
            counters.launch("accepted");
            return v;
        } catch (SessionException e) {
            counters.launch(e.code());
            throw e;
        }
    }

    private SessionView accept(LaunchRequest r) throws SessionException {
        boolean[] permitTaken = {false}; // only a new launch takes one: a retried launch is answered whatever the load
        SessionTable.Admitted a;
        try {
            a = table.admit(r, req -> {
                admissible(req);
                if (!permits.tryAcquire()) {
                    throw new SessionException("launch_busy", "too many launches in progress on this host; retry in "
                            + "a moment");
                }
                permitTaken[0] = true;
            });
        } catch (SessionException | RuntimeException e) {
            if (permitTaken[0]) {
                permits.release();
            }
            throw e;
        }
        Session s = a.session();
        if (!a.fresh()) {
            return s.view();
        }
        log.info("session {}: accepted ({} on GPUs {}, ports {})", s.id(), r.image(), s.gpus(), s.hostPorts());
        listener.onChange(s.view());
        pool.execute(() -> {
            try {
                run(s);
            } finally {
                permits.release();
            }
        });
        return s.view();
    }

    private void admissible(LaunchRequest r) throws SessionException {
        if (draining) {
            throw new SessionException("draining", "this host is draining: it takes no new sessions (gpu-agent undrain)");
        }
        Optional<String> engineDown = engineProblem.get();
        if (engineDown.isPresent()) {
            throw new SessionException("engine_unavailable", engineDown.get());
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
    }

    /**
     * Pull (when missing), create, start: each state journaled before it takes effect. The image's
     * CUDA requirement is checked once its config is local, before the pull when it already is,
     * and always before the STARTING state and the create: a refusal leaves no container.
     */
    private void run(Session accepted) {
        String id = accepted.id();
        LaunchRequest r = accepted.request();
        try {
            // the image's CUDA is judged as soon as its config is here: before a pull when it is local,
            // else right after the pull (the engine reads an image's config only once it has the image)
            Optional<ImageConfig> local = runtime.inspectImage(r.image());
            if (local.isPresent()) {
                policy.checkCuda(r, local.get(), table.gpusOf(accepted.gpus()));
            } else {
                listener.onChange(table.transition(id, SessionState.PULLING, null, "pulling " + r.image()).session().view());
                PullProgressListener logged = loggedProgress("session " + id, r.image());
                runtime.pull(r.image(), (status, cur, total) -> {
                    table.update(id, d -> d.pullProgress = total > 0
                            ? String.format("%s %d/%d MB", status, cur >> 20, total >> 20) : status);
                    logged.onProgress(status, cur, total);
                });
                ImageConfig pulled = runtime.inspectImage(r.image()).orElseThrow(() -> new ContainerException(
                        "inspect image " + r.image() + ": gone right after its pull"));
                policy.checkCuda(r, pulled, table.gpusOf(accepted.gpus()));
            }
            if (stopRequestedBeforeStart(id)) {
                return;
            }
            SessionTable.Transition starting = table.transition(id, SessionState.STARTING, null, null);
            listener.onChange(starting.session().view());
            ContainerSpec spec = policy.containerSpec(r, accepted.gpus(), table.gpuShare(accepted.gpus()),
                    accepted.hostPorts(), epoch, starting.seq());
            runtime.createNetwork(spec.network(), Map.of(LaunchPolicy.LABEL_SESSION, id));
            String containerId;
            try {
                containerId = runtime.create(spec);
            } catch (ContainerConflictException retried) {
                // created before a crash: the name is the session's, so it is ours
                containerId = runtime.inspect(spec.name()).orElseThrow(() -> retried).id();
            }
            String created = containerId;
            table.update(id, d -> d.containerId = created);
            runtime.start(created);
            ContainerState c = runtime.inspect(created).orElseThrow(() -> new ContainerException("container vanished"));
            table.update(id, d -> d.startedAt = c.startedAt());
            Session running = table.transition(id, SessionState.RUNNING, null, null).session();
            listener.onChange(running.view());
            log.info("session {}: running as {} since {}", id, created.substring(0, Math.min(12, created.length())),
                    c.startedAt());
            Session.StopRequest stop = running.stopRequested();
            if (stop != null) {
                stopper.stop(id, stop.code(), stop.reason());
            }
        } catch (ImageCudaException e) {
            // before any container: nothing to inspect or remove; the GPUs are freed by the settle
            log.warn("session {}: refused: {}", id, e.getMessage());
            settler.settle(id, SessionState.FAILED, e.endReason(), e.getMessage(), null);
        } catch (ContainerException | RuntimeException e) {
            log.warn("session {}: launch failed: {}", id, e.getMessage());
            settler.settle(id, SessionState.FAILED, EndReason.LAUNCH_FAILED, "launch failed: " + e.getMessage(),
                    inspectQuietly(id));
        } catch (SessionException e) {
            settler.settle(id, SessionState.FAILED, EndReason.JOURNAL_FAILED, e.getMessage(), null);
        }
    }

    /** A stop that arrived while pulling ends the session before any container exists. */
    private boolean stopRequestedBeforeStart(String id) {
        Session.StopRequest stop = table.get(id).map(Session::stopRequested).orElse(null);
        if (stop == null) {
            return false;
        }
        settler.settle(id, SessionState.ENDED, stop.code(), stop.reason(), null);
        return true;
    }

    /** The failed launch's container as the engine has it, for its times; null when there is none or the engine is unwell. */
    private ContainerState inspectQuietly(String id) {
        String containerId = table.get(id).map(Session::containerId).orElse(null);
        if (containerId == null) {
            return null;
        }
        try {
            return runtime.inspect(containerId).orElse(null);
        } catch (ContainerException e) {
            return null;
        }
    }

    /**
     * Pulls images in the background so that launches of them are instant; an image the policy
     * would refuse is skipped with a warning. Progress is logged at most every 10 %.
     */
    void prepull(List<String> images) {
        for (String image : images) {
            try {
                policy.checkImageOnly(image);
            } catch (PolicyViolationException e) {
                log.warn("not pre-pulling {}: {}", image, e.getMessage());
                continue;
            }
            if (!permits.tryAcquire()) {
                log.warn("not pre-pulling {}: the launch queue is full", image);
                continue;
            }
            pool.execute(() -> {
                try {
                    pull(image);
                } finally {
                    permits.release();
                }
            });
        }
    }

    private void pull(String image) {
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
    }

    /** A pull listener that logs every 10 % (a 10 GB image takes minutes: progress must be visible). */
    private static PullProgressListener loggedProgress(String who, String image) {
        long[] lastTenth = {-1};
        return (status, cur, total) -> {
            long tenth = total > 0 ? Math.min(10, cur * 10 / total) : -1;
            if (tenth > lastTenth[0]) {
                lastTenth[0] = tenth;
                log.info("{}: pulling {}: {}% ({} of {} MB)", who, image, tenth * 10, cur >> 20, total >> 20);
            }
        };
    }

    void drain(boolean on) {
        draining = on;
        log.info(on ? "draining: no new sessions; running ones continue" : "undrained: taking new sessions");
    }

    boolean draining() {
        return draining;
    }
}
