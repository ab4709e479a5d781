/*
 * nvml_init.c: library lifecycle (nvmlInit*, nvmlShutdown), system queries, error strings.
 *
 * Init is reference-counted like NVIDIA's: each successful nvmlInit* must be paired with
 * nvmlShutdown. The machine file is read on each 0 -> 1 transition, which also resets every
 * GPU's run-time state (faults, processes, energy) and restarts the telemetry clock. Device
 * handles point into a static table, so a handle kept across shutdown never dangles.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

sim_dev g_devs[SIM_MAX_GPUS];
int g_ndev;
atomic_int g_refcount;
atomic_int g_stride32;
sim_machine g_machine;
int64_t g_epoch_ns;

static pthread_mutex_t g_init_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

int64_t sim_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

double sim_seconds_since_init(void)
{
    return (double)(sim_now_ns() - g_epoch_ns) / 1e9;
}

unsigned long long sim_mix64(unsigned long long x)
{
    /* splitmix64 finalizer: a cheap, well-spread deterministic hash */
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static void init_mutexes(void)
{
    for (int i = 0; i < SIM_MAX_GPUS; i++)
        pthread_mutex_init(&g_devs[i].mu, NULL);
}

/* Rebuilds the device table from the machine file; caller holds g_init_mu and g_ctl_mu. */
static void install_machine(const sim_machine *m)
{
    g_machine = *m;
    g_epoch_ns = sim_now_ns();
    atomic_store(&g_stride32, 0);
    for (int i = 0; i < m->ngpus; i++) {
        sim_dev *d = &g_devs[i];
        pthread_mutex_lock(&d->mu);
        d->index = (unsigned)i;
        d->spec = m->gpus[i];
        unsigned long long h = sim_mix64(m->seed ^ (0xA5A5ULL + (unsigned long long)i * 7919));
        d->phase = (double)(h % 6283) / 1000.0;
        d->idle_temp_c = d->spec.profile->idle_temp_c + (unsigned)((h >> 20) % 5);
        atomic_store(&d->lost, 0);
        atomic_store(&d->hang_until_ns, SIM_HANG_NONE);
        d->load = d->spec.load;
        d->insufficient_left = 0;
        d->nprocs = 0;
        d->ecc_sbe_vol = d->ecc_sbe_agg = d->ecc_dbe_vol = d->ecc_dbe_agg = 0;
        d->remapped_unc = d->remap_pending = 0;
        d->energy_mj = 0.0;
        d->energy_t = 0.0;
        sim_mig_install(d);
        pthread_mutex_unlock(&d->mu);
    }
    g_ndev = m->ngpus;
}

static nvmlReturn_t do_init(void)
{
    pthread_once(&g_once, init_mutexes);
    pthread_mutex_lock(&g_init_mu);
    if (atomic_load(&g_refcount) > 0) {
        atomic_fetch_add(&g_refcount, 1);
        pthread_mutex_unlock(&g_init_mu);
        return NVML_SUCCESS;
    }
    const char *path = getenv("GPU_AGENT_SIM_CONFIG");
    if (!path || !*path) {
        fprintf(stderr, "nvml-sim: GPU_AGENT_SIM_CONFIG is not set; it must name the machine "
                        "file of the simulated GPUs (reporting NVML_ERROR_DRIVER_NOT_LOADED)\n");
        pthread_mutex_unlock(&g_init_mu);
        return NVML_ERROR_DRIVER_NOT_LOADED;
    }
    static sim_machine m; /* large; only touched under g_init_mu */
    char err[512];
    if (sim_config_load(path, &m, err, sizeof(err)) != 0) {
        fprintf(stderr, "nvml-sim: invalid machine file (GPU_AGENT_SIM_CONFIG): %s\n", err);
        pthread_mutex_unlock(&g_init_mu);
        return NVML_ERROR_UNKNOWN;
    }
    sim_control_configure();
    sim_control_lock();
    install_machine(&m);
    for (int k = 0; k < m.nfaults; k++) {
        sim_cmd cmd;
        char why[200];
        if (sim_cmd_parse(m.faults[k], &cmd, why, sizeof(why)) == 0 && cmd.kind != CMD_INIT &&
            sim_cmd_exec(&cmd, why, sizeof(why)) != 0)
            fprintf(stderr, "nvml-sim: %s:%d: %s\n", path, m.fault_lines[k], why);
    }
    sim_control_poll_locked();
    sim_control_unlock();
    nvmlReturn_t fault = atomic_load(&g_init_fault);
    /* A config-file init fault holds for this config only; the control file's stays armed. */
    for (int k = 0; k < m.nfaults; k++) {
        sim_cmd cmd;
        char why[200];
        if (sim_cmd_parse(m.faults[k], &cmd, why, sizeof(why)) == 0 && cmd.kind == CMD_INIT &&
            cmd.a != NVML_SUCCESS)
            fault = (nvmlReturn_t)cmd.a;
    }
    if (fault != NVML_SUCCESS) {
        pthread_mutex_unlock(&g_init_mu);
        return fault;
    }
    atomic_store(&g_refcount, 1);
    pthread_mutex_unlock(&g_init_mu);
    return NVML_SUCCESS;
}

SIM_EXPORT nvmlReturn_t nvmlInit_v2(void)
{
    return do_init();
}

SIM_EXPORT nvmlReturn_t nvmlInit(void)
{
    return do_init();
}

SIM_EXPORT nvmlReturn_t nvmlInitWithFlags(unsigned int flags)
{
    (void)flags; /* NO_GPUS / NO_ATTACH change nothing in a simulation */
    return do_init();
}

SIM_EXPORT nvmlReturn_t nvmlShutdown(void)
{
    pthread_mutex_lock(&g_init_mu);
    if (atomic_load(&g_refcount) == 0) {
        pthread_mutex_unlock(&g_init_mu);
        return NVML_ERROR_UNINITIALIZED;
    }
    atomic_fetch_sub(&g_refcount, 1);
    pthread_mutex_unlock(&g_init_mu);
    return NVML_SUCCESS;
}

SIM_EXPORT const char *nvmlErrorString(nvmlReturn_t result)
{
    switch (result) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
    case NVML_ERROR_ALREADY_INITIALIZED: return "Already Initialized";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case NVML_ERROR_INSUFFICIENT_POWER: return "Insufficient External Power";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case NVML_ERROR_TIMEOUT: return "Timeout";
    case NVML_ERROR_IRQ_ISSUE: return "Interrupt Request Issue";
    case NVML_ERROR_LIBRARY_NOT_FOUND: return "NVML Shared Library Not Found";
    case NVML_ERROR_FUNCTION_NOT_FOUND: return "Function Not Found";
    case NVML_ERROR_CORRUPTED_INFOROM: return "Corrupted infoROM";
    case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    case NVML_ERROR_RESET_REQUIRED: return "GPU requires reset";
    case NVML_ERROR_OPERATING_SYSTEM: return "GPU access blocked by the operating system";
    case NVML_ERROR_LIB_RM_VERSION_MISMATCH: return "Driver/library version mismatch";
    case NVML_ERROR_IN_USE: return "In use by another client";
    case NVML_ERROR_MEMORY: return "Insufficient Memory";
    case NVML_ERROR_NO_DATA: return "No data";
    case NVML_ERROR_VGPU_ECC_NOT_SUPPORTED:
        return "The requested vgpu operation is not available on target device, because ECC is enabled";
    case NVML_ERROR_INSUFFICIENT_RESOURCES: return "Insufficient Resources";
    case NVML_ERROR_FREQ_NOT_SUPPORTED: return "Frequency not supported";
    case NVML_ERROR_ARGUMENT_VERSION_MISMATCH: return "Argument version mismatch";
    default: return "Unknown Error";
    }
}

static nvmlReturn_t copy_string(const char *s, char *buf, unsigned int length)
{
    if (!buf)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (strlen(s) + 1 > length)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(buf, s, strlen(s) + 1);
    return NVML_SUCCESS;
}

SIM_EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
    if (atomic_load(&g_refcount) == 0)
        return NVML_ERROR_UNINITIALIZED;
    sim_control_poll(0);
    return copy_string(g_machine.driver_version, version, length);
}

SIM_EXPORT nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length)
{
    if (atomic_load(&g_refcount) == 0)
        return NVML_ERROR_UNINITIALIZED;
    sim_control_poll(0);
    return copy_string(g_machine.nvml_version, version, length);
}

SIM_EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *cudaDriverVersion)
{
    if (atomic_load(&g_refcount) == 0)
        return NVML_ERROR_UNINITIALIZED;
    if (!cudaDriverVersion)
        return NVML_ERROR_INVALID_ARGUMENT;
    sim_control_poll(0);
    *cudaDriverVersion = g_machine.cuda_driver_version;
    return NVML_SUCCESS;
}

SIM_EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *cudaDriverVersion)
{
    return nvmlSystemGetCudaDriverVersion(cudaDriverVersion);
}

/*
 * Not an NVML symbol: the marker by which gpu-agent recognises this library as simulated, so that
 * its GPUs are flagged `simulated` and never sold as real. NVIDIA's library has no such symbol.
 */
SIM_EXPORT const char *gpuAgentSimulatedNvml(void)
{
    return "gpu-agent simulated NVML";
}
