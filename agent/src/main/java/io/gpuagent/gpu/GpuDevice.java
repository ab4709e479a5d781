package io.gpuagent.gpu;

/**
 * What a GPU is, as probed once at start: identity and fixed capabilities. A value the card does
 * not support (GeForce cards have no serial, ECC or MIG) is {@code null}, never a made-up default.
 *
 * @param index                NVML index (may change across reboots; the UUID does not)
 * @param pciBusId             NVML's long form, {@code 00000000:18:00.0}
 * @param pciDeviceId          combined device and vendor id, {@code 0x233010DE}
 * @param computeCapability    CUDA compute capability, {@code 9.0}
 * @param migMode              {@code enabled} / {@code disabled}, null when the card has no MIG
 * @param eccMode              current ECC mode, null when the card has no ECC
 * @param minorNumber          the N of /dev/nvidiaN (dcgm-exporter's {@code device="nvidiaN"} label)
 */
public record GpuDevice(
        int index,
        String name,
        String uuid,
        String serial,
        String pciBusId,
        String pciDeviceId,
        long memoryTotalBytes,
        String computeCapability,
        String architecture,
        String brand,
        String migMode,
        String eccMode,
        Long powerLimitMilliwatts,
        Long powerDefaultLimitMilliwatts,
        Long powerMinLimitMilliwatts,
        Long powerMaxLimitMilliwatts,
        Integer pcieMaxGeneration,
        Integer pcieMaxWidth,
        Integer pcieCurrentGeneration,
        Integer pcieCurrentWidth,
        Integer maxSmClockMhz,
        Integer maxMemClockMhz,
        Integer fanCount,
        Integer minorNumber) {

    public GpuDevice {
        if (uuid == null || uuid.isBlank()) {
            throw new IllegalArgumentException("GPU " + index + " has no UUID");
        }
    }

    /** The device node name, {@code nvidia0}, as dcgm-exporter labels it (index when the minor is unknown). */
    public String deviceNode() {
        return "nvidia" + (minorNumber != null ? minorNumber : index);
    }

    /** Short model label for tables: the name without the vendor prefix. */
    public String model() {
        return name.startsWith("NVIDIA ") ? name.substring("NVIDIA ".length()) : name;
    }
}
