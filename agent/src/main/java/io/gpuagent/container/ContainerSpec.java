package io.gpuagent.container;

import java.util.List;
import java.util.Map;

/**
 * Everything the runtime needs to create one renter's container, already decided by the launch
 * policy. The runtime maps each field to the engine and adds nothing. Fields that are security
 * decisions are explicit here (not defaults hidden in the adapter) so that tests can inspect the
 * created container and prove each took effect.
 *
 * @param name           container name, derived from the session id (the engine refuses a duplicate)
 * @param labels         session id, renter, agent epoch, journal position
 * @param gpuMode        how the GPUs are attached
 * @param gpuUuids       exactly the GPUs assigned (empty with {@link GpuAttachMode#NONE})
 * @param memoryBytes    memory limit; memory+swap is set to the same value (no swap)
 * @param nanoCpus       CPU limit in billionths of a CPU
 * @param pidsLimit      process count limit
 * @param diskBytes      writable-layer size limit ({@code --storage-opt size=}); null when the storage driver cannot enforce it
 * @param capAdd         capabilities added back after dropping ALL
 * @param securityOpts   e.g. {@code no-new-privileges:true}; the engine's default seccomp profile stays on
 * @param network        the session's own network name
 * @param ports          published ports (host ports from the owner's range)
 * @param files          files written into the container before it starts (e.g. the renter's SSH key)
 * @param log            how much of its stdout and stderr the engine keeps on the host's disk;
 *                       required: a container the agent creates never has an uncapped log
 */
public record ContainerSpec(
        String name,
        String image,
        List<String> command,
        Map<String, String> env,
        Map<String, String> labels,
        GpuAttachMode gpuMode,
        List<String> gpuUuids,
        long memoryBytes,
        long nanoCpus,
        long pidsLimit,
        Long diskBytes,
        List<String> capAdd,
        List<String> securityOpts,
        String network,
        List<PortBinding> ports,
        List<ContainerFile> files,
        LogLimit log) {

    public ContainerSpec {
        if (log == null) {
            throw new IllegalArgumentException("log limit missing for container " + name);
        }
        command = List.copyOf(command);
        env = Map.copyOf(env);
        labels = Map.copyOf(labels);
        gpuUuids = List.copyOf(gpuUuids);
        capAdd = List.copyOf(capAdd);
        securityOpts = List.copyOf(securityOpts);
        ports = List.copyOf(ports);
        files = List.copyOf(files);
    }

    /** A published port: container port and protocol to a host port on a host address. */
    public record PortBinding(int containerPort, String protocol, String hostIp, int hostPort) {
    }

    /**
     * The cap on a container's log on the host's disk: the engine writes its stdout and stderr to a
     * file, starts a new one when the current one reaches {@code maxFileBytes}, and deletes the
     * oldest beyond {@code maxFiles} (the current one included). The disk a container's log can
     * take is therefore {@code maxFileBytes x maxFiles}, plus at most one log entry per file (an
     * engine checks the size before it writes an entry, not inside it).
     *
     * @param maxFileBytes size of one file before rotation, at least 1
     * @param maxFiles     files kept, the current one included, at least 1
     */
    public record LogLimit(long maxFileBytes, int maxFiles) {
        public LogLimit {
            if (maxFileBytes < 1 || maxFiles < 1) {
                throw new IllegalArgumentException("log limit " + maxFileBytes + " bytes x " + maxFiles
                        + " files: both must be at least 1");
            }
        }

        /** The most bytes the log may take, rotation slack aside. */
        public long totalBytes() {
            return maxFileBytes * maxFiles;
        }
    }

    /** A file placed in the container before start. */
    public record ContainerFile(String path, byte[] content, int mode) {
    }
}
