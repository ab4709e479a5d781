/*
 * topology.c: PCIe topology, NVLink and CPU/NUMA affinity, from the machine file.
 *
 *   PCIe   two GPUs with the same pcie_switch (>= 0) meet at that switch (NVML_TOPOLOGY_SINGLE,
 *          nvidia-smi's PIX); otherwise GPUs on one numa_node meet inside that CPU
 *          (NVML_TOPOLOGY_NODE), GPUs on different nodes across the CPU interconnect
 *          (NVML_TOPOLOGY_SYSTEM); a GPU with itself is NVML_TOPOLOGY_INTERNAL.
 *   NVLink `nvlink = nvswitch`: every SXM GPU's links (18 on Hopper, 12 on A100) go to the
 *          baseboard's NVSwitches (4 on HGX H100/H200: links 0-4, 5-8, 9-12, 13-17; 6 on HGX
 *          A100: two links each). The remote end of a link is the switch, as on a real HGX:
 *          nvmlDeviceGetNvLinkRemotePciInfo_v2 gives the switch's PCI address and
 *          nvmlDeviceGetNvLinkRemoteDeviceType NVML_NVLINK_DEVICE_TYPE_SWITCH. Every pair of
 *          GPUs on the board is then NVLink-connected through the switches.
 *          `nvlink_bridge = <peer>`: all of the card's links go to that peer GPU (A100 PCIe: 12
 *          links over three bridges; RTX 3090: 4), remote type GPU, remote PCI = the peer's.
 * A GPU with neither answers NOT_SUPPORTED to the NVLink calls, as a card without NVLink does.
 */
#include <string.h>

#include "sim.h"

#define NVSWITCH_BUS0 0x05 /* NVSwitch PCI buses 0x05.. (domain 0), as on HGX baseboards */

unsigned sim_nvswitch_count(const sim_profile *p)
{
    return p->arch == NVML_DEVICE_ARCH_HOPPER ? 4 : 6;
}

/* The switch a link of an SXM GPU lands on. */
static unsigned switch_of_link(const sim_profile *p, unsigned link)
{
    if (p->arch == NVML_DEVICE_ARCH_HOPPER) {
        static const unsigned first[4] = {0, 5, 9, 13};
        unsigned s = 3;
        while (link < first[s])
            s--;
        return s;
    }
    return link / 2;
}

static int on_nvswitch(const sim_dev *d)
{
    return g_machine.nvlink == NVLINK_NVSWITCH && d->spec.profile->sxm;
}

/* Links of d that lead to e (through the switches or a bridge); 0 when none. */
static unsigned links_between(const sim_dev *d, const sim_dev *e)
{
    if (d == e)
        return 0;
    if (on_nvswitch(d) && on_nvswitch(e))
        return d->spec.profile->nvlink_links;
    if (d->spec.nvlink_bridge == (int)e->index)
        return d->spec.profile->nvlink_links;
    return 0;
}

static int has_nvlink(const sim_dev *d)
{
    return on_nvswitch(d) || d->spec.nvlink_bridge >= 0;
}

static unsigned common_ancestor(const sim_dev *a, const sim_dev *b)
{
    if (a == b)
        return NVML_TOPOLOGY_INTERNAL;
    if (a->spec.pcie_switch >= 0 && a->spec.pcie_switch == b->spec.pcie_switch)
        return NVML_TOPOLOGY_SINGLE;
    if (a->spec.numa_node == b->spec.numa_node)
        return NVML_TOPOLOGY_NODE;
    return NVML_TOPOLOGY_SYSTEM;
}

static int valid_level(unsigned level)
{
    return level == NVML_TOPOLOGY_INTERNAL || level == NVML_TOPOLOGY_SINGLE ||
           level == NVML_TOPOLOGY_MULTIPLE || level == NVML_TOPOLOGY_HOSTBRIDGE ||
           level == NVML_TOPOLOGY_NODE || level == NVML_TOPOLOGY_SYSTEM;
}

/*
 * Two-GPU calls: both handles are checked (and each one's hang and lost state served) one
 * after the other, never holding both locks; the topology is static, so nothing is read that
 * another thread writes.
 */
static nvmlReturn_t enter_pair(nvmlDevice_t h1, nvmlDevice_t h2, sim_dev **a, sim_dev **b)
{
    nvmlReturn_t r = sim_dev_enter(h1, a);
    if (r != NVML_SUCCESS)
        return r;
    sim_dev_leave(*a);
    r = sim_dev_enter(h2, b);
    if (r != NVML_SUCCESS)
        return r;
    sim_dev_leave(*b);
    return NVML_SUCCESS;
}

/* Declares a and b, both checked (no lock held after). */
#define ENTER_PAIR(h1, h2)                                    \
    sim_dev *a, *b;                                           \
    do {                                                      \
        nvmlReturn_t pair_rc_ = enter_pair((h1), (h2), &a, &b); \
        if (pair_rc_ != NVML_SUCCESS)                         \
            return pair_rc_;                                  \
    } while (0)

SIM_EXPORT nvmlReturn_t nvmlDeviceGetTopologyCommonAncestor(nvmlDevice_t device1,
                                                            nvmlDevice_t device2,
                                                            nvmlGpuTopologyLevel_t *pathInfo)
{
    ENTER_PAIR(device1, device2);
    if (!pathInfo)
        return NVML_ERROR_INVALID_ARGUMENT;
    *pathInfo = common_ancestor(a, b);
    return NVML_SUCCESS;
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetTopologyNearestGpus(nvmlDevice_t device,
                                                         nvmlGpuTopologyLevel_t level,
                                                         unsigned int *count,
                                                         nvmlDevice_t *deviceArray)
{
    ENTER(device);
    REQUIRE(count && valid_level(level));
    /* The other GPUs whose common ancestor with this one is at `level` or nearer. */
    nvmlDevice_t found[SIM_MAX_GPUS];
    unsigned n = 0;
    for (int i = 0; i < g_ndev; i++) {
        if (&g_devs[i] != d && common_ancestor(d, &g_devs[i]) <= level)
            found[n++] = &g_devs[i];
    }
    if (*count == 0) {
        *count = n; /* the size query */
        LEAVE(NVML_SUCCESS);
    }
    REQUIRE(deviceArray);
    if (*count < n)
        n = *count;
    memcpy(deviceArray, found, n * sizeof(found[0]));
    *count = n;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetP2PStatus(nvmlDevice_t device1, nvmlDevice_t device2,
                                               nvmlGpuP2PCapsIndex_t p2pIndex,
                                               nvmlGpuP2PStatus_t *p2pStatus)
{
    ENTER_PAIR(device1, device2);
    if (!p2pStatus || p2pIndex >= NVML_P2P_CAPS_INDEX_UNKNOWN || a == b)
        return NVML_ERROR_INVALID_ARGUMENT;
    int nvlinked = links_between(a, b) > 0;
    nvmlGpuP2PStatus_t st;
    if (nvlinked) {
        st = NVML_P2P_STATUS_OK; /* read, write, atomics and NVLink all over the links */
    } else if (p2pIndex == NVML_P2P_CAPS_INDEX_NVLINK || p2pIndex == NVML_P2P_CAPS_INDEX_ATOMICS) {
        st = NVML_P2P_STATUS_NOT_SUPPORTED;
    } else if (a->spec.profile->geforce || b->spec.profile->geforce) {
        st = NVML_P2P_STATUS_GPU_NOT_SUPPORTED; /* GeForce drivers disable PCIe peer-to-peer */
    } else if (common_ancestor(a, b) == NVML_TOPOLOGY_SYSTEM) {
        st = NVML_P2P_STATUS_IOH_TOPOLOGY_NOT_SUPPORTED; /* across the CPU interconnect */
    } else {
        st = NVML_P2P_STATUS_OK;
    }
    *p2pStatus = st;
    return NVML_SUCCESS;
}

/* Common checks of the per-link calls: NOT_SUPPORTED without NVLink, link range. */
#define ENTER_LINK(device, link)                                  \
    ENTER(device);                                                \
    do {                                                          \
        if (!has_nvlink(d))                                       \
            LEAVE(NVML_ERROR_NOT_SUPPORTED);                      \
        if ((link) >= d->spec.profile->nvlink_links)              \
            LEAVE(NVML_ERROR_INVALID_ARGUMENT);                   \
    } while (0)

SIM_EXPORT nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t device, unsigned int link,
                                                 nvmlEnableState_t *isActive)
{
    ENTER_LINK(device, link);
    REQUIRE(isActive);
    *isActive = NVML_FEATURE_ENABLED;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetNvLinkVersion(nvmlDevice_t device, unsigned int link,
                                                   unsigned int *version)
{
    ENTER_LINK(device, link);
    REQUIRE(version);
    *version = d->spec.profile->nvlink_version;
    LEAVE(NVML_SUCCESS);
}

static void fill_remote_pci(const sim_dev *d, unsigned link, nvmlPciInfo_t *pci)
{
    memset(pci, 0, sizeof(*pci));
    if (on_nvswitch(d)) {
        const sim_profile *p = d->spec.profile;
        pci->bus = NVSWITCH_BUS0 + switch_of_link(p, link);
        /* NVSwitch gen 3 (HGX H100/H200) or gen 2 (HGX A100) */
        pci->pciDeviceId = p->arch == NVML_DEVICE_ARCH_HOPPER ? 0x22A310DE : 0x1AF110DE;
        pci->pciSubSystemId = p->arch == NVML_DEVICE_ARCH_HOPPER ? 0x179610DE : 0x157010DE;
    } else {
        const sim_dev *peer = &g_devs[d->spec.nvlink_bridge];
        pci->bus = peer->spec.pci_bus;
        pci->pciDeviceId = peer->spec.profile->pci_device_id;
        pci->pciSubSystemId = peer->spec.profile->pci_subsys_id;
    }
    snprintf(pci->busIdLegacy, sizeof(pci->busIdLegacy), "%04X:%02X:%02X.0", 0, pci->bus, 0);
    snprintf(pci->busId, sizeof(pci->busId), "%08X:%02X:%02X.0", 0, pci->bus, 0);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetNvLinkRemotePciInfo_v2(nvmlDevice_t device, unsigned int link,
                                                            nvmlPciInfo_t *pci)
{
    ENTER_LINK(device, link);
    REQUIRE(pci);
    fill_remote_pci(d, link, pci);
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetNvLinkRemoteDeviceType(nvmlDevice_t device, unsigned int link,
                                                            nvmlIntNvLinkDeviceType_t *type)
{
    ENTER_LINK(device, link);
    REQUIRE(type);
    *type = on_nvswitch(d) ? NVML_NVLINK_DEVICE_TYPE_SWITCH : NVML_NVLINK_DEVICE_TYPE_GPU;
    LEAVE(NVML_SUCCESS);
}

/* Sets bits [first, first + n) of a bitmap of unsigned longs, within `words`. */
static void set_bits(unsigned long *set, unsigned words, unsigned first, unsigned n)
{
    const unsigned bits = 8 * sizeof(unsigned long);
    memset(set, 0, words * sizeof(unsigned long));
    for (unsigned b = first; b < first + n && b / bits < words; b++)
        set[b / bits] |= 1UL << (b % bits);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetCpuAffinity(nvmlDevice_t device, unsigned int cpuSetSize,
                                                 unsigned long *cpuSet)
{
    ENTER(device);
    REQUIRE(cpuSet && cpuSetSize > 0);
    unsigned k = g_machine.numa_cpus;
    set_bits(cpuSet, cpuSetSize, (unsigned)d->spec.numa_node * k, k);
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetMemoryAffinity(nvmlDevice_t device, unsigned int nodeSetSize,
                                                    unsigned long *nodeSet, nvmlAffinityScope_t scope)
{
    ENTER(device);
    REQUIRE(nodeSet && nodeSetSize > 0 && scope <= NVML_AFFINITY_SCOPE_SOCKET);
    set_bits(nodeSet, nodeSetSize, (unsigned)d->spec.numa_node, 1); /* one socket per node */
    LEAVE(NVML_SUCCESS);
}
