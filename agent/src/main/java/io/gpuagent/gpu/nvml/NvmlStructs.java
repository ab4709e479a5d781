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

    /** {@code nvmlGpuInstancePlacement_t} (8 bytes): memory slices {@code start} .. {@code start + size - 1}. */
    @Structure.FieldOrder({"start", "size"})
    public static final class GpuInstancePlacement extends Structure {
        public int start;
        public int size;
    }

    /** {@code nvmlGpuInstanceProfileInfo_t} (v1, 48 bytes: no name, no version). */
    @Structure.FieldOrder({"id", "isP2pSupported", "sliceCount", "instanceCount", "multiprocessorCount",
        "copyEngineCount", "decoderCount", "encoderCount", "jpegCount", "ofaCount", "memorySizeMB"})
    public static final class GpuInstanceProfileInfo extends Structure {
        public int id;
        public int isP2pSupported;
        public int sliceCount;
        public int instanceCount;
        public int multiprocessorCount;
        public int copyEngineCount;
        public int decoderCount;
        public int encoderCount;
        public int jpegCount;
        public int ofaCount;
        public long memorySizeMB;
    }

    /** {@code nvmlGpuInstanceProfileInfo_v2_t} (152 bytes), read by {@code nvmlDeviceGetGpuInstanceProfileInfoV}. */
    @Structure.FieldOrder({"version", "id", "isP2pSupported", "sliceCount", "instanceCount", "multiprocessorCount",
        "copyEngineCount", "decoderCount", "encoderCount", "jpegCount", "ofaCount", "memorySizeMB", "name"})
    public static final class GpuInstanceProfileInfoV2 extends Structure {
        /** {@code nvmlGpuInstanceProfileInfo_v2 = sizeof | 2 << 24}. */
        public static final int VERSION = 152 | (2 << 24);
        public int version = VERSION;
        public int id;
        public int isP2pSupported;
        public int sliceCount;
        public int instanceCount;
        public int multiprocessorCount;
        public int copyEngineCount;
        public int decoderCount;
        public int encoderCount;
        public int jpegCount;
        public int ofaCount;
        public long memorySizeMB;
        public byte[] name = new byte[96];
    }

    /** {@code nvmlGpuInstanceInfo_t} (24 bytes). */
    @Structure.FieldOrder({"device", "id", "profileId", "placementStart", "placementSize"})
    public static final class GpuInstanceInfo extends Structure {
        public Pointer device;
        public int id;
        public int profileId;
        /** {@code placement.start}: the nested placement struct, flattened (same layout). */
        public int placementStart;
        public int placementSize;
    }

    /** {@code nvmlComputeInstanceProfileInfo_t} (v1, 36 bytes). */
    @Structure.FieldOrder({"id", "sliceCount", "instanceCount", "multiprocessorCount", "sharedCopyEngineCount",
        "sharedDecoderCount", "sharedEncoderCount", "sharedJpegCount", "sharedOfaCount"})
    public static final class ComputeInstanceProfileInfo extends Structure {
        public int id;
        public int sliceCount;
        public int instanceCount;
        public int multiprocessorCount;
        public int sharedCopyEngineCount;
        public int sharedDecoderCount;
        public int sharedEncoderCount;
        public int sharedJpegCount;
        public int sharedOfaCount;
    }

    /** {@code nvmlComputeInstanceInfo_t} (32 bytes). */
    @Structure.FieldOrder({"device", "gpuInstance", "id", "profileId", "placementStart", "placementSize"})
    public static final class ComputeInstanceInfo extends Structure {
        public Pointer device;
        public Pointer gpuInstance;
        public int id;
        public int profileId;
        public int placementStart;
        public int placementSize;
    }

    /** {@code nvmlValueType_t} values used to read {@link FieldValue#value}. */
    static final int VALUE_TYPE_DOUBLE = 0;
    static final int VALUE_TYPE_UNSIGNED_INT = 1;
    static final int VALUE_TYPE_UNSIGNED_LONG = 2;
    static final int VALUE_TYPE_UNSIGNED_LONG_LONG = 3;
    static final int VALUE_TYPE_SIGNED_LONG_LONG = 4;
    static final int VALUE_TYPE_SIGNED_INT = 5;
}
