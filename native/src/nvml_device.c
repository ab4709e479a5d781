/*
 * nvml_device.c: handle lookup and the per-GPU getters.
 *
 * Every call on a handle goes through sim_dev_enter: not initialized -> UNINITIALIZED,
 * not one of our handles -> INVALID_ARGUMENT, then the control file is polled, then a
 * simulated hang is served (sleeping with no lock held), then a lost GPU answers
 * GPU_IS_LOST. Only after that is the device mutex taken for the actual read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sim.h"

static sim_dev *lookup(nvmlDevice_t h)
{
    uintptr_t p = (uintptr_t)h, base = (uintptr_t)g_devs;
    if (p < base || (p - base) % sizeof(sim_dev) != 0)
        return NULL;
    size_t i = (p - base) / sizeof(sim_dev);
    return i < (size_t)g_ndev ? &g_devs[i] : NULL;
}

static void serve_hang(sim_dev *d)
{
    for (;;) {
        int64_t until = atomic_load(&d->hang_until_ns);
        if (until == SIM_HANG_NONE)
            return;
        int64_t now = sim_now_ns();
        if (until != SIM_HANG_FOREVER && now >= until) {
            atomic_compare_exchange_strong(&d->hang_until_ns, &until, SIM_HANG_NONE);
            return;
        }
        int64_t nap = 5000000LL;
        if (until != SIM_HANG_FOREVER && until - now < nap)
            nap = until - now;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = nap};
        nanosleep(&ts, NULL);
        sim_control_poll(0); /* "unhang" must reach us while we block */
    }
}

nvmlReturn_t sim_dev_enter_any(nvmlDevice_t h, sim_dev **out, const sim_mig_dev **mig)
{
    if (atomic_load(&g_refcount) == 0)
        return NVML_ERROR_UNINITIALIZED;
    sim_dev *d = lookup(h);
    const sim_mig_dev *m = d ? NULL : sim_mig_lookup(h);
    if (m)
        d = &g_devs[m->gpu];
    if (!d)
        return NVML_ERROR_INVALID_ARGUMENT;
    sim_control_poll(0);
    serve_hang(d); /* a hung GPU hangs its MIG devices too */
    if (atomic_load(&d->lost))
        return NVML_ERROR_GPU_IS_LOST;
    pthread_mutex_lock(&d->mu);
    if (m && !g_cis[m->gpu][m->gi][m->ci].live) {
        pthread_mutex_unlock(&d->mu);
        return NVML_ERROR_INVALID_ARGUMENT; /* its compute instance was destroyed */
    }
    *out = d;
    *mig = m;
    return NVML_SUCCESS;
}

nvmlReturn_t sim_dev_enter(nvmlDevice_t h, sim_dev **out)
{
    const sim_mig_dev *m;
    nvmlReturn_t r = sim_dev_enter_any(h, out, &m);
    if (r == NVML_SUCCESS && m) {
        /* A MIG device answers only the calls written for it (mig.c, name, UUID, memory). */
        pthread_mutex_unlock(&(*out)->mu);
        return NVML_ERROR_NOT_SUPPORTED;
    }
    return r;
}

void sim_dev_leave(sim_dev *d)
{
    pthread_mutex_unlock(&d->mu);
}


static void sample_now(const sim_dev *d, sim_sample *s)
{
    sim_sample_at(d, sim_seconds_since_init(), s);
}

/* ---- handles ---------------------------------------------------------------------------- */

static nvmlReturn_t handle_of(int i, nvmlDevice_t *device)
{
    if (atomic_load(&g_devs[i].lost))
        return NVML_ERROR_GPU_IS_LOST; /* as the driver: "Unable to determine the device handle" */
    *device = &g_devs[i];
    return NVML_SUCCESS;
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount)
{
    if (atomic_load(&g_refcount) == 0)
        return NVML_ERROR_UNINITIALIZED;
    if (!deviceCount)
        return NVML_ERROR_INVALID_ARGUMENT;
    sim_control_poll(0);
    *deviceCount = (unsigned)g_ndev;
    return NVML_SUCCESS;
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetCount(unsigned int *deviceCount)
{
    return nvmlDeviceGetCount_v2(deviceCount);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
    if (atomic_load(&g_refcount) == 0)
        return NVML_ERROR_UNINITIALIZED;
    if (!device || index >= (unsigned)g_ndev)
        return NVML_ERROR_INVALID_ARGUMENT;
    sim_control_poll(0);
    return handle_of((int)index, device);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t *device)
{
    return nvmlDeviceGetHandleByIndex_v2(index, device);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetHandleByUUID(const char *uuid, nvmlDevice_t *device)
{
    if (atomic_load(&g_refcount) == 0)
        return NVML_ERROR_UNINITIALIZED;
    if (!uuid || !device)
        return NVML_ERROR_INVALID_ARGUMENT;
    sim_control_poll(0);
    for (int i = 0; i < g_ndev; i++) {
        if (strcasecmp(g_devs[i].spec.uuid, uuid) == 0)
            return handle_of(i, device);
    }
    return NVML_ERROR_NOT_FOUND;
}

/* Accepts "domain:bus:device.function" (4 or 8 hex digit domain) and "bus:device.function". */
static int parse_bus_id(const char *s, unsigned *domain, unsigned *bus, unsigned *dev)
{
    unsigned a, b, c, fn;
    char tail;
    if (sscanf(s, "%x:%x:%x.%x%c", &a, &b, &c, &fn, &tail) == 4) {
        *domain = a, *bus = b, *dev = c;
        return 0;
    }
    if (sscanf(s, "%x:%x.%x%c", &b, &c, &fn, &tail) == 3) {
        *domain = 0, *bus = b, *dev = c;
        return 0;
    }
    return -1;
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetHandleByPciBusId_v2(const char *pciBusId, nvmlDevice_t *device)
{
    if (atomic_load(&g_refcount) == 0)
        return NVML_ERROR_UNINITIALIZED;
    unsigned domain, bus, dev;
    if (!pciBusId || !device || parse_bus_id(pciBusId, &domain, &bus, &dev) != 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    sim_control_poll(0);
    for (int i = 0; i < g_ndev; i++) {
        if (domain == 0 && dev == 0 && g_devs[i].spec.pci_bus == bus)
            return handle_of(i, device);
    }
    return NVML_ERROR_NOT_FOUND;
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetHandleByPciBusId(const char *pciBusId, nvmlDevice_t *device)
{
    return nvmlDeviceGetHandleByPciBusId_v2(pciBusId, device);
}

/* ---- identity --------------------------------------------------------------------------- */

static nvmlReturn_t put_string(const char *s, char *buf, unsigned int length)
{
    if (!buf)
        return NVML_ERROR_INVALID_ARGUMENT;
    size_t n = strlen(s) + 1;
    if (n > length)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(buf, s, n);
    return NVML_SUCCESS;
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t device, unsigned int *index)
{
    ENTER(device);
    REQUIRE(index);
    *index = d->index;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetMinorNumber(nvmlDevice_t device, unsigned int *minorNumber)
{
    ENTER(device);
    REQUIRE(minorNumber);
    *minorNumber = d->index; /* /dev/nvidia<minor> */
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length)
{
    ENTER_ANY(device);
    char mig[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
    if (m)
        sim_mig_name(d, m, mig, sizeof(mig)); /* "NVIDIA H100 80GB HBM3 MIG 1g.10gb" */
    LEAVE(put_string(m ? mig : d->spec.profile->name, name, length));
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length)
{
    ENTER_ANY(device);
    char mig[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
    if (m)
        sim_mig_uuid(d, m, mig, sizeof(mig));
    LEAVE(put_string(m ? mig : d->spec.uuid, uuid, length));
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetSerial(nvmlDevice_t device, char *serial, unsigned int length)
{
    ENTER(device);
    GEFORCE_UNSUPPORTED();
    LEAVE(put_string(d->spec.serial, serial, length));
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetVbiosVersion(nvmlDevice_t device, char *version,
                                                  unsigned int length)
{
    ENTER(device);
    LEAVE(put_string(d->spec.profile->vbios, version, length));
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetBrand(nvmlDevice_t device, nvmlBrandType_t *type)
{
    ENTER(device);
    REQUIRE(type);
    *type = d->spec.profile->brand;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetArchitecture(nvmlDevice_t device, nvmlDeviceArchitecture_t *arch)
{
    ENTER(device);
    REQUIRE(arch);
    *arch = d->spec.profile->arch;
    LEAVE(NVML_SUCCESS);
}

static void fill_pci(const sim_dev *d, nvmlPciInfo_t *pci)
{
    memset(pci, 0, sizeof(*pci));
    pci->domain = 0;
    pci->bus = d->spec.pci_bus;
    pci->device = 0;
    pci->pciDeviceId = d->spec.profile->pci_device_id;
    pci->pciSubSystemId = d->spec.profile->pci_subsys_id;
    snprintf(pci->busIdLegacy, sizeof(pci->busIdLegacy), "%04X:%02X:%02X.0", 0, pci->bus, 0);
    snprintf(pci->busId, sizeof(pci->busId), "%08X:%02X:%02X.0", 0, pci->bus, 0);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci)
{
    ENTER(device);
    REQUIRE(pci);
    fill_pci(d, pci);
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v2(nvmlDevice_t device, nvmlPciInfo_t *pci)
{
    return nvmlDeviceGetPciInfo_v3(device, pci);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo(nvmlDevice_t device, nvmlPciInfoV1_t *pci)
{
    ENTER(device);
    REQUIRE(pci);
    nvmlPciInfo_t full;
    fill_pci(d, &full);
    memset(pci, 0, sizeof(*pci)); /* the 52-byte pre-v2 layout */
    memcpy(pci->busId, full.busIdLegacy, sizeof(pci->busId));
    pci->domain = full.domain;
    pci->bus = full.bus;
    pci->device = full.device;
    pci->pciDeviceId = full.pciDeviceId;
    pci->pciSubSystemId = full.pciSubSystemId;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t device, int *major, int *minor)
{
    ENTER(device);
    REQUIRE(major && minor);
    *major = d->spec.profile->cc_major;
    *minor = d->spec.profile->cc_minor;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetPersistenceMode(nvmlDevice_t device, nvmlEnableState_t *mode)
{
    ENTER(device);
    REQUIRE(mode);
    /* nvidia-persistenced runs on servers; desktops leave it off */
    *mode = d->spec.profile->geforce ? NVML_FEATURE_DISABLED : NVML_FEATURE_ENABLED;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetComputeMode(nvmlDevice_t device, nvmlComputeMode_t *mode)
{
    ENTER(device);
    REQUIRE(mode);
    *mode = NVML_COMPUTEMODE_DEFAULT;
    LEAVE(NVML_SUCCESS);
}

/* ---- memory ----------------------------------------------------------------------------- */

SIM_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory)
{
    ENTER_ANY(device);
    REQUIRE(memory);
    if (memory->version != nvmlMemory_v2)
        LEAVE(NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    if (m) {
        /* a MIG device: its GPU instance's memory, nothing reserved, no process of its own */
        memory->total = memory->free = sim_mig_mem_bytes(m);
        memory->reserved = memory->used = 0;
        LEAVE(NVML_SUCCESS);
    }
    sim_sample s;
    sample_now(d, &s);
    memory->total = s.mem_total;
    memory->reserved = s.mem_reserved;
    memory->used = s.mem_used;
    memory->free = s.mem_free;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory)
{
    ENTER_ANY(device);
    REQUIRE(memory);
    if (m) {
        memory->total = memory->free = sim_mig_mem_bytes(m);
        memory->used = 0;
        LEAVE(NVML_SUCCESS);
    }
    sim_sample s;
    sample_now(d, &s);
    /* v1 semantics: "used" includes the memory the driver reserves */
    memory->total = s.mem_total;
    memory->used = s.mem_used + s.mem_reserved;
    memory->free = s.mem_free;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetBAR1MemoryInfo(nvmlDevice_t device, nvmlBAR1Memory_t *bar1)
{
    ENTER(device);
    REQUIRE(bar1);
    const unsigned long long mib = 1024ULL * 1024ULL;
    bar1->bar1Total = (d->spec.profile->geforce ? 256ULL : 131072ULL) * mib;
    bar1->bar1Used = 2 * mib;
    bar1->bar1Free = bar1->bar1Total - bar1->bar1Used;
    LEAVE(NVML_SUCCESS);
}

/* ---- power ------------------------------------------------------------------------------ */

SIM_EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementMode(nvmlDevice_t device, nvmlEnableState_t *mode)
{
    ENTER(device);
    REQUIRE(mode);
    *mode = NVML_FEATURE_ENABLED;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device, unsigned int *limit)
{
    ENTER(device);
    REQUIRE(limit);
    *limit = d->spec.profile->power_default_mw;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t device,
                                                                 unsigned int *defaultLimit)
{
    ENTER(device);
    REQUIRE(defaultLimit);
    *defaultLimit = d->spec.profile->power_default_mw;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t device,
                                                                     unsigned int *minLimit,
                                                                     unsigned int *maxLimit)
{
    ENTER(device);
    REQUIRE(minLimit && maxLimit);
    *minLimit = d->spec.profile->power_min_mw;
    *maxLimit = d->spec.profile->power_max_mw;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int *limit)
{
    ENTER(device);
    REQUIRE(limit);
    *limit = d->spec.profile->power_default_mw;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power)
{
    ENTER(device);
    REQUIRE(power);
    sim_sample s;
    sample_now(d, &s);
    *power = s.power_mw;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device,
                                                            unsigned long long *energy)
{
    ENTER(device);
    REQUIRE(energy);
    sim_energy_advance(d, sim_seconds_since_init());
    *energy = (unsigned long long)d->energy_mj;
    LEAVE(NVML_SUCCESS);
}

/* ---- PCIe ------------------------------------------------------------------------------- */

SIM_EXPORT nvmlReturn_t nvmlDeviceGetMaxPcieLinkGeneration(nvmlDevice_t device, unsigned int *maxLinkGen)
{
    ENTER(device);
    REQUIRE(maxLinkGen);
    *maxLinkGen = d->spec.profile->pcie_gen;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetCurrPcieLinkGeneration(nvmlDevice_t device,
                                                            unsigned int *currLinkGen)
{
    ENTER(device);
    REQUIRE(currLinkGen);
    sim_sample s;
    sample_now(d, &s);
    *currLinkGen = s.pcie_gen;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetMaxPcieLinkWidth(nvmlDevice_t device, unsigned int *maxLinkWidth)
{
    ENTER(device);
    REQUIRE(maxLinkWidth);
    *maxLinkWidth = d->spec.profile->pcie_width;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetCurrPcieLinkWidth(nvmlDevice_t device,
                                                       unsigned int *currLinkWidth)
{
    ENTER(device);
    REQUIRE(currLinkWidth);
    *currLinkWidth = d->spec.profile->pcie_width;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetPcieThroughput(nvmlDevice_t device,
                                                    nvmlPcieUtilCounter_t counter,
                                                    unsigned int *value)
{
    ENTER(device);
    REQUIRE(value);
    if (counter != NVML_PCIE_UTIL_TX_BYTES && counter != NVML_PCIE_UTIL_RX_BYTES)
        LEAVE(NVML_ERROR_INVALID_ARGUMENT);
    sim_sample s;
    sample_now(d, &s);
    *value = counter == NVML_PCIE_UTIL_TX_BYTES ? s.pcie_tx_kbs : s.pcie_rx_kbs;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetPcieReplayCounter(nvmlDevice_t device, unsigned int *value)
{
    ENTER(device);
    REQUIRE(value);
    *value = 0;
    LEAVE(NVML_SUCCESS);
}

/* ---- utilization, thermals, clocks ------------------------------------------------------ */

SIM_EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device,
                                                      nvmlUtilization_t *utilization)
{
    ENTER(device);
    REQUIRE(utilization);
    sim_sample s;
    sample_now(d, &s);
    utilization->gpu = s.util_gpu;
    utilization->memory = s.util_mem;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device,
                                                 nvmlTemperatureSensors_t sensorType,
                                                 unsigned int *temp)
{
    ENTER(device);
    REQUIRE(temp);
    if (sensorType != NVML_TEMPERATURE_GPU)
        LEAVE(NVML_ERROR_INVALID_ARGUMENT);
    sim_sample s;
    sample_now(d, &s);
    *temp = s.temp_c;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetTemperatureThreshold(nvmlDevice_t device,
                                                          nvmlTemperatureThresholds_t thresholdType,
                                                          unsigned int *temp)
{
    ENTER(device);
    REQUIRE(temp);
    const sim_profile *p = d->spec.profile;
    switch (thresholdType) {
    case NVML_TEMPERATURE_THRESHOLD_SHUTDOWN: *temp = p->shutdown_temp_c; break;
    case NVML_TEMPERATURE_THRESHOLD_SLOWDOWN: *temp = p->slowdown_temp_c; break;
    case NVML_TEMPERATURE_THRESHOLD_GPU_MAX: *temp = p->gpu_max_temp_c; break;
    case NVML_TEMPERATURE_THRESHOLD_MEM_MAX:
        GEFORCE_UNSUPPORTED();
        *temp = p->mem_max_temp_c;
        break;
    default:
        LEAVE(thresholdType < 7 ? NVML_ERROR_NOT_SUPPORTED : NVML_ERROR_INVALID_ARGUMENT);
    }
    LEAVE(NVML_SUCCESS);
}

static int clock_pick(const sim_profile *p, const sim_sample *s, nvmlClockType_t type, int max,
                      unsigned *out)
{
    switch (type) {
    case NVML_CLOCK_GRAPHICS:
    case NVML_CLOCK_SM: *out = max ? p->sm_max_mhz : s->sm_mhz; return 0;
    case NVML_CLOCK_MEM: *out = max ? p->mem_max_mhz : s->mem_mhz; return 0;
    case NVML_CLOCK_VIDEO: *out = max ? p->video_max_mhz : s->video_mhz; return 0;
    default: return -1;
    }
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, nvmlClockType_t type,
                                               unsigned int *clock)
{
    ENTER(device);
    REQUIRE(clock);
    sim_sample s;
    sample_now(d, &s);
    LEAVE(clock_pick(d->spec.profile, &s, type, 0, clock) == 0 ? NVML_SUCCESS
                                                                : NVML_ERROR_INVALID_ARGUMENT);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t device, nvmlClockType_t type,
                                                  unsigned int *clock)
{
    ENTER(device);
    REQUIRE(clock);
    LEAVE(clock_pick(d->spec.profile, NULL, type, 1, clock) == 0 ? NVML_SUCCESS
                                                                  : NVML_ERROR_INVALID_ARGUMENT);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetNumFans(nvmlDevice_t device, unsigned int *numFans)
{
    ENTER(device);
    REQUIRE(numFans);
    *numFans = d->spec.profile->fans;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetFanSpeed_v2(nvmlDevice_t device, unsigned int fan,
                                                 unsigned int *speed)
{
    ENTER(device);
    if (d->spec.profile->fans == 0)
        LEAVE(NVML_ERROR_NOT_SUPPORTED); /* passively cooled SXM module */
    REQUIRE(speed);
    if (fan >= d->spec.profile->fans)
        LEAVE(NVML_ERROR_INVALID_ARGUMENT);
    sim_sample s;
    sample_now(d, &s);
    *speed = s.fan_pct;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetFanSpeed(nvmlDevice_t device, unsigned int *speed)
{
    return nvmlDeviceGetFanSpeed_v2(device, 0, speed);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device,
                                                               unsigned long long *reasons)
{
    ENTER(device);
    REQUIRE(reasons);
    sim_sample s;
    sample_now(d, &s);
    *reasons = s.clock_reasons;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device,
                                                                  unsigned long long *reasons)
{
    return nvmlDeviceGetCurrentClocksEventReasons(device, reasons);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetSupportedClocksEventReasons(nvmlDevice_t device,
                                                                 unsigned long long *reasons)
{
    ENTER(device);
    REQUIRE(reasons);
    *reasons = nvmlClocksEventReasonGpuIdle | nvmlClocksEventReasonApplicationsClocksSetting |
               nvmlClocksEventReasonSwPowerCap | nvmlClocksThrottleReasonHwSlowdown |
               nvmlClocksEventReasonSwThermalSlowdown | nvmlClocksThrottleReasonHwThermalSlowdown |
               nvmlClocksThrottleReasonHwPowerBrakeSlowdown |
               (d->spec.profile->geforce ? nvmlClocksEventReasonDisplayClockSetting
                                         : nvmlClocksEventReasonSyncBoost);
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetSupportedClocksThrottleReasons(nvmlDevice_t device,
                                                                    unsigned long long *reasons)
{
    return nvmlDeviceGetSupportedClocksEventReasons(device, reasons);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetPerformanceState(nvmlDevice_t device, nvmlPstates_t *pState)
{
    ENTER(device);
    REQUIRE(pState);
    sim_sample s;
    sample_now(d, &s);
    *pState = s.pstate;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetPowerState(nvmlDevice_t device, nvmlPstates_t *pState)
{
    return nvmlDeviceGetPerformanceState(device, pState);
}

/* ---- getters a client may probe that the simulation does not model ---------------------- */

#define NOT_SUPPORTED_GETTER(name, ...)                       \
    SIM_EXPORT nvmlReturn_t name(nvmlDevice_t device, __VA_ARGS__) \
    {                                                         \
        ENTER(device);                                        \
        LEAVE(NVML_ERROR_NOT_SUPPORTED);                      \
    }

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
NOT_SUPPORTED_GETTER(nvmlDeviceGetBoardPartNumber, char *partNumber, unsigned int length)
NOT_SUPPORTED_GETTER(nvmlDeviceGetInforomImageVersion, char *version, unsigned int length)
NOT_SUPPORTED_GETTER(nvmlDeviceGetGspFirmwareVersion, char *version)
NOT_SUPPORTED_GETTER(nvmlDeviceGetEncoderUtilization, unsigned int *utilization,
                     unsigned int *samplingPeriodUs)
NOT_SUPPORTED_GETTER(nvmlDeviceGetDecoderUtilization, unsigned int *utilization,
                     unsigned int *samplingPeriodUs)
NOT_SUPPORTED_GETTER(nvmlDeviceGetAccountingMode, nvmlEnableState_t *mode)
NOT_SUPPORTED_GETTER(nvmlDeviceGetMemoryErrorCounter, nvmlMemoryErrorType_t errorType,
                     nvmlEccCounterType_t counterType, unsigned int locationType,
                     unsigned long long *count)
NOT_SUPPORTED_GETTER(nvmlDeviceGetDisplayActive, nvmlEnableState_t *isActive)
NOT_SUPPORTED_GETTER(nvmlDeviceGetDisplayMode, nvmlEnableState_t *display)
#pragma GCC diagnostic pop
