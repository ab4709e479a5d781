/*
 * nvml_client: a third-party style NVML client. It resolves every function with dlopen/dlsym
 * (versioned name first, older name as fallback), exactly as pynvml, go-nvml or a JNA binding
 * do, and prints the static inventory in a line format the Java integration test and
 * nvml_client.py share:
 *
 *   driver_version=<s> nvml_version=<s> cuda_driver_version=<int> count=<n>
 *   index=<i> name=<s> uuid=<s> serial=<s> pci_bus_id=<s> pci_device_id=0x<8 HEX> ... brand=<int>
 *
 * Values never contain spaces: ' ' is written %20 and '%' %25. NVML_ERROR_NOT_SUPPORTED is
 * written NOT_SUPPORTED, any other error ERROR_<code>.
 *
 * A second argument picks another section after the same header line:
 *   mig       per GPU its MIG mode; on MIG GPUs each profile (id, slices, memory, placements,
 *             remaining capacity), each GPU and compute instance and each MIG device
 *   topology  per GPU a row of the matrix nvidia-smi topo -m prints (X, NV<links>, PIX, PXB,
 *             PHB, NODE, SYS), the same row by PCIe path alone, its NUMA node and its NVLink
 *             links (version, remote PCI bus id of each active link)
 *
 * Usage: nvml_client [path/to/libnvidia-ml.so.1 [inventory|mig|topology]]
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvml_abi.h"

static void *g_lib;

static void *sym(const char *name, const char *fallback)
{
    void *p = dlsym(g_lib, name);
    if (!p && fallback)
        p = dlsym(g_lib, fallback);
    if (!p) {
        fprintf(stderr, "nvml_client: symbol %s not found\n", name);
        exit(3);
    }
    return p;
}

static void put(const char *key, const char *val, int first)
{
    if (!first)
        putchar(' ');
    printf("%s=", key);
    for (const char *c = val; *c; c++) {
        if (*c == ' ')
            fputs("%20", stdout);
        else if (*c == '%')
            fputs("%25", stdout);
        else
            putchar(*c);
    }
}

static const char *err_text(nvmlReturn_t r, char *buf, size_t n)
{
    if (r == NVML_ERROR_NOT_SUPPORTED)
        return "NOT_SUPPORTED";
    snprintf(buf, n, "ERROR_%u", r);
    return buf;
}

/* Formats an unsigned result, or the error that replaced it. */
static const char *u(nvmlReturn_t r, unsigned long long v, char *buf, size_t n)
{
    if (r != NVML_SUCCESS)
        return err_text(r, buf, n);
    snprintf(buf, n, "%llu", v);
    return buf;
}

static const char *s(nvmlReturn_t r, const char *v, char *buf, size_t n)
{
    if (r != NVML_SUCCESS)
        return err_text(r, buf, n);
    snprintf(buf, n, "%s", v);
    return buf;
}

/* A value no call can have failed to give (an index, a field of a filled struct). */
static void put_u(const char *key, unsigned long long v, int first)
{
    char buf[32];
    put(key, u(NVML_SUCCESS, v, buf, sizeof(buf)), first);
}

/* A GPU instance's line (ci < 0) or one of its compute instances' lines. */
static void put_instance(unsigned index, unsigned gi, int ci, unsigned profile_id, unsigned start,
                         unsigned size)
{
    char buf[32];
    put_u("index", index, 1);
    put_u("gpu_instance", gi, 0);
    if (ci >= 0)
        put_u("compute_instance", (unsigned)ci, 0);
    put_u("profile_id", profile_id, 0);
    snprintf(buf, sizeof(buf), "%u:%u", start, size);
    put("placement", buf, 0);
    putchar('\n');
}

typedef nvmlReturn_t (*by_index_fn)(unsigned, nvmlDevice_t *);

static void print_mig(unsigned n, by_index_fn by_index)
{
    char b1[128];
    nvmlReturn_t (*mode)(nvmlDevice_t, unsigned *, unsigned *) = sym("nvmlDeviceGetMigMode", NULL);
    nvmlReturn_t (*maxdev)(nvmlDevice_t, unsigned *) = sym("nvmlDeviceGetMaxMigDeviceCount", NULL);
    nvmlReturn_t (*pinfo)(nvmlDevice_t, unsigned, nvmlGpuInstanceProfileInfo_v2_t *) =
        sym("nvmlDeviceGetGpuInstanceProfileInfoV", NULL);
    nvmlReturn_t (*placements)(nvmlDevice_t, unsigned, nvmlGpuInstancePlacement_t *, unsigned *) =
        sym("nvmlDeviceGetGpuInstancePossiblePlacements_v2", NULL);
    nvmlReturn_t (*capacity)(nvmlDevice_t, unsigned, unsigned *) =
        sym("nvmlDeviceGetGpuInstanceRemainingCapacity", NULL);
    nvmlReturn_t (*gi_by_id)(nvmlDevice_t, unsigned, nvmlGpuInstance_t *) =
        sym("nvmlDeviceGetGpuInstanceById", NULL);
    nvmlReturn_t (*gi_info)(nvmlGpuInstance_t, nvmlGpuInstanceInfo_t *) =
        sym("nvmlGpuInstanceGetInfo", NULL);
    nvmlReturn_t (*ci_by_id)(nvmlGpuInstance_t, unsigned, nvmlComputeInstance_t *) =
        sym("nvmlGpuInstanceGetComputeInstanceById", NULL);
    nvmlReturn_t (*ci_info)(nvmlComputeInstance_t, nvmlComputeInstanceInfo_t *) =
        sym("nvmlComputeInstanceGetInfo_v2", NULL);
    nvmlReturn_t (*mig_at)(nvmlDevice_t, unsigned, nvmlDevice_t *) =
        sym("nvmlDeviceGetMigDeviceHandleByIndex", NULL);
    nvmlReturn_t (*uuid)(nvmlDevice_t, char *, unsigned) = sym("nvmlDeviceGetUUID", NULL);
    nvmlReturn_t (*name)(nvmlDevice_t, char *, unsigned) = sym("nvmlDeviceGetName", NULL);
    nvmlReturn_t (*mem2)(nvmlDevice_t, nvmlMemory_v2_t *) = sym("nvmlDeviceGetMemoryInfo_v2", NULL);
    nvmlReturn_t (*gi_id)(nvmlDevice_t, unsigned *) = sym("nvmlDeviceGetGpuInstanceId", NULL);
    nvmlReturn_t (*ci_id)(nvmlDevice_t, unsigned *) = sym("nvmlDeviceGetComputeInstanceId", NULL);

    for (unsigned i = 0; i < n; i++) {
        nvmlDevice_t d;
        nvmlReturn_t hr = by_index(i, &d), r;
        unsigned cur = 0, pend = 0, max = 0;
        r = hr != NVML_SUCCESS ? hr : mode(d, &cur, &pend);
        put_u("index", i, 1);
        put("mig_current", u(r, cur, b1, sizeof(b1)), 0);
        put("mig_pending", u(r, pend, b1, sizeof(b1)), 0);
        r = hr != NVML_SUCCESS ? hr : maxdev(d, &max);
        put("max_mig_devices", u(r, max, b1, sizeof(b1)), 0);
        putchar('\n');
        if (hr != NVML_SUCCESS || cur != NVML_DEVICE_MIG_ENABLE)
            continue;
        for (unsigned k = 0; k < NVML_GPU_INSTANCE_PROFILE_COUNT; k++) {
            nvmlGpuInstanceProfileInfo_v2_t pi;
            memset(&pi, 0, sizeof(pi));
            pi.version = nvmlGpuInstanceProfileInfo_v2;
            if (pinfo(d, k, &pi) != NVML_SUCCESS)
                continue;
            nvmlGpuInstancePlacement_t pl[8];
            unsigned np = 8, cap = 0;
            char list[128] = "";
            if (placements(d, pi.id, pl, &np) == NVML_SUCCESS) {
                for (unsigned j = 0; j < np; j++)
                    snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%u:%u",
                             j ? "," : "", pl[j].start, pl[j].size);
            }
            r = capacity(d, pi.id, &cap);
            put_u("index", i, 1);
            put_u("profile", k, 0);
            put_u("id", pi.id, 0);
            put("name", pi.name, 0);
            put_u("slices", pi.sliceCount, 0);
            put_u("instances", pi.instanceCount, 0);
            put_u("memory_mib", pi.memorySizeMB, 0);
            put_u("sm", pi.multiprocessorCount, 0);
            put("placements", list, 0);
            put("remaining", u(r, cap, b1, sizeof(b1)), 0);
            putchar('\n');
        }
        for (unsigned g = 0; g < 15; g++) {
            nvmlGpuInstance_t gi;
            nvmlGpuInstanceInfo_t gin;
            if (gi_by_id(d, g, &gi) != NVML_SUCCESS || gi_info(gi, &gin) != NVML_SUCCESS)
                continue;
            put_instance(i, gin.id, -1, gin.profileId, gin.placement.start, gin.placement.size);
            for (unsigned c = 0; c < 8; c++) {
                nvmlComputeInstance_t ci;
                nvmlComputeInstanceInfo_t cin;
                if (ci_by_id(gi, c, &ci) != NVML_SUCCESS || ci_info(ci, &cin) != NVML_SUCCESS)
                    continue;
                put_instance(i, gin.id, (int)cin.id, cin.profileId, cin.placement.start,
                             cin.placement.size);
            }
        }
        for (unsigned j = 0; j < max; j++) {
            nvmlDevice_t m;
            if (mig_at(d, j, &m) != NVML_SUCCESS)
                continue;
            char txt[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
            unsigned g = 0, c = 0;
            nvmlMemory_v2_t mem;
            memset(&mem, 0, sizeof(mem));
            mem.version = nvmlMemory_v2;
            put_u("index", i, 1);
            put_u("mig_device", j, 0);
            r = uuid(m, txt, sizeof(txt));
            put("uuid", s(r, txt, b1, sizeof(b1)), 0);
            r = name(m, txt, sizeof(txt));
            put("name", s(r, txt, b1, sizeof(b1)), 0);
            r = mem2(m, &mem);
            put("memory_total_bytes", u(r, mem.total, b1, sizeof(b1)), 0);
            r = gi_id(m, &g);
            put("gpu_instance", u(r, g, b1, sizeof(b1)), 0);
            r = ci_id(m, &c);
            put("compute_instance", u(r, c, b1, sizeof(b1)), 0);
            putchar('\n');
        }
    }
}

static const char *level_name(unsigned level)
{
    switch (level) {
    case NVML_TOPOLOGY_INTERNAL: return "X";
    case NVML_TOPOLOGY_SINGLE: return "PIX";
    case NVML_TOPOLOGY_MULTIPLE: return "PXB";
    case NVML_TOPOLOGY_HOSTBRIDGE: return "PHB";
    case NVML_TOPOLOGY_NODE: return "NODE";
    default: return "SYS";
    }
}

static void print_topology(unsigned n, by_index_fn by_index)
{
    char b1[128];
    nvmlReturn_t (*ancestor)(nvmlDevice_t, nvmlDevice_t, unsigned *) =
        sym("nvmlDeviceGetTopologyCommonAncestor", NULL);
    nvmlReturn_t (*p2p)(nvmlDevice_t, nvmlDevice_t, unsigned, unsigned *) =
        sym("nvmlDeviceGetP2PStatus", NULL);
    nvmlReturn_t (*state)(nvmlDevice_t, unsigned, unsigned *) = sym("nvmlDeviceGetNvLinkState", NULL);
    nvmlReturn_t (*version)(nvmlDevice_t, unsigned, unsigned *) =
        sym("nvmlDeviceGetNvLinkVersion", NULL);
    nvmlReturn_t (*remote)(nvmlDevice_t, unsigned, nvmlPciInfo_t *) =
        sym("nvmlDeviceGetNvLinkRemotePciInfo_v2", NULL);
    nvmlReturn_t (*rtype)(nvmlDevice_t, unsigned, unsigned *) =
        sym("nvmlDeviceGetNvLinkRemoteDeviceType", NULL);
    nvmlReturn_t (*pci)(nvmlDevice_t, nvmlPciInfo_t *) = sym("nvmlDeviceGetPciInfo_v3", NULL);
    nvmlReturn_t (*memaff)(nvmlDevice_t, unsigned, unsigned long *, unsigned) =
        sym("nvmlDeviceGetMemoryAffinity", NULL);

    nvmlDevice_t d[64];
    char bus[64][32];
    unsigned nd = n < 64 ? n : 64;
    for (unsigned i = 0; i < nd; i++) {
        nvmlPciInfo_t p;
        bus[i][0] = '\0';
        if (by_index(i, &d[i]) == NVML_SUCCESS && pci(d[i], &p) == NVML_SUCCESS)
            snprintf(bus[i], sizeof(bus[i]), "%s", p.busId);
    }
    for (unsigned i = 0; i < nd; i++) {
        /* links that lead to GPU j: to a switch (every GPU on it), or to j's own bus */
        unsigned nlinks = 0, ver = 0, to_switch = 0;
        unsigned to_gpu[64] = {0};
        char remotes[1024] = "";
        for (unsigned l = 0; l < NVML_NVLINK_MAX_LINKS; l++) {
            unsigned on = 0, t = 0;
            nvmlPciInfo_t rp;
            if (state(d[i], l, &on) != NVML_SUCCESS || on != NVML_FEATURE_ENABLED)
                continue;
            nlinks++;
            if (ver == 0)
                version(d[i], l, &ver);
            if (remote(d[i], l, &rp) != NVML_SUCCESS)
                continue;
            snprintf(remotes + strlen(remotes), sizeof(remotes) - strlen(remotes), "%s%s",
                     nlinks > 1 ? "," : "", rp.busId);
            if (rtype(d[i], l, &t) == NVML_SUCCESS && t == NVML_NVLINK_DEVICE_TYPE_SWITCH) {
                to_switch++;
            } else {
                for (unsigned j = 0; j < nd; j++)
                    to_gpu[j] += strcmp(rp.busId, bus[j]) == 0;
            }
        }
        char row[1024] = "", pcie[1024] = "";
        for (unsigned j = 0; j < nd; j++) {
            unsigned lvl = 0, st = 99;
            const char *cell;
            char nv[16];
            nvmlReturn_t ar = ancestor(d[i], d[j], &lvl);
            snprintf(pcie + strlen(pcie), sizeof(pcie) - strlen(pcie), "%s%s", j ? "," : "",
                     ar == NVML_SUCCESS ? level_name(lvl) : "ERR");
            if (i != j && p2p(d[i], d[j], NVML_P2P_CAPS_INDEX_NVLINK, &st) == NVML_SUCCESS &&
                st == NVML_P2P_STATUS_OK) {
                snprintf(nv, sizeof(nv), "NV%u", to_switch + to_gpu[j]);
                cell = nv;
            } else if (ar == NVML_SUCCESS) {
                cell = level_name(lvl);
            } else {
                cell = "ERR";
            }
            snprintf(row + strlen(row), sizeof(row) - strlen(row), "%s%s", j ? "," : "", cell);
        }
        unsigned long nodes = 0;
        int node = -1;
        if (memaff(d[i], 1, &nodes, NVML_AFFINITY_SCOPE_NODE) == NVML_SUCCESS && nodes)
            node = __builtin_ctzl(nodes);
        put_u("index", i, 1);
        put("topo", row, 0);
        put("pcie", pcie, 0);
        snprintf(b1, sizeof(b1), "%d", node);
        put("numa_node", b1, 0);
        put_u("nvlinks", nlinks, 0);
        put_u("nvlink_version", ver, 0);
        put("nvlink_remotes", remotes[0] ? remotes : "-", 0);
        putchar('\n');
    }
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "libnvidia-ml.so.1";
    g_lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!g_lib) {
        fprintf(stderr, "nvml_client: cannot load %s: %s\n", path, dlerror());
        return 2;
    }
    nvmlReturn_t (*init)(void) = sym("nvmlInit_v2", "nvmlInit");
    nvmlReturn_t (*shutdown)(void) = sym("nvmlShutdown", NULL);
    nvmlReturn_t (*driver)(char *, unsigned) = sym("nvmlSystemGetDriverVersion", NULL);
    nvmlReturn_t (*nvmlver)(char *, unsigned) = sym("nvmlSystemGetNVMLVersion", NULL);
    nvmlReturn_t (*cuda)(int *) = sym("nvmlSystemGetCudaDriverVersion_v2",
                                      "nvmlSystemGetCudaDriverVersion");
    nvmlReturn_t (*count)(unsigned *) = sym("nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
    nvmlReturn_t (*by_index)(unsigned, nvmlDevice_t *) =
        sym("nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex");
    nvmlReturn_t (*name)(nvmlDevice_t, char *, unsigned) = sym("nvmlDeviceGetName", NULL);
    nvmlReturn_t (*uuid)(nvmlDevice_t, char *, unsigned) = sym("nvmlDeviceGetUUID", NULL);
    nvmlReturn_t (*serial)(nvmlDevice_t, char *, unsigned) = sym("nvmlDeviceGetSerial", NULL);
    nvmlReturn_t (*pci)(nvmlDevice_t, nvmlPciInfo_t *) =
        sym("nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2");
    nvmlReturn_t (*mem2)(nvmlDevice_t, nvmlMemory_v2_t *) = dlsym(g_lib, "nvmlDeviceGetMemoryInfo_v2");
    nvmlReturn_t (*mem1)(nvmlDevice_t, nvmlMemory_t *) = sym("nvmlDeviceGetMemoryInfo", NULL);
    nvmlReturn_t (*cc)(nvmlDevice_t, int *, int *) = sym("nvmlDeviceGetCudaComputeCapability", NULL);
    nvmlReturn_t (*mig)(nvmlDevice_t, unsigned *, unsigned *) = sym("nvmlDeviceGetMigMode", NULL);
    nvmlReturn_t (*ecc)(nvmlDevice_t, unsigned *, unsigned *) = sym("nvmlDeviceGetEccMode", NULL);
    nvmlReturn_t (*plimit)(nvmlDevice_t, unsigned *) = sym("nvmlDeviceGetPowerManagementLimit", NULL);
    nvmlReturn_t (*pdefault)(nvmlDevice_t, unsigned *) =
        sym("nvmlDeviceGetPowerManagementDefaultLimit", NULL);
    nvmlReturn_t (*pconstraints)(nvmlDevice_t, unsigned *, unsigned *) =
        sym("nvmlDeviceGetPowerManagementLimitConstraints", NULL);
    nvmlReturn_t (*gen)(nvmlDevice_t, unsigned *) = sym("nvmlDeviceGetMaxPcieLinkGeneration", NULL);
    nvmlReturn_t (*width)(nvmlDevice_t, unsigned *) = sym("nvmlDeviceGetMaxPcieLinkWidth", NULL);
    nvmlReturn_t (*maxclock)(nvmlDevice_t, unsigned, unsigned *) =
        sym("nvmlDeviceGetMaxClockInfo", NULL);
    nvmlReturn_t (*fans)(nvmlDevice_t, unsigned *) = sym("nvmlDeviceGetNumFans", NULL);
    nvmlReturn_t (*arch)(nvmlDevice_t, unsigned *) = sym("nvmlDeviceGetArchitecture", NULL);
    nvmlReturn_t (*brand)(nvmlDevice_t, unsigned *) = sym("nvmlDeviceGetBrand", NULL);

    nvmlReturn_t r = init();
    if (r != NVML_SUCCESS) {
        fprintf(stderr, "nvml_client: nvmlInit failed: %u\n", r);
        return 1;
    }
    char b1[128], b2[128], b3[128], b4[128];
    char dv[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE], nv[NVML_SYSTEM_NVML_VERSION_BUFFER_SIZE];
    int cudav = 0;
    unsigned n = 0;
    put("driver_version", s(driver(dv, sizeof(dv)), dv, b1, sizeof(b1)), 1);
    put("nvml_version", s(nvmlver(nv, sizeof(nv)), nv, b1, sizeof(b1)), 0);
    r = cuda(&cudav);
    put("cuda_driver_version", u(r, (unsigned long long)cudav, b1, sizeof(b1)), 0);
    r = count(&n);
    put("count", u(r, n, b1, sizeof(b1)), 0);
    putchar('\n');
    const char *section = argc > 2 ? argv[2] : "inventory";
    if (strcmp(section, "mig") == 0 || strcmp(section, "topology") == 0) {
        if (strcmp(section, "mig") == 0)
            print_mig(n, by_index);
        else
            print_topology(n, by_index);
        shutdown();
        return 0;
    }
    if (strcmp(section, "inventory") != 0) {
        fprintf(stderr, "nvml_client: unknown section '%s' (inventory, mig, topology)\n", section);
        return 2;
    }

    for (unsigned i = 0; i < n; i++) {
        nvmlDevice_t d = NULL;
        nvmlReturn_t hr = by_index(i, &d);
        char txt[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
        unsigned a = 0, b = 0;
        int ma = 0, mi = 0;
#define CALL(expr) (hr != NVML_SUCCESS ? hr : (expr))
        put_u("index", i, 1);
        r = CALL(name(d, txt, sizeof(txt)));
        put("name", s(r, txt, b1, sizeof(b1)), 0);
        r = CALL(uuid(d, txt, sizeof(txt)));
        put("uuid", s(r, txt, b1, sizeof(b1)), 0);
        r = CALL(serial(d, txt, sizeof(txt)));
        put("serial", s(r, txt, b1, sizeof(b1)), 0);
        nvmlPciInfo_t p;
        r = CALL(pci(d, &p));
        snprintf(b3, sizeof(b3), "0x%08X", r == NVML_SUCCESS ? p.pciDeviceId : 0);
        put("pci_bus_id", s(r, p.busId, b1, sizeof(b1)), 0);
        put("pci_device_id", s(r, b3, b1, sizeof(b1)), 0);
        unsigned long long total = 0;
        if (mem2) {
            nvmlMemory_v2_t m2;
            memset(&m2, 0, sizeof(m2));
            m2.version = nvmlMemory_v2;
            r = CALL(mem2(d, &m2));
            total = m2.total;
        } else {
            nvmlMemory_t m1;
            r = CALL(mem1(d, &m1));
            total = m1.total;
        }
        put("memory_total_bytes", u(r, total, b1, sizeof(b1)), 0);
        r = CALL(cc(d, &ma, &mi));
        snprintf(b3, sizeof(b3), "%d.%d", ma, mi);
        put("cc", s(r, b3, b1, sizeof(b1)), 0);
        r = CALL(mig(d, &a, &b));
        put("mig_current", u(r, a, b1, sizeof(b1)), 0);
        r = CALL(ecc(d, &a, &b));
        put("ecc_current", u(r, a, b1, sizeof(b1)), 0);
        r = CALL(plimit(d, &a));
        put("power_limit_mw", u(r, a, b1, sizeof(b1)), 0);
        r = CALL(pdefault(d, &a));
        put("power_default_limit_mw", u(r, a, b1, sizeof(b1)), 0);
        r = CALL(pconstraints(d, &a, &b));
        put("power_min_limit_mw", u(r, a, b1, sizeof(b1)), 0);
        put("power_max_limit_mw", u(r, b, b2, sizeof(b2)), 0);
        r = CALL(gen(d, &a));
        put("pcie_max_gen", u(r, a, b1, sizeof(b1)), 0);
        r = CALL(width(d, &a));
        put("pcie_max_width", u(r, a, b1, sizeof(b1)), 0);
        r = CALL(maxclock(d, NVML_CLOCK_SM, &a));
        put("max_sm_clock_mhz", u(r, a, b1, sizeof(b1)), 0);
        r = CALL(maxclock(d, NVML_CLOCK_MEM, &a));
        put("max_mem_clock_mhz", u(r, a, b1, sizeof(b1)), 0);
        r = CALL(fans(d, &a));
        put("fan_count", u(r, a, b1, sizeof(b1)), 0);
        r = CALL(arch(d, &a));
        put("arch", u(r, a, b1, sizeof(b1)), 0);
        r = CALL(brand(d, &a));
        put("brand", u(r, a, b4, sizeof(b4)), 0);
        putchar('\n');
#undef CALL
    }
    shutdown();
    return 0;
}
