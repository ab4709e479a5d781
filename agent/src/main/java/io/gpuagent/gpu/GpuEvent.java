package io.gpuagent.gpu;

/**
 * Something the driver reported about a GPU's health.
 *
 * @param data              the XID number for {@link Kind#XID}; 0 otherwise
 * @param gpuInstanceId     the MIG GPU instance the event is scoped to, or {@link #DEVICE_WIDE}
 * @param computeInstanceId the compute instance inside it, or {@link #DEVICE_WIDE}
 */
public record GpuEvent(int index, String uuid, Kind kind, long data, int gpuInstanceId, int computeInstanceId) {
    /** NVML's {@code 0xFFFFFFFF} in {@code nvmlEventData_t.gpuInstanceId}: the event concerns the whole GPU. */
    public static final int DEVICE_WIDE = -1;

    /** An event about the whole GPU. */
    public GpuEvent(int index, String uuid, Kind kind, long data) {
        this(index, uuid, kind, data, DEVICE_WIDE, DEVICE_WIDE);
    }

    /** True when the event concerns the whole GPU, not one MIG instance. */
    public boolean deviceWide() {
        return gpuInstanceId == DEVICE_WIDE;
    }

    /** The event types the health watcher subscribes to. */
    public enum Kind {
        XID,
        SINGLE_BIT_ECC,
        DOUBLE_BIT_ECC
    }
}
