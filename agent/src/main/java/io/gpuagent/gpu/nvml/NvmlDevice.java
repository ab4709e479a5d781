package io.gpuagent.gpu.nvml;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.gpuagent.gpu.GpuException;
import io.gpuagent.gpu.GpuLostException;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * One GPU's NVML handle plus what we learned about it: the features it answered
 * {@code NOT_SUPPORTED} for (asked once, then never again: GeForce cards lack ECC, serial, MIG,
 * retired pages and remapped rows, and asking every second costs driver time), and the
 * process-entry stride its driver writes. Calls on one device are serialised on its own monitor,
 * which also guards the scratch buffers.
 */
final class NvmlDevice {
    /** Capabilities probed once per device. */
    enum Feature {
        SERIAL, PCI_INFO, MEMORY_V2, MEMORY, COMPUTE_CAPABILITY, ARCHITECTURE, BRAND, MIG_MODE, ECC_MODE,
        POWER_LIMIT, POWER_DEFAULT_LIMIT, POWER_LIMIT_CONSTRAINTS, PCIE_MAX_GEN, PCIE_MAX_WIDTH, PCIE_CURR_GEN,
        PCIE_CURR_WIDTH, MAX_SM_CLOCK, MAX_MEM_CLOCK, NUM_FANS, FAN_SPEED, UTILIZATION, TEMPERATURE,
        MEMORY_TEMPERATURE, POWER_USAGE, ENERGY, PCIE_TX, PCIE_RX, PCIE_REPLAY, SM_CLOCK, MEM_CLOCK,
        CLOCK_EVENT_REASONS, PERFORMANCE_STATE, ECC_COUNTERS, RETIRED_PAGES, REMAPPED_ROWS, PROCESSES, NAME,
        MINOR_NUMBER, MIG_PROFILES, MIG_DEVICES, TOPOLOGY, NVLINK, NVLINK_REMOTE_TYPE
    }

    final int index;
    final Pointer handle;
    private final Set<Feature> unsupported = ConcurrentHashMap.newKeySet();
    /** Errors other than NOT_SUPPORTED and GPU_IS_LOST, which leave one field empty for one tick. */
    final LongAdder transientErrors = new LongAdder();
    /** Out-parameters of the current call; 64 bytes covers every scalar and small struct we read. */
    final Memory scratch = new Memory(64);
    final NvmlStructs.MemoryV2 memoryV2 = new NvmlStructs.MemoryV2();
    final NvmlStructs.Memory memoryV1 = new NvmlStructs.Memory();
    final NvmlStructs.Utilization utilization = new NvmlStructs.Utilization();
    final NvmlStructs.FieldValue fieldValue = new NvmlStructs.FieldValue();
    /** Bytes per process entry: 24 normally, 32 on R535 drivers, 16 through the v1 call. */
    int processStride = 24;
    boolean processStrideProbed;
    int processCapacity = 8;
    Memory processBuffer;
    volatile String uuid;
    /** The card's GPU-instance profiles, read once MIG was first seen on (they never change). */
    java.util.List<io.gpuagent.gpu.MigProfile> migProfiles;
    /** What is known of each MIG device by UUID, so that a telemetry tick need not walk the GPU instances. */
    final java.util.Map<String, NvmlMig.Known> migDevices = new java.util.HashMap<>();

    /** Why no handle could be had for this GPU at enumeration, or null when it has one. */
    private final NvmlReturn handleError;

    NvmlDevice(int index, Pointer handle) {
        this(index, handle, null);
    }

    private NvmlDevice(int index, Pointer handle, NvmlReturn handleError) {
        this.index = index;
        this.handle = handle;
        this.handleError = handleError;
    }

    /** A GPU the driver counts but would not give a handle for (lost, no permission, ...). */
    static NvmlDevice unreachable(int index, NvmlReturn why) {
        return new NvmlDevice(index, null, why);
    }

    /** Throws the enumeration failure of a GPU without a handle. */
    void checkReachable() throws GpuException {
        if (handleError != null) {
            throw NvmlCall.failure("nvmlDeviceGetHandleByIndex(" + index + ")", handleError);
        }
    }

    boolean supports(Feature f) {
        return !unsupported.contains(f);
    }

    void markUnsupported(Feature f) {
        unsupported.add(f);
    }

    Set<Feature> unsupportedFeatures() {
        return Set.copyOf(unsupported);
    }

    /**
     * Calls {@code fn(handle, args...)} unless the feature is known to be missing.
     *
     * @return SUCCESS, or another code the caller treats as "no value this time"
     * @throws GpuLostException when the GPU fell off the bus
     */
    NvmlReturn call(Feature feature, Function fn, Object... args) throws GpuLostException {
        if (!supports(feature)) {
            return NvmlReturn.ERROR_NOT_SUPPORTED;
        }
        Object[] full = new Object[args.length + 1];
        full[0] = handle;
        System.arraycopy(args, 0, full, 1, args.length);
        NvmlReturn r = NvmlCall.invoke(fn, full);
        if (r == NvmlReturn.SUCCESS) {
            return r;
        }
        if (NvmlCall.unsupported(r)) {
            unsupported.add(feature);
        } else if (r == NvmlReturn.ERROR_GPU_IS_LOST) {
            throw lost(feature);
        } else if (r != NvmlReturn.ERROR_INSUFFICIENT_SIZE) {
            transientErrors.increment();
        }
        return r;
    }

    /** Reads an unsigned int out-parameter (the last argument) or null. */
    Integer uint(Feature feature, Function fn, Object... argsBeforeOut) throws GpuLostException {
        Object[] args = withScratch(argsBeforeOut);
        return call(feature, fn, args) == NvmlReturn.SUCCESS ? scratch.getInt(0) : null;
    }

    /** Reads an unsigned long long out-parameter (the last argument) or null. */
    Long ulong(Feature feature, Function fn, Object... argsBeforeOut) throws GpuLostException {
        Object[] args = withScratch(argsBeforeOut);
        return call(feature, fn, args) == NvmlReturn.SUCCESS ? scratch.getLong(0) : null;
    }

    /** Reads a NUL-terminated string of at most {@code size} bytes, or null. */
    String string(Feature feature, Function fn, int size) throws GpuException {
        byte[] buf = new byte[size];
        NvmlReturn r = call(feature, fn, buf, size);
        if (r != NvmlReturn.SUCCESS) {
            return null;
        }
        return cString(buf);
    }

    GpuLostException lost(Feature during) {
        return new GpuLostException(NvmlReturn.ERROR_GPU_IS_LOST.nvmlName(),
                "GPU " + index + (uuid != null ? " (" + uuid + ")" : "") + " is lost (fell off the bus) while reading "
                        + during.name().toLowerCase().replace('_', ' '));
    }

    private Object[] withScratch(Object[] argsBeforeOut) {
        Object[] args = new Object[argsBeforeOut.length + 1];
        System.arraycopy(argsBeforeOut, 0, args, 0, argsBeforeOut.length);
        args[argsBeforeOut.length] = scratch;
        return args;
    }

    static String cString(byte[] buf) {
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
            n++;
        }
        return new String(buf, 0, n, java.nio.charset.StandardCharsets.UTF_8);
    }
}
