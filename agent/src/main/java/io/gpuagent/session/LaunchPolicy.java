package io.gpuagent.session;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.container.ContainerSpec;
import io.gpuagent.container.GpuAttachMode;
import io.gpuagent.container.ImageConfig;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The launch policy for untrusted renters, enforced whatever the scheduler asks. {@link #check}
 * rejects a request outside the owner's policy with a {@link PolicyViolationException} naming the
 * rule (nothing is created); {@link #containerSpec} turns an accepted request into the one
 * container it may become:
 * <ul>
 *   <li>never privileged, no host network/PID/IPC namespace, no host mounts, no Docker socket (the
 *       spec has no field for any of them: they cannot be asked for);</li>
 *   <li>capabilities: drop ALL, add back only {@link #CAP_ADD}; {@code no-new-privileges}; the
 *       engine's default seccomp profile (never {@code unconfined});</li>
 *   <li>memory (= memory+swap), CPU, pids and disk limits from the owner's per-GPU figures;</li>
 *   <li>a container log capped per session ({@code log_max_size_mb} x {@code log_max_files}), so
 *       that what a renter prints cannot fill the owner's disk outside the disk limit;</li>
 *   <li>images only from the allow list and not on the deny list;</li>
 *   <li>a network of its own; published ports only from the owner's range;</li>
 *   <li>renter-supplied {@code NVIDIA_*} variables stripped, and the variables through which an
 *       image could select GPUs pinned in every mode ({@link GpuVisibility}: the session's UUIDs,
 *       or {@code void});</li>
 *   <li>the image's CUDA requirement checked against the driver ({@link #checkCuda}, by the
 *       launcher once the image is local);</li>
 *   <li>the renter's SSH public key installed as root's {@code authorized_keys}.</li>
 * </ul>
 */
public final class LaunchPolicy {
    /** The capabilities a renter's container keeps: enough for package managers and sshd, no more. */
    public static final List<String> CAP_ADD = List.of("CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID",
            "SETUID", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "AUDIT_WRITE");
    public static final List<String> SECURITY_OPTS = List.of("no-new-privileges:true");
    /** Container labels, all under one prefix. */
    public static final String LABEL_SESSION = "io.gpuagent.session";
    public static final String LABEL_RENTAL = "io.gpuagent.rental";
    public static final String LABEL_RENTER = "io.gpuagent.renter";
    public static final String LABEL_EPOCH = "io.gpuagent.epoch";
    public static final String LABEL_JOURNAL = "io.gpuagent.journal-seq";
    public static final String NAME_PREFIX = "gpu-agent-";

    private static final Pattern SESSION_ID = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}");
    private static final Pattern IMAGE = Pattern.compile("[a-z0-9][a-z0-9._/:@-]{0,254}");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
    private static final Pattern SSH_KEY = Pattern.compile(
            "(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\\.com) [A-Za-z0-9+/]+={0,3}( [^\\r\\n]{0,255})?");
    private static final Pattern DECIMAL = Pattern.compile("0|[1-9][0-9]{0,77}");
    private static final int MAX_COMMAND_ARGS = 128;
    private static final int MAX_ARG_BYTES = 8192;
    private static final int MAX_ENV = 256;
    private static final int MAX_ENV_VALUE_BYTES = 32768;

    private final AgentConfig.Sessions config;
    private final List<ImagePattern> allowed;
    private final List<ImagePattern> denied;
    private final GpuAttachMode attach;
    private final CudaCheck cuda;
    private final SessionLimits limits;

    /** A policy that checks no image's CUDA (the driver's version unknown: tests, CPU-only hosts). */
    public LaunchPolicy(AgentConfig.Sessions config) {
        this(config, CudaCheck.UNKNOWN_DRIVER);
    }

    /** A policy whose launches refuse images the driver described by {@code cuda} cannot run (limits uncapped). */
    public LaunchPolicy(AgentConfig.Sessions config, CudaCheck cuda) {
        this(config, cuda, SessionLimits.unchecked(config));
    }

    /** The daemon's policy: the per-GPU limits resolved on this host ({@link SessionLimits#resolve}). */
    public LaunchPolicy(AgentConfig.Sessions config, CudaCheck cuda, SessionLimits limits) {
        this.config = config;
        this.cuda = cuda;
        this.limits = limits;
        this.allowed = config.allowedImages().stream().map(ImagePattern::new).toList();
        this.denied = config.deniedImages().stream().map(ImagePattern::new).toList();
        this.attach = GpuAttachMode.valueOf(config.gpuAttach().toUpperCase(Locale.ROOT));
    }

    public GpuAttachMode attachMode() {
        return attach;
    }

    /** Checks everything about a request that does not depend on what is free right now. */
    public void check(LaunchRequest r, int machineGpus) throws PolicyViolationException {
        if (r.sessionId() == null || !SESSION_ID.matcher(r.sessionId()).matches()) {
            throw new PolicyViolationException("session_id", "session id " + quote(r.sessionId()) + " must be 1-63 "
                    + "lower-case letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        if (r.rentalId() == null || r.rentalId().isBlank() || r.rentalId().length() > 128) {
            throw new PolicyViolationException("rental_id", "rental id is missing or longer than 128 characters");
        }
        // the renter is informational (a label, the session's view): vouchers are checked against the
        // rental's voucher signer on chain, never against it, so a launch without one is accepted
        if (r.renter() != null && (r.renter().length() > 128 || r.renter().chars().anyMatch(Character::isISOControl))) {
            throw new PolicyViolationException("renter", "renter " + quote(r.renter()) + " is longer than 128 "
                    + "characters or has control characters; send the renter's address, or leave it out");
        }
        checkImage(r.image());
        // named units (whole GPUs, MIG instances: several per GPU) are checked by the allocator
        int gpus = r.gpuUuids().isEmpty() ? r.gpuCount() : 0;
        if (gpus < 0 || gpus > machineGpus || r.gpuUuids().size() > 1024) {
            throw new PolicyViolationException("gpu_count", "asked for " + Math.max(gpus, r.gpuUuids().size())
                    + " GPUs; this machine has " + machineGpus);
        }
        if (r.command().size() > MAX_COMMAND_ARGS) {
            throw new PolicyViolationException("command", "command has " + r.command().size() + " arguments; at most "
                    + MAX_COMMAND_ARGS);
        }
        for (String a : r.command()) {
            if (a == null || a.getBytes(StandardCharsets.UTF_8).length > MAX_ARG_BYTES || a.indexOf('\0') >= 0) {
                throw new PolicyViolationException("command", "a command argument is missing, has a NUL byte or is "
                        + "longer than " + MAX_ARG_BYTES + " bytes");
            }
        }
        if (r.env().size() > MAX_ENV) {
            throw new PolicyViolationException("env", r.env().size() + " environment variables; at most " + MAX_ENV);
        }
        for (Map.Entry<String, String> e : r.env().entrySet()) {
            if (!ENV_NAME.matcher(e.getKey()).matches()) {
                throw new PolicyViolationException("env", "environment variable name " + quote(e.getKey())
                        + " is not a valid name (letters, digits, '_', not starting with a digit)");
            }
            String v = e.getValue();
            if (v == null || v.indexOf('\0') >= 0 || v.getBytes(StandardCharsets.UTF_8).length > MAX_ENV_VALUE_BYTES) {
                throw new PolicyViolationException("env", "environment variable " + e.getKey() + " has no value, a NUL "
                        + "byte or more than " + MAX_ENV_VALUE_BYTES + " bytes");
            }
        }
        if (r.ports().size() > config.maxPorts()) {
            throw new PolicyViolationException("ports", "asked to publish " + r.ports().size() + " ports; the owner "
                    + "allows " + config.maxPorts());
        }
        if (r.ports().stream().distinct().count() != r.ports().size()) {
            throw new PolicyViolationException("ports", "a container port is listed twice: " + r.ports());
        }
        for (Integer p : r.ports()) {
            if (p == null || p < 1 || p > 65535) {
                throw new PolicyViolationException("ports", "container port " + p + " is not 1..65535");
            }
        }
        if (r.sshPublicKey() != null && !SSH_KEY.matcher(r.sshPublicKey().strip()).matches()) {
            throw new PolicyViolationException("ssh_key", "the SSH public key is not one OpenSSH public key line "
                    + "(ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521 or sk-ssh-ed25519@openssh.com)");
        }
        if (r.pricePerSecond() == null || !DECIMAL.matcher(r.pricePerSecond()).matches()) {
            throw new PolicyViolationException("price", "price per second " + quote(r.pricePerSecond())
                    + " must be a non-negative integer of token base units, in decimal");
        }
        if (r.maxDurationSeconds() < 1 || r.maxDurationSeconds() > config.maxDurationS()) {
            throw new PolicyViolationException("max_duration", "max duration " + r.maxDurationSeconds() + " s is "
                    + "outside 1.." + config.maxDurationS() + " s (sessions.max_duration_s)");
        }
    }

    /** The image rules alone (for pre-pulls). */
    public void checkImageOnly(String image) throws PolicyViolationException {
        checkImage(image);
    }

    private void checkImage(String image) throws PolicyViolationException {
        if (image == null || !IMAGE.matcher(image).matches()) {
            throw new PolicyViolationException("image", "image reference " + quote(image) + " is not a valid "
                    + "lower-case image reference");
        }
        if (allowed.stream().noneMatch(p -> p.matches(image))) {
            throw new PolicyViolationException("image_not_allowed", "image " + image + " is not in the owner's allow "
                    + "list " + config.allowedImages());
        }
        for (ImagePattern p : denied) {
            if (p.matches(image)) {
                throw new PolicyViolationException("image_denied", "image " + image + " is denied by the owner's "
                        + "pattern " + p);
            }
        }
    }

    /**
     * The container an accepted request becomes.
     *
     * @param gpus      the GPUs allocated to it
     * @param hostPorts host ports allocated, one per requested container port, in order
     * @param epoch     the agent's start epoch (a label for reconciliation)
     * @param journalSeq the journal sequence of the launch intent (a label for reconciliation)
     */
    public ContainerSpec containerSpec(LaunchRequest r, List<String> gpus, List<Integer> hostPorts, long epoch,
                                       long journalSeq) {
        return containerSpec(r, gpus, Math.max(1, gpus.size()), hostPorts, epoch, journalSeq);
    }

    /**
     * @param gpuShare how many GPUs' worth the units are (a MIG instance is its slices / 7): the
     *                 per-GPU CPU, memory and disk limits are multiplied by it
     */
    public ContainerSpec containerSpec(LaunchRequest r, List<String> gpus, double gpuShare, List<Integer> hostPorts,
                                       long epoch, long journalSeq) {
        double n = gpuShare;
        Map<String, String> env = renterEnv(r);
        List<String> attached = attach == GpuAttachMode.NONE ? List.of() : gpus;
        env.putAll(GpuVisibility.pinned(attach, attached));
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(LABEL_SESSION, r.sessionId());
        labels.put(LABEL_RENTAL, r.rentalId());
        labels.put(LABEL_RENTER, r.renter() == null ? "" : r.renter());
        labels.put(LABEL_EPOCH, Long.toString(epoch));
        labels.put(LABEL_JOURNAL, Long.toString(journalSeq));
        List<ContainerSpec.PortBinding> ports = new ArrayList<>();
        for (int i = 0; i < r.ports().size(); i++) {
            ports.add(new ContainerSpec.PortBinding(r.ports().get(i), "tcp", config.publishAddress(), hostPorts.get(i)));
        }
        List<ContainerSpec.ContainerFile> files = new ArrayList<>();
        if (r.sshPublicKey() != null) {
            files.add(new ContainerSpec.ContainerFile("/root/.ssh/authorized_keys",
                    (r.sshPublicKey().strip() + "\n").getBytes(StandardCharsets.UTF_8), 0600));
        }
        long memory = limits.memoryBytes(n);
        Long disk = config.diskPerGpuGb() == 0 ? null : (long) (config.diskPerGpuGb() * 1024 * 1024 * 1024 * n);
        // per session, not per GPU: what a renter prints does not grow with the GPUs rented
        ContainerSpec.LogLimit log = new ContainerSpec.LogLimit(config.logMaxSizeMb() * 1024 * 1024,
                (int) config.logMaxFiles());
        return new ContainerSpec(containerName(r.sessionId()), r.image(), r.command(), env, labels, attach,
                attached, memory, limits.nanoCpus(n),
                config.pidsLimit(), disk, CAP_ADD, SECURITY_OPTS, containerName(r.sessionId()), ports, files, log);
    }

    /**
     * Refuses an image whose CUDA requirement the driver cannot meet on the session's GPUs (nothing
     * to check for a session without GPUs). The environment judged is the container's: the
     * image's, with the renter's allowed variables on top, as the engine will merge them.
     */
    public void checkCuda(LaunchRequest r, ImageConfig image, List<String> gpus) throws ImageCudaException {
        if (gpus.isEmpty()) {
            return;
        }
        Map<String, String> env = new LinkedHashMap<>(image.env());
        env.putAll(renterEnv(r));
        cuda.check(r.image(), env, gpus);
    }

    /** The renter's variables the container gets: none that the toolkit reads (NVIDIA_*, see GpuVisibility). */
    private static Map<String, String> renterEnv(LaunchRequest r) {
        Map<String, String> env = new LinkedHashMap<>();
        r.env().forEach((k, v) -> {
            if (GpuVisibility.renterMaySet(k)) {
                env.put(k, v);
            }
        });
        return env;
    }

    /** Container and network name of a session: the engine refuses a second one of the same name. */
    public static String containerName(String sessionId) {
        return NAME_PREFIX + sessionId;
    }

    private static String quote(String s) {
        return s == null ? "(none)" : "\"" + (s.length() > 80 ? s.substring(0, 80) + "..." : s) + "\"";
    }
}
