package io.gpuagent.gpu.nvml;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The ABI: sizes from NVIDIA's nvml.h on x86-64 (DESIGN.md lists them). */
class NvmlStructsTest {
    @Test
    void structSizesMatchNvmlH() {
        assertThat(new NvmlStructs.PciInfo().size()).isEqualTo(68);
        assertThat(new NvmlStructs.Memory().size()).isEqualTo(24);
        assertThat(new NvmlStructs.MemoryV2().size()).isEqualTo(40);
        assertThat(new NvmlStructs.Utilization().size()).isEqualTo(8);
        assertThat(new NvmlStructs.ProcessInfo().size()).isEqualTo(24);
        assertThat(new NvmlStructs.EventData().size()).isEqualTo(32);
        assertThat(new NvmlStructs.FieldValue().size()).isEqualTo(40);
    }

    @Test
    void migStructSizesMatchNvmlH() {
        assertThat(new NvmlStructs.GpuInstancePlacement().size()).isEqualTo(8);
        assertThat(new NvmlStructs.GpuInstanceProfileInfo().size()).isEqualTo(48);
        assertThat(new NvmlStructs.GpuInstanceProfileInfoV2().size()).isEqualTo(152);
        assertThat(new NvmlStructs.GpuInstanceInfo().size()).isEqualTo(24);
        assertThat(new NvmlStructs.ComputeInstanceProfileInfo().size()).isEqualTo(36);
        assertThat(new NvmlStructs.ComputeInstanceInfo().size()).isEqualTo(32);
    }

    @Test
    void gpuInstanceProfileInfoV2VersionIsSizeOrTwoShiftedBy24() {
        assertThat(NvmlStructs.GpuInstanceProfileInfoV2.VERSION).isEqualTo(0x02000098);
        assertThat(new NvmlStructs.GpuInstanceProfileInfoV2().version).isEqualTo(0x02000098);
    }

    @Test
    void memoryV2VersionIsSizeOrTwoShiftedBy24() {
        assertThat(NvmlStructs.MemoryV2.VERSION).isEqualTo(0x02000028);
        assertThat(new NvmlStructs.MemoryV2().version).isEqualTo(0x02000028);
    }

    @Test
    void returnCodesMapBothWays() {
        for (NvmlReturn r : NvmlReturn.values()) {
            assertThat(NvmlReturn.of(r.code())).isEqualTo(r);
        }
        assertThat(NvmlReturn.of(15).nvmlName()).isEqualTo("NVML_ERROR_GPU_IS_LOST");
        assertThat(NvmlReturn.of(12345)).isEqualTo(NvmlReturn.ERROR_UNKNOWN);
        assertThat(NvmlReturn.of(-1)).isEqualTo(NvmlReturn.ERROR_UNKNOWN);
    }
}
