package io.gpuagent.config;

import java.util.Set;
import java.util.regex.Pattern;

/** Range and format checks on a bound configuration; the first violation is reported. */
final class ConfigValidator {
    private static final Pattern HOST_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    private static final String MIG_PROFILE = "[1-8]g\\.[0-9]{1,4}gb(\\+me)?";
    /** {@code GPU=profiles}: the GPU as an index or a {@code GPU-} UUID, then profiles or {@code off}. */
    private static final Pattern MIG_LAYOUT = Pattern.compile("\\s*([0-9]{1,3}|GPU-[0-9a-fA-F-]{8,64})\\s*=\\s*(off|"
            + MIG_PROFILE + "((\\s*,\\s*|\\s+)" + MIG_PROFILE + "){0,6})\\s*");
    private static final Pattern MIG_PRICE = Pattern.compile("([^=]*[^=\\s] )?" + MIG_PROFILE + "=[0-9]{1,30}");
    private static final Set<String> LEVELS = Set.of("trace", "debug", "info", "warn", "error");
    private static final Set<String> FORMATS = Set.of("auto", "text", "journald");

    private ConfigValidator() {
    }

    static void validate(AgentConfig c) throws ConfigException {
        String host = c.agent().hostId();
        if (!host.isEmpty() && !HOST_ID.matcher(host).matches()) {
            throw bad("agent.host_id", host, "letters, digits, '.', '_' or '-', at most 63, or empty for the hostname");
        }
        if (c.agent().region().length() > 64) {
            throw bad("agent.region", c.agent().region(), "at most 64 characters");
        }
        absolute("agent.state_dir", c.agent().stateDir(), false);
        absolute("gpu.nvml_library", c.gpu().nvmlLibrary(), true);
        range("gpu.sample_interval_ms", c.gpu().sampleIntervalMs(), 100, 60_000);
        range("gpu.call_timeout_ms", c.gpu().callTimeoutMs(), 50, 60_000);
        migLayouts(c.gpu().migLayouts());
        if (!LEVELS.contains(c.log().level())) {
            throw bad("log.level", c.log().level(), "one of " + String.join(", ", LEVELS.stream().sorted().toList()));
        }
        if (!FORMATS.contains(c.log().format())) {
            throw bad("log.format", c.log().format(), "one of auto, text, journald");
        }
        range("shutdown.drain_timeout_ms", c.shutdown().drainTimeoutMs(), 100, 600_000);
        HostPort listen = HostPort.parse("metrics.listen", c.metrics().listen());
        if (listen.port() == 9400) {
            throw bad("metrics.listen", c.metrics().listen(), "another port: 9400 is dcgm-exporter's, which "
                    + "operators often run beside the agent (the default is 9464)");
        }
        range("metrics.max_connections", c.metrics().maxConnections(), 1, 10_000);
        range("metrics.request_timeout_ms", c.metrics().requestTimeoutMs(), 100, 600_000);
        absolute("docker.socket", c.docker().socket(), false);
        range("docker.call_timeout_ms", c.docker().callTimeoutMs(), 1000, 600_000);
        AgentConfig.Sessions s = c.sessions();
        if (!Set.of("nvidia", "cdi", "none").contains(s.gpuAttach())) {
            throw bad("sessions.gpu_attach", s.gpuAttach(), "one of nvidia, cdi, none");
        }
        if (s.allowedImages().isEmpty()) {
            throw bad("sessions.allowed_images", "[]", "at least one image pattern (\"*\" allows every image)");
        }
        for (String g : s.allowedImages()) {
            imagePattern("sessions.allowed_images", g);
        }
        for (String g : s.deniedImages()) {
            imagePattern("sessions.denied_images", g);
        }
        portRange(s.portRange());
        range("sessions.max_ports", s.maxPorts(), 0, 1000);
        if (s.memoryPerGpuMb() != 0) { // 0: derived from the machine at start (session.SessionLimits)
            range("sessions.memory_per_gpu_mb", s.memoryPerGpuMb(), 64, 16L * 1024 * 1024);
        }
        range("sessions.cpus_per_gpu", s.cpusPerGpu(), 0, 1024);
        range("sessions.pids_limit", s.pidsLimit(), 16, 4_194_304);
        range("sessions.disk_per_gpu_gb", s.diskPerGpuGb(), 0, 1_000_000);
        // no 0 for "unlimited": an uncapped log lets any renter fill the owner's disk (issue 10)
        range("sessions.log_max_size_mb", s.logMaxSizeMb(), 1, 1024);
        range("sessions.log_max_files", s.logMaxFiles(), 1, 100);
        range("sessions.max_duration_s", s.maxDurationS(), 1, 366L * 24 * 3600);
        range("sessions.stop_grace_ms", s.stopGraceMs(), 0, 600_000);
        market(c.market());
        if (c.market().streamGrants().equals("required") && !c.escrow().enabled()) {
            throw new ConfigException("market.stream_grants", "market.stream_grants = \"required\" needs escrow.enabled = "
                    + "true: a grant is signed by the rental's voucher signer, which only the escrow knows; enable escrow "
                    + "or set market.stream_grants = \"off\"");
        }
        offer(c.offer());
        escrow(c.escrow());
    }

    private static final Pattern HEX_PIN = Pattern.compile("([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}");
    private static final Pattern ADDRESS = Pattern.compile("0x[0-9A-Fa-f]{40}");
    private static final Pattern PRICE = Pattern.compile("[^=]{1,64}=[0-9]{1,30}");

    private static void market(AgentConfig.Market m) throws ConfigException {
        HostPort listen = m.listen().isEmpty() ? null : HostPort.parse("market.listen", m.listen());
        HostPort dial = m.dial().isEmpty() ? null : HostPort.parse("market.dial", m.dial());
        if (dial != null && dial.port() == 0) {
            throw bad("market.dial", m.dial(), "the marketplace's host:port with a port above 0");
        }
        if (m.plaintext()) {
            for (HostPort hp : new HostPort[] {listen, dial}) {
                if (hp != null && !hp.isLoopback()) {
                    throw bad(hp == listen ? "market.listen" : "market.dial", hp == listen ? m.listen() : m.dial(),
                            "a loopback address (127.0.0.1, ::1, localhost) while market.plaintext = true: plaintext "
                                    + "is for development on one machine; set up TLS with `gpu-agent tls init`");
                }
            }
        } else if (m.enabled()) {
            absolute("market.tls_cert", m.tlsCert(), false);
            absolute("market.tls_key", m.tlsKey(), false);
            absolute("market.tls_ca", m.tlsCa(), true);
            if (m.tlsCa().isEmpty() && m.tlsPins().isEmpty()) {
                throw bad("market.tls_ca", "", "a CA file, or fingerprints in market.tls_pins: peers must be "
                        + "authenticated (`gpu-agent tls init` makes a development CA)");
            }
        }
        for (String pin : m.tlsPins()) {
            if (!HEX_PIN.matcher(pin).matches()) {
                throw bad("market.tls_pins", pin, "a SHA-256 fingerprint: 64 hex digits, colons allowed "
                        + "(openssl x509 -noout -fingerprint -sha256 -in peer.pem)");
            }
        }
        range("market.handshake_timeout_ms", m.handshakeTimeoutMs(), 100, 600_000);
        range("market.read_timeout_ms", m.readTimeoutMs(), 100, 600_000);
        range("market.idle_timeout_ms", m.idleTimeoutMs(), 1000, 3_600_000);
        range("market.heartbeat_interval_ms", m.heartbeatIntervalMs(), 100, 600_000);
        if (m.heartbeatIntervalMs() >= m.idleTimeoutMs()) {
            throw bad("market.heartbeat_interval_ms", Long.toString(m.heartbeatIntervalMs()),
                    "shorter than market.idle_timeout_ms (" + m.idleTimeoutMs() + ") or idle peers are cut off");
        }
        range("market.max_frame_bytes", m.maxFrameBytes(), 4096, 64L * 1024 * 1024);
        range("market.max_connections", m.maxConnections(), 1, 100_000);
        range("market.max_connections_per_address", m.maxConnectionsPerAddress(), 1, m.maxConnections());
        range("market.messages_per_second", m.messagesPerSecond(), 1, 1_000_000);
        range("market.offer_interval_ms", m.offerIntervalMs(), 1000, 3_600_000);
        range("market.reconnect_initial_ms", m.reconnectInitialMs(), 10, 600_000);
        range("market.reconnect_max_ms", m.reconnectMaxMs(), m.reconnectInitialMs(), 3_600_000);
        range("market.stream_limit_per_connection", m.streamLimitPerConnection(), 1, 1024);
        range("market.stream_limit_per_session", m.streamLimitPerSession(), 1, 1024);
        range("market.stream_window_bytes", m.streamWindowBytes(), 1024, 16L << 20);
        range("market.stream_idle_timeout_s", m.streamIdleTimeoutS(), 0, 7 * 86_400);
        if (!m.streamGrants().equals("off") && !m.streamGrants().equals("required")) {
            throw bad("market.stream_grants", m.streamGrants(), "\"off\" or \"required\"");
        }
    }

    private static void offer(AgentConfig.Offer o) throws ConfigException {
        for (String p : o.prices()) {
            if (!PRICE.matcher(p).matches() || p.startsWith(" ")) {
                throw bad("offer.prices", p, "\"model=price\", the price per GPU per second in token base units, "
                        + "e.g. \"H100=611\" (USDC has 6 decimals: 611 is $2.20 an hour)");
            }
        }
        for (String p : o.migPrices()) {
            if (!MIG_PRICE.matcher(p).matches()) {
                throw bad("offer.mig_prices", p, "\"profile=price\" or \"model profile=price\", the price per MIG "
                        + "instance per second in token base units, e.g. \"1g.10gb=95\" or \"H200 3g.71gb=430\"");
            }
        }
        range("offer.min_duration_s", o.minDurationS(), 1, 366L * 24 * 3600);
        range("offer.storage_price_per_gb_hour", o.storagePricePerGbHour(), 0, Long.MAX_VALUE);
        range("offer.bandwidth_price_per_gb", o.bandwidthPricePerGb(), 0, Long.MAX_VALUE);
        range("offer.disk_gb", o.diskGb(), 0, 1_000_000_000);
        range("offer.bandwidth_mbps", o.bandwidthMbps(), 0, 10_000_000);
    }

    private static void escrow(AgentConfig.Escrow e) throws ConfigException {
        if (e.enabled()) {
            if (!e.rpcUrl().matches("https?://.+")) {
                throw bad("escrow.rpc_url", e.rpcUrl(), "an http:// or https:// JSON-RPC URL");
            }
            if (!ADDRESS.matcher(e.contract()).matches()) {
                throw bad("escrow.contract", e.contract(), "the escrow contract's 0x address (40 hex digits)");
            }
            if (!ADDRESS.matcher(e.token()).matches()) {
                throw bad("escrow.token", e.token(), "the ERC-20 token's 0x address (40 hex digits)");
            }
        }
        range("escrow.chain_id", e.chainId(), 1, Long.MAX_VALUE);
        absolute("escrow.keystore", e.keystore(), true);
        absolute("escrow.password_file", e.passwordFile(), true);
        if (!e.passwordCredential().matches("[A-Za-z0-9._-]{1,64}")) {
            throw bad("escrow.password_credential", e.passwordCredential(), "a systemd credential name");
        }
        if (!Set.of("finalized", "confirmations").contains(e.finality())) {
            throw bad("escrow.finality", e.finality(), "\"finalized\" or \"confirmations\"");
        }
        range("escrow.confirmations", e.confirmations(), 0, 10_000);
        range("escrow.min_priority_fee_gwei", e.minPriorityFeeGwei(), 0, 100_000);
        range("escrow.max_fee_gwei", e.maxFeeGwei(), Math.max(1, e.minPriorityFeeGwei()), 1_000_000);
        range("escrow.claim_interval_s", e.claimIntervalS(), 60, 366L * 24 * 3600);
        range("escrow.claim_min_amount", e.claimMinAmount(), 0, Long.MAX_VALUE);
        range("escrow.batch_max", e.batchMax(), 1, 100);
        range("escrow.credit_limit_s", e.creditLimitS(), 0, 86_400);
        range("escrow.poll_interval_ms", e.pollIntervalMs(), 100, 600_000);
    }

    private static void imagePattern(String key, String g) throws ConfigException {
        if (g.isBlank() || g.length() > 255 || !g.matches("[A-Za-z0-9._/:@*-]+")) {
            throw bad(key, g, "an image pattern of letters, digits, . _ / : @ - and * (e.g. \"docker.io/pytorch/*\")");
        }
    }

    /** {@code first-last}, 1024..65535, first <= last. */
    static int[] portRange(String v) throws ConfigException {
        String[] parts = v.split("-");
        try {
            if (parts.length == 2) {
                int first = Integer.parseInt(parts[0].trim());
                int last = Integer.parseInt(parts[1].trim());
                if (first >= 1024 && last <= 65535 && first <= last) {
                    return new int[] {first, last};
                }
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw bad("sessions.port_range", v, "first-last with 1024 <= first <= last <= 65535, e.g. \"40000-40999\"");
    }

    private static void range(String key, long v, long min, long max) throws ConfigException {
        if (v < min || v > max) {
            throw bad(key, Long.toString(v), "between " + min + " and " + max);
        }
    }

    private static void absolute(String key, String v, boolean emptyAllowed) throws ConfigException {
        if (v.isEmpty() ? !emptyAllowed : !v.startsWith("/")) {
            throw bad(key, v, emptyAllowed ? "an absolute path, or empty for the default" : "an absolute path");
        }
    }

    /** Syntax only: whether the GPU exists and the profiles fit is the driver's to say, at start. */
    private static void migLayouts(java.util.List<String> layouts) throws ConfigException {
        Set<String> seen = new java.util.HashSet<>();
        for (String l : layouts) {
            java.util.regex.Matcher m = MIG_LAYOUT.matcher(l);
            if (!m.matches()) {
                throw bad("gpu.mig_layouts", l, "\"GPU=profile,profile,...\" or \"GPU=off\", the GPU by index or UUID, "
                        + "e.g. \"0=3g.40gb,2g.20gb,1g.10gb,1g.10gb\" (profiles as nvidia-smi mig -lgip names them)");
            }
            if (!seen.add(m.group(1))) {
                throw bad("gpu.mig_layouts", l, "one entry per GPU: GPU " + m.group(1) + " is listed twice");
            }
        }
    }

    private static ConfigException bad(String key, String value, String allowed) {
        return new ConfigException(key, key + " = \"" + value + "\" is invalid: must be " + allowed);
    }
}
