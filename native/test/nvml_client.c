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
 * Usage: nvml_client [path/to/libnvidia-ml.so.1]   (default: the dynamic loader's search)
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

    for (unsigned i = 0; i < n; i++) {
        nvmlDevice_t d = NULL;
        nvmlReturn_t hr = by_index(i, &d);
        char txt[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
        unsigned a = 0, b = 0;
        int ma = 0, mi = 0;
#define CALL(expr) (hr != NVML_SUCCESS ? hr : (expr))
        put("index", u(NVML_SUCCESS, i, b1, sizeof(b1)), 1);
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
