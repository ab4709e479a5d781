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
        List<ContainerFile> files) {

    public ContainerSpec {
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

    /** A file placed in the container before start. */
    public record ContainerFile(String path, byte[] content, int mode) {
    }
}
