/*
 * nvml_health.c: ECC, retired pages, remapped rows, field values and the process lists.
 */
#include <string.h>
#include <time.h>

#include "sim.h"


/* ---- ECC and memory health -------------------------------------------------------------- */

SIM_EXPORT nvmlReturn_t nvmlDeviceGetEccMode(nvmlDevice_t device, nvmlEnableState_t *current,
                                             nvmlEnableState_t *pending)
{
    ENTER(device);
    GEFORCE_UNSUPPORTED();
    REQUIRE(current && pending);
    *current = *pending = NVML_FEATURE_ENABLED;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device,
                                                    nvmlMemoryErrorType_t errorType,
                                                    nvmlEccCounterType_t counterType,
                                                    unsigned long long *eccCounts)
{
    ENTER(device);
    GEFORCE_UNSUPPORTED();
    REQUIRE(eccCounts);
    if (errorType > NVML_MEMORY_ERROR_TYPE_UNCORRECTED || counterType > NVML_AGGREGATE_ECC)
        LEAVE(NVML_ERROR_INVALID_ARGUMENT);
    int vol = counterType == NVML_VOLATILE_ECC;
    if (errorType == NVML_MEMORY_ERROR_TYPE_CORRECTED)
        *eccCounts = vol ? d->ecc_sbe_vol : d->ecc_sbe_agg;
    else
        *eccCounts = vol ? d->ecc_dbe_vol : d->ecc_dbe_agg;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetRetiredPages(nvmlDevice_t device,
                                                  nvmlPageRetirementCause_t cause,
                                                  unsigned int *pageCount,
                                                  unsigned long long *addresses)
{
    (void)cause;
    (void)pageCount;
    (void)addresses;
    ENTER(device);
    /* GeForce has no ECC; Ampere and Hopper data-center boards remap rows instead. */
    LEAVE(NVML_ERROR_NOT_SUPPORTED);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetRetiredPagesPendingStatus(nvmlDevice_t device,
                                                               nvmlEnableState_t *isPending)
{
    (void)isPending;
    ENTER(device);
    LEAVE(NVML_ERROR_NOT_SUPPORTED);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t device, unsigned int *corrRows,
                                                  unsigned int *uncRows, unsigned int *isPending,
                                                  unsigned int *failureOccurred)
{
    ENTER(device);
    GEFORCE_UNSUPPORTED();
    REQUIRE(corrRows && uncRows && isPending && failureOccurred);
    *corrRows = 0;
    *uncRows = d->remapped_unc;
    *isPending = d->remap_pending;
    *failureOccurred = 0;
    LEAVE(NVML_SUCCESS);
}

/* ---- field values ----------------------------------------------------------------------- */

static void field_uint(nvmlFieldValue_t *v, unsigned x)
{
    v->valueType = NVML_VALUE_TYPE_UNSIGNED_INT;
    v->value.uiVal = x;
}

static void field_ull(nvmlFieldValue_t *v, unsigned long long x)
{
    v->valueType = NVML_VALUE_TYPE_UNSIGNED_LONG_LONG;
    v->value.ullVal = x;
}

static void field_value(sim_dev *d, const sim_sample *s, nvmlFieldValue_t *v)
{
    int geforce = d->spec.profile->geforce;
    v->nvmlReturn = NVML_SUCCESS;
    switch (v->fieldId) {
    case NVML_FI_DEV_TOTAL_ENERGY_CONSUMPTION:
        field_ull(v, (unsigned long long)d->energy_mj);
        return;
    case NVML_FI_DEV_PCIE_REPLAY_COUNTER:
        field_uint(v, 0);
        return;
    default:
        break;
    }
    if (geforce) {
        v->nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        return;
    }
    switch (v->fieldId) {
    case NVML_FI_DEV_MEMORY_TEMP: field_uint(v, s->mem_temp_c); break;
    case NVML_FI_DEV_ECC_CURRENT:
    case NVML_FI_DEV_ECC_PENDING: field_uint(v, NVML_FEATURE_ENABLED); break;
    case NVML_FI_DEV_ECC_SBE_VOL_TOTAL: field_ull(v, d->ecc_sbe_vol); break;
    case NVML_FI_DEV_ECC_DBE_VOL_TOTAL: field_ull(v, d->ecc_dbe_vol); break;
    case NVML_FI_DEV_ECC_SBE_AGG_TOTAL: field_ull(v, d->ecc_sbe_agg); break;
    case NVML_FI_DEV_ECC_DBE_AGG_TOTAL: field_ull(v, d->ecc_dbe_agg); break;
    case NVML_FI_DEV_REMAPPED_COR: field_uint(v, 0); break;
    case NVML_FI_DEV_REMAPPED_UNC: field_uint(v, d->remapped_unc); break;
    case NVML_FI_DEV_REMAPPED_PENDING: field_uint(v, d->remap_pending); break;
    case NVML_FI_DEV_REMAPPED_FAILURE: field_uint(v, 0); break;
    default: v->nvmlReturn = NVML_ERROR_NOT_SUPPORTED; break;
    }
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int valuesCount,
                                                 nvmlFieldValue_t *values)
{
    ENTER(device);
    REQUIRE(values && valuesCount > 0);
    double t = sim_seconds_since_init();
    sim_sample s;
    sim_sample_at(d, t, &s);
    sim_energy_advance(d, t);
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    long long us = (long long)wall.tv_sec * 1000000LL + wall.tv_nsec / 1000;
    for (int i = 0; i < valuesCount; i++) {
        nvmlFieldValue_t *v = &values[i];
        v->timestamp = us;
        v->latencyUsec = 0;
        memset(&v->value, 0, sizeof(v->value));
        v->valueType = NVML_VALUE_TYPE_UNSIGNED_INT;
        field_value(d, &s, v);
    }
    LEAVE(NVML_SUCCESS);
}

/* ---- running processes ------------------------------------------------------------------ */

enum proc_layout { LAYOUT_V1, LAYOUT_V2, LAYOUT_V3 };

static nvmlReturn_t list_processes(nvmlDevice_t device, unsigned int *infoCount, void *infos,
                                   enum proc_layout layout, int graphics)
{
    ENTER(device);
    REQUIRE(infoCount);
    unsigned n = graphics ? 0 : (unsigned)d->nprocs;
    if (!graphics && d->insufficient_left > 0) {
        /* Injected race: a process appeared between the caller's count and fill calls. */
        d->insufficient_left--;
        *infoCount = n + 1;
        LEAVE(NVML_ERROR_INSUFFICIENT_SIZE);
    }
    if (*infoCount < n) {
        *infoCount = n;
        LEAVE(NVML_ERROR_INSUFFICIENT_SIZE);
    }
    if (n > 0 && !infos)
        LEAVE(NVML_ERROR_INVALID_ARGUMENT);
    int wide = layout == LAYOUT_V3 && atomic_load(&g_stride32);
    for (unsigned i = 0; i < n; i++) {
        const sim_proc *p = &d->procs[i];
        if (layout == LAYOUT_V1) {
            nvmlProcessInfo_v1_t e = {.pid = p->pid, .usedGpuMemory = p->bytes};
            memcpy((char *)infos + i * sizeof(e), &e, sizeof(e));
        } else if (wide) {
            nvmlProcessInfoR535_t e = {.pid = p->pid, .usedGpuMemory = p->bytes,
                                       .gpuInstanceId = 0xffffffffU,
                                       .computeInstanceId = 0xffffffffU,
                                       .usedGpuCcProtectedMemory = 0};
            memcpy((char *)infos + i * sizeof(e), &e, sizeof(e));
        } else {
            nvmlProcessInfo_v2_t e = {.pid = p->pid, .usedGpuMemory = p->bytes,
                                      .gpuInstanceId = 0xffffffffU,
                                      .computeInstanceId = 0xffffffffU};
            memcpy((char *)infos + i * sizeof(e), &e, sizeof(e));
        }
    }
    *infoCount = n;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device,
                                                                unsigned int *infoCount,
                                                                nvmlProcessInfo_t *infos)
{
    return list_processes(device, infoCount, infos, LAYOUT_V3, 0);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device,
                                                                unsigned int *infoCount,
                                                                nvmlProcessInfo_v2_t *infos)
{
    return list_processes(device, infoCount, infos, LAYOUT_V2, 0);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device,
                                                             unsigned int *infoCount,
                                                             nvmlProcessInfo_v1_t *infos)
{
    return list_processes(device, infoCount, infos, LAYOUT_V1, 0);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t device,
                                                                 unsigned int *infoCount,
                                                                 nvmlProcessInfo_t *infos)
{
    return list_processes(device, infoCount, infos, LAYOUT_V3, 1);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v2(nvmlDevice_t device,
                                                                 unsigned int *infoCount,
                                                                 nvmlProcessInfo_v2_t *infos)
{
    return list_processes(device, infoCount, infos, LAYOUT_V2, 1);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses(nvmlDevice_t device,
                                                              unsigned int *infoCount,
                                                              nvmlProcessInfo_v1_t *infos)
{
    return list_processes(device, infoCount, infos, LAYOUT_V1, 1);
}
