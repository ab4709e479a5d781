package io.gpuagent.session;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigException;

/**
 * The per-GPU CPU and memory limits as they apply on this host. {@code sessions.cpus_per_gpu} and
 * {@code sessions.memory_per_gpu_mb} at 0 (the default) are derived from the machine: its CPUs,
 * and its memory less what the owner keeps ({@link #ownerReserve}), shared by its GPUs. A configured
 * value that can never launch (one GPU's share above the machine's) is a configuration error at
 * start naming the key and the machine's figure. A session's limits (per-GPU values times its GPU
 * share) are capped at the machine's, so that a multi-GPU session on a small host still launches
 * with everything the host has, where the engine would otherwise refuse it.
 *
 * @param cpusPerGpu        CPUs per whole GPU
 * @param memoryPerGpuBytes memory per whole GPU
 * @param host              the machine, or null for no cap (tests that state explicit values)
 */
public record SessionLimits(double cpusPerGpu, long memoryPerGpuBytes, HostResources host) {
    private static final long MIB = 1024L * 1024;
    /** Used when the machine is unknown and a value is derived: the defaults before derivation. */
    private static final HostResources NOMINAL = new HostResources(8, 40L << 30);

    /**
     * The limits of {@code s} on {@code host} with {@code gpus} GPUs.
     *
     * @throws ConfigException naming the key and the host's figure when a configured value can never launch
     */
    public static SessionLimits resolve(AgentConfig.Sessions s, HostResources host, int gpus) throws ConfigException {
        int shares = Math.max(1, gpus);
        double cpus = s.cpusPerGpu() == 0 ? Math.max(1.0, (double) host.cpus() / shares) : s.cpusPerGpu();
        if (cpus > host.cpus()) {
            throw new ConfigException("sessions.cpus_per_gpu", "sessions.cpus_per_gpu = " + s.cpusPerGpu()
                    + " can never launch: this machine has " + host.cpus() + " CPUs (a container may use at most that many); "
                    + "set it to at most " + host.cpus() + ", or to 0 to share the machine's CPUs among its " + shares + " GPUs");
        }
        long usable = host.memoryBytes() - ownerReserve(host.memoryBytes());
        long memory = s.memoryPerGpuMb() == 0 ? Math.max(64 * MIB, usable / shares) : s.memoryPerGpuMb() * MIB;
        if (memory > host.memoryBytes()) {
            throw new ConfigException("sessions.memory_per_gpu_mb", "sessions.memory_per_gpu_mb = " + s.memoryPerGpuMb()
                    + " can never launch: this machine has " + host.memoryBytes() / MIB + " MiB of memory; set it to at most "
                    + usable / MIB + " (the machine less " + ownerReserve(host.memoryBytes()) / MIB
                    + " MiB for the owner), or to 0 to share that among its " + shares + " GPUs");
        }
        return new SessionLimits(cpus, memory, host);
    }

    /** The configured values as they are, with no machine to cap them (tests); 0 takes nominal figures. */
    public static SessionLimits unchecked(AgentConfig.Sessions s) {
        double cpus = s.cpusPerGpu() == 0 ? NOMINAL.cpus() : s.cpusPerGpu();
        long memory = s.memoryPerGpuMb() == 0 ? NOMINAL.memoryBytes() - ownerReserve(NOMINAL.memoryBytes())
                : s.memoryPerGpuMb() * MIB;
        return new SessionLimits(cpus, memory, null);
    }

    /** What the owner keeps out of derived limits: a tenth of the memory, at least 1 GiB (and at most half). */
    static long ownerReserve(long memory) {
        return Math.min(memory / 2, Math.max(1L << 30, memory / 10));
    }

    /** A session's CPU limit in nano-CPUs for {@code share} GPUs' worth of units, at most the host's. */
    public long nanoCpus(double share) {
        double cpus = cpusPerGpu * share;
        if (host != null) {
            cpus = Math.min(cpus, host.cpus());
        }
        return (long) (cpus * 1_000_000_000L);
    }

    /** A session's memory limit for {@code share} GPUs' worth of units, at most the host's memory. */
    public long memoryBytes(double share) {
        long m = (long) (memoryPerGpuBytes * share);
        return host == null ? m : Math.min(m, host.memoryBytes());
    }

    /** For the start log: {@code 2 CPUs and 21.4 GiB per GPU}. */
    public String describe() {
        return String.format(java.util.Locale.ROOT, "%.2f CPUs and %.1f GiB per GPU", cpusPerGpu,
                memoryPerGpuBytes / (double) (1L << 30));
    }
}
