package io.gpuagent.config;

/**
 * The agent's whole configuration, immutable and validated. Loaded by {@link ConfigLoader} from
 * the built-in defaults, then {@code agent.toml}, then {@code GPU_AGENT_*} environment variables,
 * then {@code --set key=value} on the command line (each overriding the one before).
 */
public record AgentConfig(Agent agent, Gpu gpu, Log log, Shutdown shutdown, Metrics metrics) {

    /**
     * @param hostId   this host's id in the marketplace; empty: the machine's hostname
     * @param region   free-form region or country code shown to renters
     * @param stateDir where the journal and claim state live (systemd's StateDirectory)
     */
    public record Agent(String hostId, String region, String stateDir) {
    }

    /**
     * @param nvmlLibrary      path of libnvidia-ml.so.1; empty: the system's
     * @param sampleIntervalMs telemetry period
     * @param callTimeoutMs    deadline of each NVML call before the GPU is marked UNKNOWN
     * @param healthEvents     whether to watch XID / ECC events
     */
    public record Gpu(String nvmlLibrary, long sampleIntervalMs, long callTimeoutMs, boolean healthEvents) {
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

    /** @param drainTimeoutMs how long SIGTERM waits for each component to stop */
    public record Shutdown(long drainTimeoutMs) {
    }
}
