package io.gpuagent.container.docker;

import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.DeviceRequest;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.InternetProtocol;
import com.github.dockerjava.api.model.LogConfig;
import com.github.dockerjava.api.model.Ports;
import io.gpuagent.container.ContainerSpec;
import io.gpuagent.container.GpuAttachMode;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Maps a {@link ContainerSpec} onto Docker's create request, field by field, adding nothing the
 * spec does not say except what must hold for every renter: not privileged, all capabilities
 * dropped before the spec's are added back, memory+swap equal to memory. It never sets binds,
 * mounts, volumes-from, devices, or the host's network, PID, IPC, UTS or user namespace. See
 * docs/docker.md for the table.
 *
 * <p>The log is always the {@code json-file} driver with the spec's {@code max-size} and
 * {@code max-file}, set on the container so that the cap holds whatever the owner's daemon.json
 * says (its driver and size options are then ignored for this container; the engine merges in only
 * the json-file options the container leaves unset, such as {@code compress}, which can only make
 * the log smaller). json-file rather than {@code local}: it is the engine's default, {@code docker
 * logs} and log shippers that read {@code *-json.log} keep working, and its files are plain, so the
 * bytes on disk are what the cap says (local compresses rotated files, by a ratio no one can promise).
 */
final class ContainerSpecMapper {
    /** CDI names NVIDIA's GPUs {@code nvidia.com/gpu=<uuid>} (nvidia-ctk cdi generate). */
    static final String CDI_GPU_PREFIX = "nvidia.com/gpu=";

    private ContainerSpecMapper() {
    }

    static CreateContainerCmd apply(ContainerSpec spec, CreateContainerCmd cmd) {
        validate(spec);
        cmd.withName(spec.name()).withLabels(spec.labels()).withTty(false);
        if (!spec.command().isEmpty()) {
            cmd.withCmd(spec.command());
        }
        List<String> env = new ArrayList<>();
        spec.env().forEach((k, v) -> env.add(k + "=" + v));
        env.sort(null);
        cmd.withEnv(env);

        HostConfig host = HostConfig.newHostConfig()
                .withPrivileged(false)
                .withPublishAllPorts(false)
                .withMemory(spec.memoryBytes())
                .withMemorySwap(spec.memoryBytes())
                .withNanoCPUs(spec.nanoCpus())
                .withPidsLimit(spec.pidsLimit())
                .withCapDrop(Capability.ALL)
                .withCapAdd(capabilities(spec.capAdd()))
                .withSecurityOpts(spec.securityOpts())
                .withDeviceRequests(deviceRequests(spec.gpuMode(), spec.gpuUuids()))
                .withLogConfig(logConfig(spec.log()));
        if (spec.diskBytes() != null) {
            host.withStorageOpt(Map.of("size", Long.toString(spec.diskBytes())));
        }
        if (spec.network() != null) {
            host.withNetworkMode(spec.network());
        }
        if (!spec.ports().isEmpty()) {
            Ports ports = new Ports();
            Set<ExposedPort> exposed = new LinkedHashSet<>();
            for (ContainerSpec.PortBinding p : spec.ports()) {
                ExposedPort ep = new ExposedPort(p.containerPort(), InternetProtocol.parse(p.protocol().toLowerCase(Locale.ROOT)));
                exposed.add(ep);
                ports.bind(ep, Ports.Binding.bindIpAndPort(p.hostIp(), p.hostPort()));
            }
            cmd.withExposedPorts(new ArrayList<>(exposed));
            host.withPortBindings(ports);
        }
        return cmd.withHostConfig(host);
    }

    /** json-file, rotated at {@code max-size} bytes (exact bytes: no unit to misread), {@code max-file} kept. */
    static LogConfig logConfig(ContainerSpec.LogLimit log) {
        return new LogConfig(LogConfig.LoggingType.JSON_FILE, Map.of(
                "max-size", Long.toString(log.maxFileBytes()),
                "max-file", Integer.toString(log.maxFiles())));
    }

    /** NVIDIA: one request for exactly these UUIDs; CDI: their CDI names; NONE: no request. */
    static List<DeviceRequest> deviceRequests(GpuAttachMode mode, List<String> uuids) {
        return switch (mode) {
            case NONE -> List.of();
            case NVIDIA -> List.of(new DeviceRequest()
                    .withDriver("nvidia")
                    .withDeviceIds(List.copyOf(uuids))
                    .withCapabilities(List.of(List.of("gpu"))));
            case CDI -> List.of(new DeviceRequest()
                    .withDriver("cdi")
                    .withDeviceIds(uuids.stream().map(u -> CDI_GPU_PREFIX + u).toList()));
        };
    }

    private static void validate(ContainerSpec spec) {
        if (spec.name() == null || spec.name().isBlank()) {
            throw new IllegalArgumentException("container name missing");
        }
        if (spec.image() == null || spec.image().isBlank()) {
            throw new IllegalArgumentException("image missing for " + spec.name());
        }
        if (spec.gpuMode() == GpuAttachMode.NONE && !spec.gpuUuids().isEmpty()) {
            throw new IllegalArgumentException("GPU mode NONE with GPUs " + spec.gpuUuids() + " for " + spec.name());
        }
        if (spec.gpuMode() != GpuAttachMode.NONE && spec.gpuUuids().isEmpty()) {
            throw new IllegalArgumentException("GPU mode " + spec.gpuMode() + " without GPUs for " + spec.name());
        }
    }

    private static Capability[] capabilities(List<String> names) {
        Capability[] caps = new Capability[names.size()];
        for (int i = 0; i < caps.length; i++) {
            String n = names.get(i).toUpperCase(Locale.ROOT);
            n = n.startsWith("CAP_") ? n.substring(4) : n;
            try {
                caps[i] = Capability.valueOf(n);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown capability " + names.get(i), e);
            }
        }
        return caps;
    }
}
