package io.gpuagent.gpu;

import java.time.Instant;
import java.util.List;

/**
 * One telemetry reading of one GPU. Fields the card does not support are {@code null}: a metric
 * that does not exist must be absent downstream, never a fake zero. Units are in the names.
 * {@code migInstances} holds one reading per MIG instance (empty when MIG is off or absent).
 */
public record GpuSample(
        String uuid,
        int index,
        Instant time,
        long monotonicNanos,
        Integer gpuUtilPercent,
        Integer memUtilPercent,
        Long memoryUsedBytes,
        Long memoryFreeBytes,
        Long memoryReservedBytes,
        Integer temperatureC,
        Integer memoryTemperatureC,
        Long powerMilliwatts,
        Long energyMillijoules,
        Integer smClockMhz,
        Integer memClockMhz,
        Integer fanPercent,
        Long pcieTxKilobytesPerSecond,
        Long pcieRxKilobytesPerSecond,
        Long pcieReplayCounter,
        Long clockEventReasons,
        Integer performanceState,
        Long eccCorrectedVolatile,
        Long eccUncorrectedVolatile,
        Long eccCorrectedAggregate,
        Long eccUncorrectedAggregate,
        Integer retiredPagesSingleBit,
        Integer retiredPagesDoubleBit,
        Integer remappedRowsCorrectable,
        Integer remappedRowsUncorrectable,
        Boolean remapPending,
        Boolean remapFailure,
        List<GpuProcess> processes,
        List<MigSample> migInstances) {

    public GpuSample {
        processes = processes == null ? List.of() : List.copyOf(processes);
        migInstances = migInstances == null ? List.of() : List.copyOf(migInstances);
    }

    /** A sample of a GPU without MIG instances (the shape before MIG existed; callers keep compiling). */
    public GpuSample(String uuid, int index, Instant time, long monotonicNanos, Integer gpuUtilPercent,
                     Integer memUtilPercent, Long memoryUsedBytes, Long memoryFreeBytes, Long memoryReservedBytes,
                     Integer temperatureC, Integer memoryTemperatureC, Long powerMilliwatts, Long energyMillijoules,
                     Integer smClockMhz, Integer memClockMhz, Integer fanPercent, Long pcieTxKilobytesPerSecond,
                     Long pcieRxKilobytesPerSecond, Long pcieReplayCounter, Long clockEventReasons,
                     Integer performanceState, Long eccCorrectedVolatile, Long eccUncorrectedVolatile,
                     Long eccCorrectedAggregate, Long eccUncorrectedAggregate, Integer retiredPagesSingleBit,
                     Integer retiredPagesDoubleBit, Integer remappedRowsCorrectable, Integer remappedRowsUncorrectable,
                     Boolean remapPending, Boolean remapFailure, List<GpuProcess> processes) {
        this(uuid, index, time, monotonicNanos, gpuUtilPercent, memUtilPercent, memoryUsedBytes, memoryFreeBytes,
                memoryReservedBytes, temperatureC, memoryTemperatureC, powerMilliwatts, energyMillijoules, smClockMhz,
                memClockMhz, fanPercent, pcieTxKilobytesPerSecond, pcieRxKilobytesPerSecond, pcieReplayCounter,
                clockEventReasons, performanceState, eccCorrectedVolatile, eccUncorrectedVolatile,
                eccCorrectedAggregate, eccUncorrectedAggregate, retiredPagesSingleBit, retiredPagesDoubleBit,
                remappedRowsCorrectable, remappedRowsUncorrectable, remapPending, remapFailure, processes, List.of());
    }

    /** This sample with the GPU's MIG instances' readings. */
    public GpuSample withMigInstances(List<MigSample> migs) {
        return new GpuSample(uuid, index, time, monotonicNanos, gpuUtilPercent, memUtilPercent, memoryUsedBytes,
                memoryFreeBytes, memoryReservedBytes, temperatureC, memoryTemperatureC, powerMilliwatts,
                energyMillijoules, smClockMhz, memClockMhz, fanPercent, pcieTxKilobytesPerSecond,
                pcieRxKilobytesPerSecond, pcieReplayCounter, clockEventReasons, performanceState,
                eccCorrectedVolatile, eccUncorrectedVolatile, eccCorrectedAggregate, eccUncorrectedAggregate,
                retiredPagesSingleBit, retiredPagesDoubleBit, remappedRowsCorrectable, remappedRowsUncorrectable,
                remapPending, remapFailure, processes, migs);
    }
}
