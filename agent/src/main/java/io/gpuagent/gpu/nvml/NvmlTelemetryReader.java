package io.gpuagent.gpu.nvml;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import io.gpuagent.gpu.GpuException;
import io.gpuagent.gpu.GpuLostException;
import io.gpuagent.gpu.GpuProcess;
import io.gpuagent.gpu.GpuSample;
import io.gpuagent.gpu.nvml.NvmlDevice.Feature;
import io.gpuagent.util.Clock;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads one telemetry sample of one device: every field DESIGN.md lists, each skipped for good
 * once the device answered NOT_SUPPORTED. Callers hold the device's monitor.
 */
final class NvmlTelemetryReader {
    static final int CLOCK_SM = 1;
    static final int CLOCK_MEM = 2;
    static final int TEMPERATURE_GPU = 0;
    static final int PCIE_TX_BYTES = 0;
    static final int PCIE_RX_BYTES = 1;
    static final int FI_DEV_MEMORY_TEMP = 82;
    static final int ECC_CORRECTED = 0;
    static final int ECC_UNCORRECTED = 1;
    static final int COUNTER_VOLATILE = 0;
    static final int COUNTER_AGGREGATE = 1;
    static final int RETIREMENT_MULTIPLE_SBE = 0;
    static final int RETIREMENT_DBE = 1;
    /** An INSUFFICIENT_SIZE loop that keeps losing the race gives up after this many tries. */
    static final int PROCESS_LIST_ATTEMPTS = 5;

    private final NvmlFunctions fn;
    private final Clock clock;

    NvmlTelemetryReader(NvmlFunctions fn, Clock clock) {
        this.fn = fn;
        this.clock = clock;
    }

    GpuSample read(NvmlDevice d) throws GpuException {
        long mono = clock.monotonicNanos();
        Integer gpuUtil = null;
        Integer memUtil = null;
        if (d.call(Feature.UTILIZATION, fn.deviceGetUtilizationRates, d.utilization) == NvmlReturn.SUCCESS) {
            gpuUtil = d.utilization.gpu;
            memUtil = d.utilization.memory;
        }
        long[] mem = memory(d);
        Integer temp = d.uint(Feature.TEMPERATURE, fn.deviceGetTemperature, TEMPERATURE_GPU);
        Integer memTemp = memoryTemperature(d);
        Long power = unsigned(d.uint(Feature.POWER_USAGE, fn.deviceGetPowerUsage));
        Long energy = d.ulong(Feature.ENERGY, fn.deviceGetTotalEnergyConsumption);
        Integer sm = d.uint(Feature.SM_CLOCK, fn.deviceGetClockInfo, CLOCK_SM);
        Integer memClock = d.uint(Feature.MEM_CLOCK, fn.deviceGetClockInfo, CLOCK_MEM);
        Integer fan = d.uint(Feature.FAN_SPEED, fn.deviceGetFanSpeed);
        Long tx = unsigned(d.uint(Feature.PCIE_TX, fn.deviceGetPcieThroughput, PCIE_TX_BYTES));
        Long rx = unsigned(d.uint(Feature.PCIE_RX, fn.deviceGetPcieThroughput, PCIE_RX_BYTES));
        Long replay = unsigned(d.uint(Feature.PCIE_REPLAY, fn.deviceGetPcieReplayCounter));
        Long reasons = d.ulong(Feature.CLOCK_EVENT_REASONS, fn.deviceGetClocksEventReasons);
        Integer pstate = d.uint(Feature.PERFORMANCE_STATE, fn.deviceGetPerformanceState);
        Long eccCv = d.ulong(Feature.ECC_COUNTERS, fn.deviceGetTotalEccErrors, ECC_CORRECTED, COUNTER_VOLATILE);
        Long eccUv = d.ulong(Feature.ECC_COUNTERS, fn.deviceGetTotalEccErrors, ECC_UNCORRECTED, COUNTER_VOLATILE);
        Long eccCa = d.ulong(Feature.ECC_COUNTERS, fn.deviceGetTotalEccErrors, ECC_CORRECTED, COUNTER_AGGREGATE);
        Long eccUa = d.ulong(Feature.ECC_COUNTERS, fn.deviceGetTotalEccErrors, ECC_UNCORRECTED, COUNTER_AGGREGATE);
        Integer retiredSbe = retiredPages(d, RETIREMENT_MULTIPLE_SBE);
        Integer retiredDbe = retiredPages(d, RETIREMENT_DBE);
        Integer rowsCorr = null;
        Integer rowsUnc = null;
        Boolean pending = null;
        Boolean failure = null;
        if (d.call(Feature.REMAPPED_ROWS, fn.deviceGetRemappedRows, d.scratch, d.scratch.share(4),
                d.scratch.share(8), d.scratch.share(12)) == NvmlReturn.SUCCESS) {
            rowsCorr = d.scratch.getInt(0);
            rowsUnc = d.scratch.getInt(4);
            pending = d.scratch.getInt(8) != 0;
            failure = d.scratch.getInt(12) != 0;
        }
        List<GpuProcess> processes = processes(d);
        return new GpuSample(d.uuid, d.index, clock.wallTime(), mono, gpuUtil, memUtil,
                mem == null ? null : mem[2], mem == null ? null : mem[1], mem == null || mem[3] < 0 ? null : mem[3],
                temp, memTemp, power, energy, sm, memClock, fan, tx, rx, replay, reasons, pstate,
                eccCv, eccUv, eccCa, eccUa, retiredSbe, retiredDbe, rowsCorr, rowsUnc, pending, failure, processes);
    }

    /**
     * {total, free, used, reserved} in bytes, reserved = -1 when only the v1 call exists; null when
     * the device reports no memory at all.
     */
    long[] memory(NvmlDevice d) throws GpuLostException {
        if (d.supports(Feature.MEMORY_V2) && fn.deviceGetMemoryInfoV2 != null) {
            d.memoryV2.version = NvmlStructs.MemoryV2.VERSION;
            NvmlReturn r = d.call(Feature.MEMORY_V2, fn.deviceGetMemoryInfoV2, d.memoryV2);
            if (r == NvmlReturn.SUCCESS) {
                return new long[] {d.memoryV2.total, d.memoryV2.free, d.memoryV2.used, d.memoryV2.reserved};
            }
            if (r == NvmlReturn.ERROR_ARGUMENT_VERSION_MISMATCH) {
                // a driver that knows another struct version: the v1 call still works
                d.markUnsupported(Feature.MEMORY_V2);
            }
        }
        if (d.call(Feature.MEMORY, fn.deviceGetMemoryInfo, d.memoryV1) == NvmlReturn.SUCCESS) {
            return new long[] {d.memoryV1.total, d.memoryV1.free, d.memoryV1.used, -1};
        }
        return null;
    }

    private Integer memoryTemperature(NvmlDevice d) throws GpuLostException {
        NvmlStructs.FieldValue fv = d.fieldValue;
        fv.fieldId = FI_DEV_MEMORY_TEMP;
        fv.scopeId = 0;
        fv.nvmlReturn = 0;
        fv.value = 0;
        if (d.call(Feature.MEMORY_TEMPERATURE, fn.deviceGetFieldValues, 1, fv) != NvmlReturn.SUCCESS) {
            return null;
        }
        NvmlReturn inner = NvmlReturn.of(fv.nvmlReturn);
        if (inner != NvmlReturn.SUCCESS) {
            if (NvmlCall.unsupported(inner)) {
                d.markUnsupported(Feature.MEMORY_TEMPERATURE);
            }
            return null;
        }
        return switch (fv.valueType) {
            case NvmlStructs.VALUE_TYPE_DOUBLE -> (int) Math.round(Double.longBitsToDouble(fv.value));
            case NvmlStructs.VALUE_TYPE_UNSIGNED_INT, NvmlStructs.VALUE_TYPE_SIGNED_INT -> (int) (fv.value & 0xFFFFFFFFL);
            default -> (int) fv.value;
        };
    }

    private Integer retiredPages(NvmlDevice d, int cause) throws GpuLostException {
        d.scratch.setInt(0, 0);
        NvmlReturn r = d.call(Feature.RETIRED_PAGES, fn.deviceGetRetiredPages, cause, d.scratch, null);
        // with a zero-sized buffer the count comes back either with SUCCESS or INSUFFICIENT_SIZE
        return r == NvmlReturn.SUCCESS || r == NvmlReturn.ERROR_INSUFFICIENT_SIZE ? d.scratch.getInt(0) : null;
    }

    /**
     * The compute processes on the device. The list can grow between the driver's count and fill
     * (INSUFFICIENT_SIZE: grow and retry), and R535 drivers wrote 32-byte entries through the
     * {@code _v3} call although the header says 24: the buffer is filled with a sentinel first,
     * and bytes written past {@code count * 24} reveal the wider stride, which is then kept.
     */
    private List<GpuProcess> processes(NvmlDevice d) throws GpuLostException {
        Function f = fn.deviceGetComputeRunningProcesses;
        if (f == null) {
            f = fn.deviceGetComputeRunningProcessesV1;
            d.processStride = 16;
            d.processStrideProbed = true;
        }
        if (f == null || !d.supports(Feature.PROCESSES)) {
            return List.of();
        }
        for (int attempt = 0; attempt < PROCESS_LIST_ATTEMPTS; attempt++) {
            int capacity = d.processCapacity;
            long bytes = (long) capacity * 32 + 32; // slack for the 32-byte stride whatever we believe
            if (d.processBuffer == null || d.processBuffer.size() < bytes) {
                d.processBuffer = new Memory(bytes);
            }
            Memory buf = d.processBuffer;
            if (!d.processStrideProbed) {
                buf.setMemory(0, bytes, (byte) 0xFF);
            }
            d.scratch.setInt(0, capacity);
            NvmlReturn r = d.call(Feature.PROCESSES, f, d.scratch, buf);
            int count = d.scratch.getInt(0);
            if (r == NvmlReturn.ERROR_INSUFFICIENT_SIZE) {
                d.processCapacity = Math.max(capacity * 2, count + 4);
                continue;
            }
            if (r != NvmlReturn.SUCCESS) {
                return null;
            }
            if (!d.processStrideProbed && count > 0) {
                d.processStride = wroteBeyond(buf, (long) count * 24, (long) count * 32) ? 32 : 24;
                d.processStrideProbed = true;
            }
            List<GpuProcess> out = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                long off = (long) i * d.processStride;
                long used = buf.getLong(off + 8);
                // NVML_VALUE_NOT_AVAILABLE (-1 as unsigned long long) when the driver cannot tell
                out.add(new GpuProcess(buf.getInt(off), used == -1L ? null : used));
            }
            return out;
        }
        return null;
    }

    private static boolean wroteBeyond(Memory buf, long from, long to) {
        for (long i = from; i < to; i++) {
            if (buf.getByte(i) != (byte) 0xFF) {
                return true;
            }
        }
        return false;
    }

    private static Long unsigned(Integer v) {
        return v == null ? null : Integer.toUnsignedLong(v);
    }
}
