package io.gpuagent.session;

import io.gpuagent.container.GpuAttachMode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The environment variables through which an image could select GPUs for itself, pinned by the
 * agent in every container, whatever the mode. A container's environment overrides its image's,
 * so an image that bakes {@code ENV NVIDIA_VISIBLE_DEVICES=all} gets the agent's value instead.
 * Why each (read from the NVIDIA Container Toolkit's hook, {@code cmd/nvidia-container-runtime-hook}
 * and {@code internal/config/image/cuda_image.go}; docs/sessions.md has the reasoning):
 * <ul>
 *   <li>{@code NVIDIA_VISIBLE_DEVICES}: the session's UUIDs ({@code GPU-...}, {@code MIG-...}) in
 *       {@code nvidia} mode, where Docker's own device request sets the same list; {@code void} in
 *       {@code cdi} and {@code none} modes, so that a host whose default runtime is NVIDIA's, with
 *       the stock {@code accept-nvidia-visible-devices-envvar-when-unprivileged = true}, adds no
 *       GPU at all (the CDI request alone decides);</li>
 *   <li>{@code DOCKER_RESOURCE_GPU}: the same value: it is the name the toolkit's config suggests
 *       for {@code swarm-resource}, and when that is set the hook prefers it over
 *       {@code NVIDIA_VISIBLE_DEVICES};</li>
 *   <li>{@code NVIDIA_IMEX_CHANNELS}: {@code void}: IMEX channels (memory shared across nodes over
 *       NVLink) are selected from the environment like GPUs, and no session is sold one;</li>
 *   <li>{@code NVIDIA_MIG_CONFIG_DEVICES}, {@code NVIDIA_MIG_MONITOR_DEVICES}: empty, which the hook
 *       reads as unset: they grant MIG configuration and monitoring capabilities, which the hook
 *       refuses in unprivileged containers anyway (the container would fail to start).</li>
 * </ul>
 * {@code NVIDIA_DRIVER_CAPABILITIES} is left to the image: it picks driver libraries for the GPUs
 * already granted and never adds a GPU; the owner bounds it with the toolkit's
 * {@code supported-driver-capabilities}. Renter-supplied {@code NVIDIA_*} variables are stripped
 * before these are set.
 */
final class GpuVisibility {
    static final String VISIBLE_DEVICES = "NVIDIA_VISIBLE_DEVICES";
    static final String SWARM_RESOURCE = "DOCKER_RESOURCE_GPU";
    static final String IMEX_CHANNELS = "NVIDIA_IMEX_CHANNELS";
    static final String MIG_CONFIG = "NVIDIA_MIG_CONFIG_DEVICES";
    static final String MIG_MONITOR = "NVIDIA_MIG_MONITOR_DEVICES";
    /** The toolkit's word for "no device, and no driver mounts either". */
    static final String VOID = "void";

    private GpuVisibility() {
    }

    /** The pinned variables of a container in {@code mode} with exactly {@code uuids}. */
    static Map<String, String> pinned(GpuAttachMode mode, List<String> uuids) {
        String visible = mode == GpuAttachMode.NVIDIA && !uuids.isEmpty() ? String.join(",", uuids) : VOID;
        Map<String, String> env = new LinkedHashMap<>();
        env.put(VISIBLE_DEVICES, visible);
        env.put(SWARM_RESOURCE, visible);
        env.put(IMEX_CHANNELS, VOID);
        env.put(MIG_CONFIG, "");
        env.put(MIG_MONITOR, "");
        return env;
    }

    /** Whether a renter may set this variable: never one the toolkit reads, nor one the agent pins. */
    static boolean renterMaySet(String name) {
        String n = name.toUpperCase(Locale.ROOT);
        return !n.startsWith("NVIDIA_") && !n.equals(SWARM_RESOURCE);
    }
}
