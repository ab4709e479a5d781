package io.gpuagent.gpu;

/**
 * Something the driver reported about a GPU's health.
 *
 * @param data the XID number for {@link Kind#XID}; 0 otherwise
 */
public record GpuEvent(int index, String uuid, Kind kind, long data) {
    /** The event types the health watcher subscribes to. */
    public enum Kind {
        XID,
        SINGLE_BIT_ECC,
        DOUBLE_BIT_ECC
    }
}
