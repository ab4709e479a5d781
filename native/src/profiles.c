/*
 * profiles.c: the GPU models the simulation knows, with the values the real boards report.
 * Names, memory sizes, PCI device ids, compute capabilities, power limits and maximum clocks
 * follow nvidia-smi -q on the real cards; subsystem ids, VBIOS strings and the idle figures
 * are plausible but illustrative.
 */
#include <string.h>

#include "sim.h"

static const sim_profile PROFILES[] = {
    {
        .key = "rtx-4090", .name = "NVIDIA GeForce RTX 4090",
        .mem_mib = 24564, .reserved_mib = 306, .driver_used_mib = 2,
        .pci_device_id = 0x268410DE, .pci_subsys_id = 0x16F010DE,
        .cc_major = 8, .cc_minor = 9, .arch = NVML_DEVICE_ARCH_ADA, .brand = NVML_BRAND_GEFORCE,
        .geforce = 1,
        .power_default_mw = 450000, .power_min_mw = 150000, .power_max_mw = 600000,
        .power_idle_mw = 22000,
        .pcie_gen = 4, .pcie_width = 16,
        .sm_max_mhz = 3105, .sm_idle_mhz = 210, .mem_max_mhz = 10501, .mem_idle_mhz = 405,
        .video_max_mhz = 2415, .video_idle_mhz = 1185,
        .fans = 2, .idle_temp_c = 33,
        .slowdown_temp_c = 89, .shutdown_temp_c = 92, .gpu_max_temp_c = 87, .mem_max_temp_c = 0,
        .vbios = "95.02.18.80.87", .serial_prefix = NULL,
    },
    {
        .key = "rtx-3090", .name = "NVIDIA GeForce RTX 3090",
        .mem_mib = 24576, .reserved_mib = 278, .driver_used_mib = 2,
        .pci_device_id = 0x220410DE, .pci_subsys_id = 0x147D10DE,
        .cc_major = 8, .cc_minor = 6, .arch = NVML_DEVICE_ARCH_AMPERE, .brand = NVML_BRAND_GEFORCE,
        .geforce = 1,
        .power_default_mw = 350000, .power_min_mw = 100000, .power_max_mw = 400000,
        .power_idle_mw = 28000,
        .pcie_gen = 4, .pcie_width = 16,
        .sm_max_mhz = 2100, .sm_idle_mhz = 210, .mem_max_mhz = 9751, .mem_idle_mhz = 405,
        .video_max_mhz = 1950, .video_idle_mhz = 555,
        .fans = 2, .idle_temp_c = 35,
        .slowdown_temp_c = 95, .shutdown_temp_c = 98, .gpu_max_temp_c = 93, .mem_max_temp_c = 0,
        .vbios = "94.02.42.00.A9", .serial_prefix = NULL,
    },
    {
        .key = "a100-80gb", .name = "NVIDIA A100-SXM4-80GB",
        .mem_mib = 81920, .reserved_mib = 552, .driver_used_mib = 4,
        .pci_device_id = 0x20B210DE, .pci_subsys_id = 0x147F10DE,
        .cc_major = 8, .cc_minor = 0, .arch = NVML_DEVICE_ARCH_AMPERE, .brand = NVML_BRAND_NVIDIA,
        .geforce = 0,
        .power_default_mw = 400000, .power_min_mw = 100000, .power_max_mw = 400000,
        .power_idle_mw = 40000,
        .pcie_gen = 4, .pcie_width = 16,
        .sm_max_mhz = 1410, .sm_idle_mhz = 210, .mem_max_mhz = 1593, .mem_idle_mhz = 1593,
        .video_max_mhz = 1290, .video_idle_mhz = 795,
        .fans = 0, .idle_temp_c = 31,
        .slowdown_temp_c = 89, .shutdown_temp_c = 92, .gpu_max_temp_c = 85, .mem_max_temp_c = 95,
        .vbios = "92.00.36.00.10", .serial_prefix = "1323",
    },
    {
        .key = "h100-80gb-hbm3", .name = "NVIDIA H100 80GB HBM3",
        .mem_mib = 81559, .reserved_mib = 328, .driver_used_mib = 4,
        .pci_device_id = 0x233010DE, .pci_subsys_id = 0x16C110DE,
        .cc_major = 9, .cc_minor = 0, .arch = NVML_DEVICE_ARCH_HOPPER, .brand = NVML_BRAND_NVIDIA,
        .geforce = 0,
        .power_default_mw = 700000, .power_min_mw = 200000, .power_max_mw = 700000,
        .power_idle_mw = 70000,
        .pcie_gen = 5, .pcie_width = 16,
        .sm_max_mhz = 1980, .sm_idle_mhz = 345, .mem_max_mhz = 2619, .mem_idle_mhz = 2619,
        .video_max_mhz = 1755, .video_idle_mhz = 765,
        .fans = 0, .idle_temp_c = 32,
        .slowdown_temp_c = 89, .shutdown_temp_c = 92, .gpu_max_temp_c = 87, .mem_max_temp_c = 95,
        .vbios = "96.00.74.00.0D", .serial_prefix = "1654",
    },
    {
        .key = "h200", .name = "NVIDIA H200",
        .mem_mib = 143771, .reserved_mib = 574, .driver_used_mib = 4,
        .pci_device_id = 0x233510DE, .pci_subsys_id = 0x18BE10DE,
        .cc_major = 9, .cc_minor = 0, .arch = NVML_DEVICE_ARCH_HOPPER, .brand = NVML_BRAND_NVIDIA,
        .geforce = 0,
        .power_default_mw = 700000, .power_min_mw = 200000, .power_max_mw = 700000,
        .power_idle_mw = 72000,
        .pcie_gen = 5, .pcie_width = 16,
        .sm_max_mhz = 1980, .sm_idle_mhz = 345, .mem_max_mhz = 3201, .mem_idle_mhz = 3201,
        .video_max_mhz = 1755, .video_idle_mhz = 765,
        .fans = 0, .idle_temp_c = 31,
        .slowdown_temp_c = 89, .shutdown_temp_c = 92, .gpu_max_temp_c = 87, .mem_max_temp_c = 95,
        .vbios = "96.00.A5.00.01", .serial_prefix = "1655",
    },
};

const sim_profile *sim_profile_find(const char *key)
{
    for (size_t i = 0; i < sizeof(PROFILES) / sizeof(PROFILES[0]); i++) {
        if (strcmp(PROFILES[i].key, key) == 0)
            return &PROFILES[i];
    }
    return NULL;
}

const sim_profile *sim_profile_at(int i)
{
    if (i < 0 || (size_t)i >= sizeof(PROFILES) / sizeof(PROFILES[0]))
        return NULL;
    return &PROFILES[i];
}
