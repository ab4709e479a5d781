package io.gpuagent.config;

/**
 * The agent's whole configuration, immutable and validated. Loaded by {@link ConfigLoader} from
 * the built-in defaults, then {@code agent.toml}, then {@code GPU_AGENT_*} environment variables,
 * then {@code --set key=value} on the command line (each overriding the one before).
 */
public record AgentConfig(Agent agent, Gpu gpu, Log log, Shutdown shutdown, Metrics metrics, Docker docker,
                          Sessions sessions) {

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
     * @param maxDurationS   longest rental the owner accepts
     * @param stopGraceMs    SIGTERM to SIGKILL when a session stops
     * @param prepullImages  images pulled in the background at start so that their launches are instant
     */
    public record Sessions(boolean enabled, String gpuAttach, java.util.List<String> allowedImages, java.util.List<String> deniedImages,
                           String portRange, String publishAddress, long maxPorts, long memoryPerGpuMb,
                           long cpusPerGpu, long pidsLimit, long diskPerGpuGb, long maxDurationS, long stopGraceMs,
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
}
