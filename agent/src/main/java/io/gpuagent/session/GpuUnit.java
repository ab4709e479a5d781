package io.gpuagent.session;

import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuEvent;
import io.gpuagent.gpu.MigInstance;

/**
 * What a renter can hold: a whole GPU or one MIG instance on a GPU that runs MIG. A container is
 * handed {@link #uuid()} ({@code GPU-...} or {@code MIG-...}) and nothing else.
 *
 * @param uuid           what the container gets: the GPU's UUID, or the MIG device's {@code MIG-...} UUID
 * @param kind           a whole GPU or a MIG instance
 * @param gpuUuid        the physical GPU it is on (its own UUID for a whole GPU)
 * @param gpuIndex       that GPU's NVML index
 * @param model          that GPU's name, {@code NVIDIA H100 80GB HBM3} (what the owner prices by)
 * @param memoryBytes    the memory the renter gets: the GPU's, or the instance's
 * @param migProfile     the MIG profile, {@code 1g.10gb} (dcgm-exporter's {@code GPU_I_PROFILE}); null for a GPU
 * @param gpuInstanceId  the MIG GPU instance id (dcgm-exporter's {@code GPU_I_ID}); {@link GpuEvent#DEVICE_WIDE}
 *                       for a GPU
 * @param placementStart the instance's first memory slice; -1 for a GPU
 */
public record GpuUnit(String uuid, Kind kind, String gpuUuid, int gpuIndex, String model, long memoryBytes,
                      String migProfile, int gpuInstanceId, int placementStart) {

    /** A whole GPU or a MIG instance. */
    public enum Kind {
        GPU,
        MIG
    }

    public GpuUnit {
        if (uuid == null || uuid.isBlank() || gpuUuid == null || gpuUuid.isBlank()) {
            throw new IllegalArgumentException("a unit needs its UUID and its GPU's UUID: " + uuid + " on " + gpuUuid);
        }
        if (kind == Kind.MIG && (migProfile == null || uuid.equals(gpuUuid))) {
            throw new IllegalArgumentException("MIG unit " + uuid + " needs a profile and a parent GPU");
        }
    }

    /** A whole GPU. */
    public static GpuUnit gpu(GpuDevice d) {
        return new GpuUnit(d.uuid(), Kind.GPU, d.uuid(), d.index(), d.name(), d.memoryTotalBytes(), null,
                GpuEvent.DEVICE_WIDE, -1);
    }

    /** A whole GPU known only by its UUID and index (tests, and machines described without an inventory). */
    public static GpuUnit gpu(String uuid, int index) {
        return new GpuUnit(uuid, Kind.GPU, uuid, index, null, 0, null, GpuEvent.DEVICE_WIDE, -1);
    }

    /** A MIG instance on the GPU {@code parent} (whose name it carries). */
    public static GpuUnit mig(MigInstance m, String parentModel) {
        return new GpuUnit(m.uuid(), Kind.MIG, m.parentUuid(), m.parentIndex(), parentModel, m.memoryBytes(),
                m.profile(), m.gpuInstanceId(), m.placementStart());
    }

    public boolean isMig() {
        return kind == Kind.MIG;
    }

    /**
     * How much of a GPU this unit is, for the per-GPU CPU, memory and disk limits: 1 for a whole GPU,
     * compute slices / 7 for a MIG instance (A100, H100 and H200 have 7; an A30's 4 slices count as
     * 4/7 here, a conservative share).
     */
    public double gpuShare() {
        if (!isMig()) {
            return 1.0;
        }
        int slices = io.gpuagent.gpu.MigProfile.slicesOf(migProfile);
        return slices == 0 ? 1.0 : Math.min(1.0, slices / 7.0);
    }
}
