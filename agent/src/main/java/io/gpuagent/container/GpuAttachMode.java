package io.gpuagent.container;

/** How a container gets its GPUs. */
public enum GpuAttachMode {
    /** Docker DeviceRequests, driver {@code nvidia}, DeviceIDs = the GPU UUIDs, capabilities {@code [["gpu"]]}. */
    NVIDIA,
    /** CDI device names {@code nvidia.com/gpu=<uuid>} (Docker 25+, Podman). */
    CDI,
    /** No GPU attached: CPU-only machines and tests without GPUs. */
    NONE
}
