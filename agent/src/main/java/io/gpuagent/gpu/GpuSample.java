package io.gpuagent.gpu;

import java.time.Instant;
import java.util.List;

/**
 * One telemetry reading of one GPU. Fields the card does not support are {@code null}: a metric
 * that does not exist must be absent downstream, never a fake zero. Units are in the names.
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
        List<GpuProcess> processes) {

    public GpuSample {
        processes = processes == null ? List.of() : List.copyOf(processes);
    }
}
