package io.gpuagent.config;

/**
 * The agent's whole configuration, immutable and validated. Loaded by {@link ConfigLoader} from
 * the built-in defaults, then {@code agent.toml}, then {@code GPU_AGENT_*} environment variables,
 * then {@code --set key=value} on the command line (each overriding the one before).
 */
public record AgentConfig(Agent agent, Gpu gpu, Log log, Shutdown shutdown, Metrics metrics, Docker docker,
                          Sessions sessions, Market market, Offer offer, Escrow escrow) {

    /**
     * @param hostId   this host's id in the marketplace; empty: the machine's hostname
     * @param region   free-form region or country code shown to renters
     * @param stateDir where the journal and claim state live (systemd's StateDirectory)
     */
    public record Agent(String hostId, String region, String stateDir) {
        /** Where the agent keeps its session journal: {@code <agent.state_dir>/journal}. */
        public java.nio.file.Path journalDirectory() {
            return java.nio.file.Path.of(stateDir, "journal");
        }
    }

    /**
     * @param nvmlLibrary      path of libnvidia-ml.so.1; empty: the system's
     * @param sampleIntervalMs telemetry period
     * @param callTimeoutMs    deadline of each NVML call before the GPU is marked UNKNOWN
     * @param healthEvents     whether to watch XID / ECC events
     * @param migLayouts       MIG layouts the agent makes: {@code "GPU=profile,profile,..."} (GPU by index
     *                         or UUID; profiles separated by commas or spaces, spaces in {@code --set}
     *                         and the environment, where commas separate list items) or {@code "GPU=off"}; GPUs not listed keep their MIG mode and
     *                         instances as found (docs/mig.md)
     */
    public record Gpu(String nvmlLibrary, long sampleIntervalMs, long callTimeoutMs, boolean healthEvents,
                      java.util.List<String> migLayouts) {
        public Gpu {
            migLayouts = java.util.List.copyOf(migLayouts);
        }

        /**
         * The layouts by GPU reference (an index such as {@code "0"}, or a UUID), in config order; an
         * empty list means MIG off. Only call on a validated config.
         */
        public java.util.Map<String, java.util.List<String>> migLayoutMap() {
            java.util.Map<String, java.util.List<String>> m = new java.util.LinkedHashMap<>();
            for (String l : migLayouts) {
                int eq = l.indexOf('=');
                String v = l.substring(eq + 1).trim();
                m.put(l.substring(0, eq).trim(), v.equals("off") ? java.util.List.of()
                        : java.util.Arrays.stream(v.split("[,\\s]+")).toList());
            }
            return m;
        }
    }

    /**
     * @param level  trace | debug | info | warn | error
     * @param format auto (journald under systemd, text otherwise) | text | journald
     */
    public record Log(String level, String format) {
    }

    /**
     * @param enabled          serve /metrics, /healthz, /readyz and /status
     * @param listen           host:port; loopback by default (not 9400, dcgm-exporter's port)
     * @param maxConnections   connections served at once; more are closed at accept
     * @param requestTimeoutMs a request must arrive whole within this time (slow clients are cut off)
     */
    public record Metrics(boolean enabled, String listen, long maxConnections, long requestTimeoutMs) {
    }

    /**
     * @param socket        the Docker Engine API unix socket
     * @param callTimeoutMs deadline of each engine call (pulls report progress instead)
     */
    public record Docker(String socket, long callTimeoutMs) {
    }

    /**
     * The launch policy for untrusted renters; what the scheduler asks never widens it.
     *
     * @param enabled        rent GPUs out (needs Docker); false: telemetry and metrics only
     * @param gpuAttach      nvidia | cdi | none
     * @param allowedImages  image globs a renter may run ({@code *} matches within a path segment, {@code **} across)
     * @param deniedImages   globs refused even when allowed
     * @param portRange      host ports published for renters, {@code first-last}
     * @param publishAddress host address the ports are published on
     * @param maxPorts       published ports per session
     * @param memoryPerGpuMb memory limit per rented GPU (memory+swap the same: no swap)
     * @param cpusPerGpu     CPU limit per rented GPU
     * @param pidsLimit      process limit per session
     * @param diskPerGpuGb   writable-layer limit per rented GPU (where the storage driver enforces it)
     * @param logMaxSizeMb   size of one file of a session's container log before the engine rotates it
     * @param logMaxFiles    files of a session's container log the engine keeps (the current one included):
     *                       a session's log costs the owner's disk at most size x files, whatever it prints
     * @param maxDurationS   longest rental the owner accepts
     * @param stopGraceMs    SIGTERM to SIGKILL when a session stops
     * @param prepullImages  images pulled in the background at start so that their launches are instant
     */
    public record Sessions(boolean enabled, String gpuAttach, java.util.List<String> allowedImages, java.util.List<String> deniedImages,
                           String portRange, String publishAddress, long maxPorts, long memoryPerGpuMb,
                           long cpusPerGpu, long pidsLimit, long diskPerGpuGb, long logMaxSizeMb, long logMaxFiles,
                           long maxDurationS, long stopGraceMs,
                           java.util.List<String> prepullImages) {
        /** {@code port_range} as {first, last}; the validator already checked it. */
        public int[] portBounds() {
            try {
                return ConfigValidator.portRange(portRange);
            } catch (ConfigException e) {
                throw new IllegalStateException("unvalidated sessions.port_range " + portRange, e);
            }
        }

        public Sessions {
            prepullImages = java.util.List.copyOf(prepullImages);
            allowedImages = java.util.List.copyOf(allowedImages);
            deniedImages = java.util.List.copyOf(deniedImages);
        }
    }

    /** @param drainTimeoutMs how long SIGTERM waits for each component to stop */
    public record Shutdown(long drainTimeoutMs) {
    }

    /**
     * The scheduler link (docs/protocol.md). Both modes serve the same protocol: {@code listen} accepts
     * the scheduler's connections, {@code dial} connects out to the marketplace (hosts behind NAT).
     *
     * @param listen                   host:port to accept schedulers on; empty: do not listen
     * @param dial                     the marketplace's host:port to connect out to; empty: do not dial
     * @param plaintext                development only: no TLS; refused unless every address is loopback
     * @param tlsCert                  PEM certificate chain of this agent
     * @param tlsKey                   PEM (PKCS#8) private key of {@code tlsCert}
     * @param tlsCa                    PEM CA certificate(s) a peer's certificate must chain to
     * @param tlsPins                  SHA-256 fingerprints (hex) of accepted peer certificates, with or instead of {@code tlsCa}
     * @param handshakeTimeoutMs       a TLS handshake must finish within this
     * @param readTimeoutMs            a frame once started must arrive whole within this (slowloris)
     * @param idleTimeoutMs            a connection with no frame at all for this long is closed
     * @param heartbeatIntervalMs      the agent's heartbeat period on each connection
     * @param maxFrameBytes            largest frame payload accepted, checked from the length prefix
     * @param maxConnections           connections served at once
     * @param maxConnectionsPerAddress connections served at once from one peer address
     * @param messagesPerSecond        frames a connection may send per second (burst: twice that)
     * @param offerIntervalMs          the offer is re-sent this often even when nothing changed
     * @param reconnectInitialMs       the dial-out link's first retry delay (doubling, with jitter)
     * @param reconnectMaxMs           the dial-out link's longest retry delay
     * @param streams                  offer exec, tunnel and logs streams to schedulers that ask (docs/streams.md)
     * @param streamLimitPerConnection streams open at once on one connection
     * @param streamLimitPerSession    streams open at once into one session, over all connections
     * @param streamWindowBytes        a stream's flow-control window from the scheduler
     * @param streamIdleTimeoutS       a stream with no data either way for this long is closed (0: never)
     * @param streamGrants             {@code off} or {@code required}: exec and tunnel need the renter's signed grant
     */
    public record Market(String listen, String dial, boolean plaintext, String tlsCert, String tlsKey, String tlsCa,
                         java.util.List<String> tlsPins, long handshakeTimeoutMs, long readTimeoutMs, long idleTimeoutMs,
                         long heartbeatIntervalMs, long maxFrameBytes, long maxConnections, long maxConnectionsPerAddress,
                         long messagesPerSecond, long offerIntervalMs, long reconnectInitialMs, long reconnectMaxMs,
                         boolean streams, long streamLimitPerConnection, long streamLimitPerSession,
                         long streamWindowBytes, long streamIdleTimeoutS, String streamGrants) {
        public Market {
            tlsPins = java.util.List.copyOf(tlsPins);
        }

        /** True when the agent talks to a scheduler at all. */
        public boolean enabled() {
            return !listen.isEmpty() || !dial.isEmpty();
        }
    }

    /**
     * What the offer asks of renters, beside the probed inventory.
     *
     * @param prices                 {@code "model=price"}: price per GPU per second in token base units; the first
     *                               entry whose model is contained in the GPU's name (case-insensitive) applies;
     *                               a GPU with no entry is not offered
     * @param minDurationS           shortest rental accepted
     * @param storagePricePerGbHour  token base units per GB of disk per hour
     * @param bandwidthPricePerGb    token base units per GB of network traffic
     * @param diskGb                 disk offered to renters in GB (0: not advertised)
     * @param bandwidthMbps          network bandwidth advertised in Mbit/s (0: not advertised)
     * @param migPrices              price per MIG instance per second: {@code "[model ]profile=price"}; a
     *                               profile with no entry costs its share of the GPU's price (slices / 7)
     */
    public record Offer(java.util.List<String> prices, long minDurationS, long storagePricePerGbHour,
                        long bandwidthPricePerGb, long diskGb, long bandwidthMbps, java.util.List<String> migPrices) {
        public Offer {
            prices = java.util.List.copyOf(prices);
            migPrices = java.util.List.copyOf(migPrices);
        }
    }

    /**
     * Getting paid through the escrow contract (docs/escrow.md).
     *
     * @param enabled            verify vouchers and claim payouts on chain
     * @param rpcUrl             the chain's JSON-RPC endpoint
     * @param chainId            the chain id the contract lives on (137: Polygon PoS)
     * @param contract           the escrow contract's address
     * @param token              the ERC-20 token it holds (prices are in its base units)
     * @param keystore           the wallet's encrypted keystore; empty: {@code <state_dir>/wallet/keystore.json}
     * @param passwordFile       a file (mode 0600 or 0400) holding the keystore password; empty: use the credential
     * @param passwordCredential the systemd credential ({@code $CREDENTIALS_DIRECTORY/<name>}) holding the password
     * @param finality           "finalized" (the chain's finalized block) or "confirmations"
     * @param confirmations      blocks on top of a claim before it counts as final (finality = "confirmations")
     * @param minPriorityFeeGwei floor of the EIP-1559 tip (Polygon refuses less than 25 gwei)
     * @param maxFeeGwei         the most a claim may pay per gas
     * @param claimIntervalS     a running rental is claimed at least this often
     * @param claimMinAmount     a running rental is also claimed once this much is unclaimed (0: interval only)
     * @param batchMax           rentals claimed in one transaction at most
     * @param creditLimitS       seconds of metered use a session may run ahead of its renter's vouchers
     * @param pollIntervalMs     how often receipts, blocks and events are polled
     */
    public record Escrow(boolean enabled, String rpcUrl, long chainId, String contract, String token, String keystore,
                         String passwordFile, String passwordCredential, String finality, long confirmations,
                         long minPriorityFeeGwei, long maxFeeGwei, long claimIntervalS, long claimMinAmount,
                         long batchMax, long creditLimitS, long pollIntervalMs) {
    }
}
