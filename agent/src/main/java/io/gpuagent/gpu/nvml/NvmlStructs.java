package io.gpuagent.gpu.nvml;

import com.sun.jna.Pointer;
import com.sun.jna.Structure;

/**
 * The NVML structures the agent passes across the ABI, laid out as in NVIDIA's {@code nvml.h}
 * (x86-64 sizes asserted by {@code NvmlStructsTest}). Field names follow the header.
 */
final class NvmlStructs {
    private NvmlStructs() {
    }

    /** {@code nvmlPciInfo_t} (v3 layout, 68 bytes). */
    @Structure.FieldOrder({"busIdLegacy", "domain", "bus", "device", "pciDeviceId", "pciSubSystemId", "busId"})
    public static final class PciInfo extends Structure {
        public byte[] busIdLegacy = new byte[16];
        public int domain;
        public int bus;
        public int device;
        public int pciDeviceId;
        public int pciSubSystemId;
        public byte[] busId = new byte[32];
    }

    /** {@code nvmlMemory_t} (24 bytes). */
    @Structure.FieldOrder({"total", "free", "used"})
    public static final class Memory extends Structure {
        public long total;
        public long free;
        public long used;
    }

    /** {@code nvmlMemory_v2_t} (40 bytes); {@code version} must be {@link #VERSION}. */
    @Structure.FieldOrder({"version", "total", "reserved", "free", "used"})
    public static final class MemoryV2 extends Structure {
        /** {@code nvmlMemory_v2 = sizeof(nvmlMemory_v2_t) | 2 << 24}. */
        public static final int VERSION = 40 | (2 << 24);
        public int version = VERSION;
        public long total;
        public long reserved;
        public long free;
        public long used;
    }

    /** {@code nvmlUtilization_t} (8 bytes). */
    @Structure.FieldOrder({"gpu", "memory"})
    public static final class Utilization extends Structure {
        public int gpu;
        public int memory;
    }

    /** {@code nvmlProcessInfo_t} as of the v2/v3 calls (24 bytes; R535 drivers wrote 32). */
    @Structure.FieldOrder({"pid", "usedGpuMemory", "gpuInstanceId", "computeInstanceId"})
    public static final class ProcessInfo extends Structure {
        public int pid;
        public long usedGpuMemory;
        public int gpuInstanceId;
        public int computeInstanceId;
    }

    /** {@code nvmlEventData_t} (32 bytes). */
    @Structure.FieldOrder({"device", "eventType", "eventData", "gpuInstanceId", "computeInstanceId"})
    public static final class EventData extends Structure {
        public Pointer device;
        public long eventType;
        public long eventData;
        public int gpuInstanceId;
        public int computeInstanceId;
    }

    /** {@code nvmlFieldValue_t} (40 bytes); {@code value} is the 8-byte union, read per valueType. */
    @Structure.FieldOrder({"fieldId", "scopeId", "timestamp", "latencyUsec", "valueType", "nvmlReturn", "value"})
    public static final class FieldValue extends Structure {
        public int fieldId;
        public int scopeId;
        public long timestamp;
        public long latencyUsec;
        public int valueType;
        public int nvmlReturn;
        public long value;
    }

    /** {@code nvmlValueType_t} values used to read {@link FieldValue#value}. */
    static final int VALUE_TYPE_DOUBLE = 0;
    static final int VALUE_TYPE_UNSIGNED_INT = 1;
    static final int VALUE_TYPE_UNSIGNED_LONG = 2;
    static final int VALUE_TYPE_UNSIGNED_LONG_LONG = 3;
    static final int VALUE_TYPE_SIGNED_LONG_LONG = 4;
    static final int VALUE_TYPE_SIGNED_INT = 5;
}
