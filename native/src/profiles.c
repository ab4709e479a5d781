/*
 * profiles.c: the GPU models the simulation knows, with the values the real boards report.
 * Names, memory sizes, PCI device ids, compute capabilities, power limits and maximum clocks
 * follow nvidia-smi -q on the real cards; subsystem ids, VBIOS strings and the idle figures
 * are plausible but illustrative.
 */
#include <string.h>

#include "sim.h"

/*
 * MIG GPU instance profiles. Profile ids, slice counts, instance counts and placements are
 * those of NVIDIA's MIG user guide ("Supported MIG Profiles", and the nvidia-smi mig -lgip /
 * -lgipp listings in "Getting Started with MIG"); the index column is nvml.h's
 * NVML_GPU_INSTANCE_PROFILE_* constant. Placements are memory-slice starts (size = mem_slices):
 * 1g {0..6}, 1g double-memory {0,2,4,6}, 2g {0,2,4}, 3g {0,4}, 4g {0}, 7g {0}.
 * Memory (MiB) follows the GiB column of -lgip on A100 80GB and H100 80GB; the H200 figures are
 * derived from its profile names and 8 memory slices, not read from a card.
 *   index id name          slices mem starts inst  SM CE DEC ENC JPG OFA  MiB
 */
static const sim_mig_table MIG_A100_80GB = {7, {
    {0x0, 19, "1g.10gb",    1, 1, 0x7F, 7,  14, 1, 0, 0, 0, 0,  9728},
    {0x7, 20, "1g.10gb+me", 1, 1, 0x7F, 1,  14, 1, 1, 0, 1, 1,  9728},
    {0x9, 15, "1g.20gb",    1, 2, 0x55, 4,  14, 1, 1, 0, 0, 0, 19968},
    {0x1, 14, "2g.20gb",    2, 2, 0x15, 3,  28, 2, 1, 0, 0, 0, 19968},
    {0x2,  9, "3g.40gb",    3, 4, 0x11, 2,  42, 3, 2, 0, 0, 0, 40192},
    {0x3,  5, "4g.40gb",    4, 4, 0x01, 1,  56, 4, 2, 0, 0, 0, 40192},
    {0x4,  0, "7g.80gb",    7, 8, 0x01, 1,  98, 7, 5, 0, 1, 1, 81152},
}};

static const sim_mig_table MIG_H100_80GB = {7, {
    {0x0, 19, "1g.10gb",    1, 1, 0x7F, 7,  16, 1, 1, 0, 1, 0,  9984},
    {0x7, 20, "1g.10gb+me", 1, 1, 0x7F, 1,  16, 1, 1, 0, 1, 1,  9984},
    {0x9, 15, "1g.20gb",    1, 2, 0x55, 4,  26, 1, 1, 0, 1, 0, 20096},
    {0x1, 14, "2g.20gb",    2, 2, 0x15, 3,  32, 2, 2, 0, 2, 0, 20096},
    {0x2,  9, "3g.40gb",    3, 4, 0x11, 2,  60, 3, 3, 0, 3, 0, 40448},
    {0x3,  5, "4g.40gb",    4, 4, 0x01, 1,  64, 4, 4, 0, 4, 0, 40448},
    {0x4,  0, "7g.80gb",    7, 8, 0x01, 1, 132, 8, 7, 0, 7, 1, 81152},
}};

static const sim_mig_table MIG_H200_141GB = {7, {
    {0x0, 19, "1g.18gb",    1, 1, 0x7F, 7,  16, 1, 1, 0, 1, 0,  16896},
    {0x7, 20, "1g.18gb+me", 1, 1, 0x7F, 1,  16, 1, 1, 0, 1, 1,  16896},
    {0x9, 15, "1g.35gb",    1, 2, 0x55, 4,  26, 1, 1, 0, 1, 0,  33280},
    {0x1, 14, "2g.35gb",    2, 2, 0x15, 3,  32, 2, 2, 0, 2, 0,  33280},
    {0x2,  9, "3g.71gb",    3, 4, 0x11, 2,  60, 3, 3, 0, 3, 0,  66816},
    {0x3,  5, "4g.71gb",    4, 4, 0x01, 1,  64, 4, 4, 0, 4, 0,  66816},
    {0x4,  0, "7g.141gb",   7, 8, 0x01, 1, 132, 8, 7, 0, 7, 1, 135424},
}};

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
        .mig = NULL, .nvlink_links = 0, .nvlink_version = 0, .sxm = 0, .bridge = 0,
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
        /* the RTX 3090 takes a 4-link NVLink bridge (NVLink 3, 112.5 GB/s) */
        .mig = NULL, .nvlink_links = 4, .nvlink_version = 3, .sxm = 0, .bridge = 1,
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
        .mig = &MIG_A100_80GB, .nvlink_links = 12, .nvlink_version = 3, .sxm = 1, .bridge = 0,
    },
    {
        /* A100 80GB PCIe: 300 W, dual-slot passive; three NVLink bridges join two cards with
         * 12 NVLink 3 links (600 GB/s). */
        .key = "a100-80gb-pcie", .name = "NVIDIA A100 80GB PCIe",
        .mem_mib = 81920, .reserved_mib = 552, .driver_used_mib = 4,
        .pci_device_id = 0x20B510DE, .pci_subsys_id = 0x153310DE,
        .cc_major = 8, .cc_minor = 0, .arch = NVML_DEVICE_ARCH_AMPERE, .brand = NVML_BRAND_NVIDIA,
        .geforce = 0,
        .power_default_mw = 300000, .power_min_mw = 150000, .power_max_mw = 300000,
        .power_idle_mw = 45000,
        .pcie_gen = 4, .pcie_width = 16,
        .sm_max_mhz = 1410, .sm_idle_mhz = 210, .mem_max_mhz = 1512, .mem_idle_mhz = 1512,
        .video_max_mhz = 1290, .video_idle_mhz = 795,
        .fans = 0, .idle_temp_c = 33,
        .slowdown_temp_c = 90, .shutdown_temp_c = 93, .gpu_max_temp_c = 85, .mem_max_temp_c = 95,
        .vbios = "92.00.90.00.03", .serial_prefix = "1324",
        .mig = &MIG_A100_80GB, .nvlink_links = 12, .nvlink_version = 3, .sxm = 0, .bridge = 1,
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
        .mig = &MIG_H100_80GB, .nvlink_links = 18, .nvlink_version = 4, .sxm = 1, .bridge = 0,
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
        .mig = &MIG_H200_141GB, .nvlink_links = 18, .nvlink_version = 4, .sxm = 1, .bridge = 0,
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

const sim_gi_profile *sim_gi_profile_by_index(const sim_profile *p, unsigned index)
{
    for (int i = 0; p->mig && i < p->mig->n; i++) {
        if (p->mig->p[i].index == index)
            return &p->mig->p[i];
    }
    return NULL;
}

const sim_gi_profile *sim_gi_profile_by_id(const sim_profile *p, unsigned id)
{
    for (int i = 0; p->mig && i < p->mig->n; i++) {
        if (p->mig->p[i].id == id)
            return &p->mig->p[i];
    }
    return NULL;
}

const sim_gi_profile *sim_gi_profile_by_name(const sim_profile *p, const char *name)
{
    for (int i = 0; p->mig && i < p->mig->n; i++) {
        if (strcmp(p->mig->p[i].name, name) == 0)
            return &p->mig->p[i];
    }
    return NULL;
}
