package io.gpuagent.protocol;

import java.util.List;
import java.util.Map;

/**
 * Every message of protocol version 1, as immutable records (docs/protocol.md shows each with a
 * JSON example). The wire type of each record is {@link MessageCodec#typeOf}; a record's
 * components are its body's fields in snake_case. Constructors check what the codec cannot (a
 * required field present, a value in range) and throw {@link FieldException}, which the codec
 * answers as {@code missing_field} or {@code wrong_type}.
 *
 * <p>Why this file is long (over 400 lines): the interface is sealed, and every message of the
 * protocol is one of its records, each with the checks of its fields; one file is the whole
 * vocabulary, as docs/protocol.md is the whole contract.
 *
 * <p>Direction: {@link Request}s come from the scheduler and get exactly one response with the
 * same id ({@link Response}, or {@link Error}); {@link Event}s are pushed by the agent without an
 * id. {@link Heartbeat} travels both ways.
 */
public sealed interface Message {
    /** Scheduler to agent; answered once. */
    sealed interface Request extends Message {
    }

    /** Agent to scheduler, answering a request. */
    sealed interface Response extends Message {
    }

    /** Agent to scheduler, unsolicited. */
    sealed interface Event extends Message {
    }

    // ---- requests ------------------------------------------------------------------------------

    /**
     * Opens the conversation: nothing else is served before it. The agent answers {@link Welcome}
     * with the highest version both speak, or {@code unsupported_version}.
     *
     * @param versions     protocol versions the scheduler speaks
     * @param scheduler    the scheduler's name, for logs
     * @param challenge    16..64 random bytes as hex: the agent signs it with its payout wallet
     * @param capabilities what the scheduler can do (informational)
     */
    record Hello(List<Integer> versions, String scheduler, String challenge, List<String> capabilities)
            implements Request {
        public Hello {
            FieldException.require(versions, "versions");
            if (versions.isEmpty()) {
                throw new FieldException(ErrorCode.WRONG_TYPE, "versions", "must list at least one version");
            }
            versions = List.copyOf(versions);
            scheduler = scheduler == null ? "" : FieldException.maxLength(scheduler, 128, "scheduler");
            if (challenge != null && !challenge.matches("(0x)?([0-9a-fA-F]{2}){16,64}")) {
                throw new FieldException(ErrorCode.WRONG_TYPE, "challenge", "must be 16..64 bytes as hex");
            }
            capabilities = capabilities == null ? List.of() : List.copyOf(capabilities);
        }
    }

    /** Asks for the current offer; answered with {@link Offer}. */
    record GetOffer() implements Request {
    }

    /**
     * Starts a renter's session; idempotent by {@code session}. Answered with {@link SessionReply}.
     *
     * @param gpus         GPUs wanted (ignored when {@code gpuUuids} names them)
     * @param pricePerSecond the agreed price per second in token base units, a decimal string
     */
    record Launch(String session, String rental, String renter, Integer gpus, List<String> gpuUuids, String image,
                  List<String> command, Map<String, String> env, List<Integer> ports, String sshKey,
                  String pricePerSecond, Long maxDurationS, String migProfile, String topology) implements Request {
        /** The wishes a multi-GPU launch may state about how its GPUs are linked. */
        public static final List<String> TOPOLOGIES = List.of("any", "prefer", "nvlink");

        /** A launch without MIG profile or topology wish (protocol v1's fields). */
        public Launch(String session, String rental, String renter, Integer gpus, List<String> gpuUuids, String image,
                      List<String> command, Map<String, String> env, List<Integer> ports, String sshKey,
                      String pricePerSecond, Long maxDurationS) {
            this(session, rental, renter, gpus, gpuUuids, image, command, env, ports, sshKey, pricePerSecond,
                    maxDurationS, null, null);
        }

        public Launch {
            FieldException.id(session, "session");
            FieldException.require(rental, "rental");
            FieldException.maxLength(rental, 128, "rental");
            renter = renter == null ? "" : FieldException.maxLength(renter, 128, "renter");
            FieldException.require(image, "image");
            FieldException.maxLength(image, 512, "image");
            gpuUuids = gpuUuids == null ? List.of() : List.copyOf(gpuUuids);
            if (migProfile != null && !migProfile.matches("[1-8]g\\.[0-9]{1,4}gb(\\+me)?")) {
                throw new FieldException(ErrorCode.WRONG_TYPE, "mig_profile",
                        "must name a MIG profile as the offer's units do, e.g. \"1g.10gb\" or \"3g.40gb\"");
            }
            if (migProfile != null && (gpus != null || !gpuUuids.isEmpty())) {
                throw new FieldException(ErrorCode.WRONG_TYPE, "mig_profile",
                        "asks for one MIG instance: send it without gpus and gpu_uuids");
            }
            if (topology != null && !TOPOLOGIES.contains(topology)) {
                throw new FieldException(ErrorCode.WRONG_TYPE, "topology", "must be one of any, prefer, nvlink");
            }
            if (gpus == null && gpuUuids.isEmpty() && migProfile == null) {
                throw new FieldException(ErrorCode.MISSING_FIELD, "gpus", "is required (or gpu_uuids, or mig_profile)");
            }
            if (gpus != null && (gpus < 0 || gpus > 1024)) {
                throw new FieldException(ErrorCode.WRONG_TYPE, "gpus", "must be 0..1024");
            }
            command = command == null ? List.of() : List.copyOf(command);
            env = env == null ? Map.of() : Map.copyOf(env);
            ports = ports == null ? List.of() : List.copyOf(ports);
            FieldException.require(pricePerSecond, "price_per_second");
            if (!pricePerSecond.matches("[0-9]{1,30}")) {
                throw new FieldException(ErrorCode.WRONG_TYPE, "price_per_second",
                        "must be a decimal string of token base units, e.g. \"611\"");
            }
            FieldException.require(maxDurationS, "max_duration_s");
            if (maxDurationS <= 0) {
                throw new FieldException(ErrorCode.WRONG_TYPE, "max_duration_s", "must be positive");
            }
        }
    }

    /** Stops a session (idempotent); answered with {@link SessionReply}. */
    record Stop(String session, String reason) implements Request {
        public Stop {
            FieldException.id(session, "session");
            reason = reason == null || reason.isEmpty() ? "stopped_by_scheduler" : FieldException.maxLength(reason, 256, "reason");
        }
    }

    /** One session's state; answered with {@link SessionReply}. */
    record Status(String session) implements Request {
        public Status {
            FieldException.id(session, "session");
        }
    }

    /** Every session the agent knows (running and ended ones it still holds): resynchronisation. */
    record ListSessions() implements Request {
    }

    /**
     * A renter-signed cumulative usage voucher relayed to the agent (EIP-712, docs/payments.md).
     * Answered with {@link VoucherAck} carrying the highest voucher the agent now holds.
     */
    record Voucher(String session, String rental, Long cumulativeSeconds, String cumulativeAmount, String signature)
            implements Request {
        public Voucher {
            FieldException.id(session, "session");
            FieldException.require(rental, "rental");
            FieldException.require(cumulativeSeconds, "cumulative_seconds");
            if (cumulativeSeconds < 0) {
                throw new FieldException(ErrorCode.WRONG_TYPE, "cumulative_seconds", "must not be negative");
            }
            FieldException.require(cumulativeAmount, "cumulative_amount");
            if (!cumulativeAmount.matches("[0-9]{1,78}")) {
                throw new FieldException(ErrorCode.WRONG_TYPE, "cumulative_amount", "must be a decimal string");
            }
            FieldException.require(signature, "signature");
            FieldException.maxLength(signature, 200, "signature");
        }
    }

    // ---- both ways -----------------------------------------------------------------------------

    /**
     * Keeps the connection alive. As a request (with an id) it is answered with a heartbeat; the
     * agent also sends its own with an id, which the scheduler should answer so that the agent
     * can measure the round trip.
     */
    record Heartbeat(String time) implements Request, Response, Event {
    }

    // ---- responses -----------------------------------------------------------------------------

    /**
     * @param version           the protocol version chosen for this connection
     * @param epoch             changes each time the agent starts (a new epoch: resynchronise with {@code list})
     * @param payoutAddress     the wallet claims are paid to, or null when escrow is disabled
     * @param signedMessage     the exact text signed: {@code gpu-agent hello\nhost: <host_id>\nchallenge: <challenge>}
     * @param challengeSignature EIP-191 personal_sign of {@code signedMessage} by {@code payoutAddress}
     * @param chainId           the chain of the escrow that vouchers are signed for (EIP-712 domain), or null without escrow
     * @param escrowContract    the escrow contract's address (the domain's verifyingContract), or null without escrow
     */
    record Welcome(int version, String agentVersion, String hostId, String epoch, List<String> capabilities,
                   boolean simulated, String payoutAddress, String signedMessage, String challengeSignature,
                   Long chainId, String escrowContract)
            implements Response {
        /** A welcome that names no escrow. */
        public Welcome(int version, String agentVersion, String hostId, String epoch, List<String> capabilities,
                       boolean simulated, String payoutAddress, String signedMessage, String challengeSignature) {
            this(version, agentVersion, hostId, epoch, capabilities, simulated, payoutAddress, signedMessage,
                    challengeSignature, null, null);
        }
    }

    /** One session (the answer to launch, stop and status). */
    record SessionReply(SessionInfo session) implements Response {
    }

    /** Every session (the answer to list). */
    record Sessions(List<SessionInfo> sessions, boolean draining) implements Response {
        public Sessions {
            sessions = List.copyOf(sessions);
        }
    }

    /** The highest voucher now held for the rental. */
    record VoucherAck(String session, String rental, long cumulativeSeconds, String cumulativeAmount) implements Response {
    }

    /** A request failed (with its id), or a frame could not be read (without one). Nothing changed. */
    record Error(String code, String message) implements Response, Event {
    }

    // ---- events (offer is also the answer to get_offer) ----------------------------------------

    /** What this host rents out, now. Sent at once on every change and every offer interval. */
    record Offer(String hostId, String region, String agentVersion, boolean simulated, String driverVersion,
                 String cudaVersion, int cpuCores, long memoryMb, long diskGb, long bandwidthMbps, boolean draining,
                 String payoutAddress, String token, Long chainId, long minDurationS, long maxDurationS,
                 long storagePricePerGbHour, long bandwidthPricePerGb, List<OfferGpu> gpus, int freeGpus,
                 String generatedAt, List<OfferUnit> units, List<List<Integer>> nvlinkGroups, String escrowContract,
                 String unavailable)
            implements Response, Event {
        public Offer {
            gpus = List.copyOf(gpus);
            units = units == null ? List.of() : List.copyOf(units);
            nvlinkGroups = nvlinkGroups == null ? List.of() : nvlinkGroups.stream().map(List::copyOf).toList();
        }

        /** An offer while renting is available (nothing is {@code unavailable}). */
        public Offer(String hostId, String region, String agentVersion, boolean simulated, String driverVersion,
                     String cudaVersion, int cpuCores, long memoryMb, long diskGb, long bandwidthMbps, boolean draining,
                     String payoutAddress, String token, Long chainId, long minDurationS, long maxDurationS,
                     long storagePricePerGbHour, long bandwidthPricePerGb, List<OfferGpu> gpus, int freeGpus,
                     String generatedAt, List<OfferUnit> units, List<List<Integer>> nvlinkGroups, String escrowContract) {
            this(hostId, region, agentVersion, simulated, driverVersion, cudaVersion, cpuCores, memoryMb, diskGb,
                    bandwidthMbps, draining, payoutAddress, token, chainId, minDurationS, maxDurationS,
                    storagePricePerGbHour, bandwidthPricePerGb, gpus, freeGpus, generatedAt, units, nvlinkGroups,
                    escrowContract, null);
        }

        /** An offer that names no escrow contract. */
        public Offer(String hostId, String region, String agentVersion, boolean simulated, String driverVersion,
                     String cudaVersion, int cpuCores, long memoryMb, long diskGb, long bandwidthMbps, boolean draining,
                     String payoutAddress, String token, Long chainId, long minDurationS, long maxDurationS,
                     long storagePricePerGbHour, long bandwidthPricePerGb, List<OfferGpu> gpus, int freeGpus,
                     String generatedAt, List<OfferUnit> units, List<List<Integer>> nvlinkGroups) {
            this(hostId, region, agentVersion, simulated, driverVersion, cudaVersion, cpuCores, memoryMb, diskGb,
                    bandwidthMbps, draining, payoutAddress, token, chainId, minDurationS, maxDurationS,
                    storagePricePerGbHour, bandwidthPricePerGb, gpus, freeGpus, generatedAt, units, nvlinkGroups, null);
        }

        /** An offer of whole GPUs only (no MIG units, no NVLink groups). */
        public Offer(String hostId, String region, String agentVersion, boolean simulated, String driverVersion,
                     String cudaVersion, int cpuCores, long memoryMb, long diskGb, long bandwidthMbps, boolean draining,
                     String payoutAddress, String token, Long chainId, long minDurationS, long maxDurationS,
                     long storagePricePerGbHour, long bandwidthPricePerGb, List<OfferGpu> gpus, int freeGpus,
                     String generatedAt) {
            this(hostId, region, agentVersion, simulated, driverVersion, cudaVersion, cpuCores, memoryMb, diskGb,
                    bandwidthMbps, draining, payoutAddress, token, chainId, minDurationS, maxDurationS,
                    storagePricePerGbHour, bandwidthPricePerGb, gpus, freeGpus, generatedAt, null, null);
        }
    }

    /**
     * One GPU of the offer; {@code free}: healthy, priced, not rented and not in MIG mode (a GPU in
     * MIG mode is rented by its instances, listed in {@link Offer#units()}).
     *
     * @param migMode {@code enabled} / {@code disabled}; null when the card has no MIG
     */
    record OfferGpu(int index, String uuid, String model, long memoryMb, String pciBusId, Integer pcieGeneration,
                    Integer pcieWidth, String computeCapability, String health, boolean free, String pricePerSecond,
                    String migMode) {
        /** A GPU without MIG. */
        public OfferGpu(int index, String uuid, String model, long memoryMb, String pciBusId, Integer pcieGeneration,
                        Integer pcieWidth, String computeCapability, String health, boolean free, String pricePerSecond) {
            this(index, uuid, model, memoryMb, pciBusId, pcieGeneration, pcieWidth, computeCapability, health, free,
                    pricePerSecond, null);
        }
    }

    /**
     * One thing a renter can hold: a whole GPU ({@code kind} {@code gpu}, {@code id} its UUID) or a MIG
     * instance ({@code kind} {@code mig}, {@code id} its {@code MIG-} UUID); a launch names it in
     * {@code gpu_uuids}, or asks for a profile with {@code mig_profile}.
     *
     * @param gpuIndex      the GPU it is on (its index in {@link Offer#gpus()})
     * @param profile       the MIG profile, {@code 1g.10gb}; null for a whole GPU
     * @param slices        compute slices of the MIG instance; null for a whole GPU
     * @param gpuInstanceId the MIG GPU instance id; null for a whole GPU
     */
    record OfferUnit(String id, String kind, int gpuIndex, String gpuUuid, String model, String profile, Integer slices,
                     long memoryMb, Integer gpuInstanceId, String health, boolean free, String pricePerSecond) {
    }

    /** A session changed state (its {@code state} field says to what). */
    record SessionState(SessionInfo session) implements Event {
    }

    /** A running session's billed time and usage, every second. */
    record SessionUsage(String session, String rental, long billedSeconds, UsageInfo usage) implements Event {
    }

    /** A session ended or failed: its final billed seconds and the reason. */
    record SessionEnded(SessionInfo session) implements Event {
    }

    /** A GPU's health changed; an unhealthy GPU has left the offer. */
    record GpuHealth(int index, String uuid, String health, String reason) implements Event {
    }

    /** The owner drained (no new sessions; running ones continue) or undrained the host. */
    record Drain(boolean draining, String reason) implements Event {
    }

    /**
     * A payout claim changed state (docs/payments.md).
     *
     * @param claim       the agent's claim id
     * @param rentals     the rentals it claims (several when batched)
     * @param state       pending, signed, sent, mined, final, failed, replaced, ...
     * @param amount      the sum of the cumulative amounts claimed, token base units
     * @param close       whether it closes its rentals (the final claim of a session)
     * @param transaction its transaction hash, once signed
     */
    record Claim(String claim, List<String> rentals, String state, String amount, boolean close, String transaction,
                 String detail) implements Event {
        public Claim {
            rentals = List.copyOf(rentals);
        }
    }

    // ---- streams (negotiated: "streams" in hello's and welcome's capabilities) ------------------

    /**
     * Opens a byte stream to a running session's container: {@code exec} (a command or a login
     * shell, with or without a PTY), {@code tunnel} (a TCP connection to a container port, nothing
     * published on the host) or {@code logs} (the container's stdout and stderr, tail and follow).
     * The scheduler chooses the stream number, unused on this connection; the bytes then travel in
     * binary frames (docs/protocol.md, "Streams"). Answered {@link StreamOpened} or an error.
     *
     * @param window the bytes the scheduler is ready to receive on this stream before it grants more
     * @param grant  the renter's signed access grant (docs/streams.md), where the owner requires one
     */
    record StreamOpen(String session, Long stream, String kind, List<String> command, Boolean tty, Integer cols,
                      Integer rows, Map<String, String> env, Integer port, Integer tail, Boolean follow, Long window,
                      StreamGrant grant) implements Request {
        /** The kinds of stream. */
        public static final List<String> KINDS = List.of("exec", "tunnel", "logs");
        /** Largest window either side may announce or reach: 16 MiB. */
        public static final long MAX_WINDOW = 16L << 20;
        /** Smallest window a scheduler may announce: 1 KiB (a smaller one would only add frames). */
        public static final long MIN_WINDOW = 1024;

        public StreamOpen {
            FieldException.id(session, "session");
            streamNumber(stream);
            FieldException.require(kind, "kind");
            if (!KINDS.contains(kind)) {
                throw new FieldException(ErrorCode.WRONG_TYPE, "kind", "must be one of exec, tunnel, logs");
            }
            command = command == null ? List.of() : List.copyOf(command);
            if (command.size() > 256 || command.stream().anyMatch(a -> a == null || a.length() > 65536)) {
                throw new FieldException(ErrorCode.WRONG_TYPE, "command", "must be at most 256 strings of at most 64 KiB");
            }
            env = env == null ? Map.of() : Map.copyOf(env);
            for (String k : env.keySet()) {
                if (!k.matches("[A-Za-z_][A-Za-z0-9_]{0,127}")) {
                    throw new FieldException(ErrorCode.WRONG_TYPE, "env", "name \"" + k + "\" is not an environment variable name");
                }
            }
            size(cols, "cols");
            size(rows, "rows");
            if ("tunnel".equals(kind)) {
                FieldException.require(port, "port");
            }
            if (port != null && (port < 1 || port > 65535)) {
                throw new FieldException(ErrorCode.WRONG_TYPE, "port", "must be a TCP port, 1..65535");
            }
            if (tail != null && (tail < 0 || tail > 100_000)) {
                throw new FieldException(ErrorCode.WRONG_TYPE, "tail", "must be 0..100000 lines");
            }
            if (window != null && (window < MIN_WINDOW || window > MAX_WINDOW)) {
                throw new FieldException(ErrorCode.WRONG_TYPE, "window", "must be " + MIN_WINDOW + ".." + MAX_WINDOW + " bytes");
            }
        }

        /** Whether the exec asks for a PTY (default: yes for a login shell, no for a command). */
        public boolean wantsTty() {
            return tty != null ? tty : command.isEmpty();
        }

        static void streamNumber(Long stream) {
            FieldException.require(stream, "stream");
            if (stream < 1 || stream > 0x7FFF_FFFFL) {
                throw new FieldException(ErrorCode.WRONG_TYPE, "stream", "must be 1..2147483647");
            }
        }

        static void size(Integer v, String field) {
            if (v != null && (v < 1 || v > 1000)) {
                throw new FieldException(ErrorCode.WRONG_TYPE, field, "must be 1..1000");
            }
        }
    }

    /**
     * A renter's grant to enter one session (docs/streams.md): EIP-712 typed data signed by the
     * rental's voucher signer.
     *
     * @param kinds     the stream kinds it allows ({@code exec}, {@code tunnel}; {@code logs} needs none)
     * @param expires   until when, seconds since the epoch
     * @param signature 65 bytes as 0x-prefixed hex
     */
    record StreamGrant(List<String> kinds, Long expires, String nonce, String signature) {
        public StreamGrant {
            FieldException.require(kinds, "grant.kinds");
            kinds = List.copyOf(kinds);
            FieldException.require(expires, "grant.expires");
            FieldException.require(nonce, "grant.nonce");
            FieldException.maxLength(nonce, 66, "grant.nonce");
            FieldException.require(signature, "grant.signature");
            FieldException.maxLength(signature, 140, "grant.signature");
        }
    }

    /**
     * A stream is open; the scheduler may send up to {@code window} bytes of data on it before the
     * agent grants more.
     */
    record StreamOpened(long stream, String session, String kind, long window, Boolean tty) implements Response {
    }

    /** A PTY's new size (exec streams with a PTY); answered {@link StreamAck}. */
    record StreamResize(Long stream, Integer cols, Integer rows) implements Request {
        public StreamResize {
            StreamOpen.streamNumber(stream);
            FieldException.require(cols, "cols");
            FieldException.require(rows, "rows");
            StreamOpen.size(cols, "cols");
            StreamOpen.size(rows, "rows");
        }
    }

    /**
     * Ends a stream at once in both directions (a tunnel's connection is closed, an exec's output
     * is no longer read; the process itself ends when its stdin and terminal go). Answered
     * {@link StreamAck}; {@link StreamClosed} follows.
     */
    record StreamClose(Long stream) implements Request {
        public StreamClose {
            StreamOpen.streamNumber(stream);
        }
    }

    /** A stream request was carried out. */
    record StreamAck(long stream) implements Response {
    }

    /**
     * A stream ended; its number may be used again. Sent only on the connection that opened it.
     *
     * @param reason   a stable code: {@code exited} (exec: the process ended; {@code exit_code} set),
     *                 {@code eof} (both directions ended), {@code closed} (stream.close),
     *                 {@code session_ended}, {@code idle_timeout}, {@code window_exceeded},
     *                 {@code engine_error}, {@code refused} (tunnel: the container port refused)
     * @param bytesIn  data bytes the agent received on it
     * @param bytesOut data bytes the agent sent on it
     */
    record StreamClosed(long stream, String session, String kind, String reason, Integer exitCode, long bytesIn,
                        long bytesOut, String message) implements Event {
    }

    // ---- shared shapes -------------------------------------------------------------------------

    /**
     * A session as the scheduler sees it. {@code state}: requested, pulling, starting, running,
     * stopping, ended, failed. {@code endReason}: from stopping on, the stable code of why it ends
     * (stopped, max_duration, payment_overdue, gpu_failed, exited, oom_killed, launch_failed,
     * journal_failed, container_disappeared, agent_restarted_during_launch, never_started);
     * {@code reason} is the human detail.
     */
    record SessionInfo(String session, String rental, String renter, String image, String state, List<String> gpus,
                       List<Integer> hostPorts, String containerId, String startedAt, String finishedAt,
                       long billedSeconds, String reason, String endReason, Integer exitCode, boolean oomKilled,
                       String pullProgress, UsageInfo usage) {
    }

    /** What a session used; see docs/sessions.md. */
    record UsageInfo(long gpuSeconds, Integer gpuUtilPercent, long gpuMemoryBytes, double cpuSeconds, long memoryBytes,
                     long peakMemoryBytes, long netRxBytes, long netTxBytes, Long diskBytes) {
    }
}
