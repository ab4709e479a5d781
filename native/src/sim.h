/*
 * sim.h: internal state of the simulated NVML library (not exported).
 *
 * Locking (acquire in this order, never the reverse):
 *   g_init_mu (init/shutdown only) -> g_ctl_mu (control-file processing)
 *     -> sim_dev.mu (one per GPU) -> g_ev_mu (list of event sets) -> event set mu.
 * No lock is ever held while a call sleeps in a simulated hang or waits for an event,
 * so a hung GPU never blocks the other GPUs or other threads.
 */
#ifndef NVML_SIM_H
#define NVML_SIM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "nvml_abi.h"

#define SIM_EXPORT __attribute__((visibility("default")))

#define SIM_MAX_GPUS 64
#define SIM_MAX_PROCS 64
#define SIM_MAX_FAULT_LINES 64
#define SIM_HANG_NONE 0
#define SIM_HANG_FOREVER INT64_MAX

/* One GPU instance profile of a MIG-capable card, as nvidia-smi mig -lgip lists it. */
typedef struct sim_gi_profile {
    unsigned index;             /* NVML_GPU_INSTANCE_PROFILE_* (argument of GetGpuInstanceProfileInfo) */
    unsigned id;                /* the profile id the driver reports (19 = 1g.10gb ...) */
    const char *name;           /* "1g.10gb" (nvidia-smi prints "MIG 1g.10gb") */
    unsigned slices;            /* compute slices (of 7) */
    unsigned mem_slices;        /* memory slices (of 8): the placement size */
    unsigned starts;            /* bit i set: placement start i allowed */
    unsigned instances;         /* instanceCount */
    unsigned sm, ce, dec, enc, jpeg, ofa;
    unsigned long long mem_mib; /* memorySizeMB */
} sim_gi_profile;

#define SIM_MIG_MEM_SLICES 8
#define SIM_MIG_COMPUTE_SLICES 7
#define SIM_MAX_GI 15               /* GPU instance ids 0..14 (one per node of the slice tree) */
#define SIM_MAX_CI 8                /* compute instance ids 0..7 within one GPU instance */
#define SIM_MAX_MIG_DEVICES 7       /* nvmlDeviceGetMaxMigDeviceCount on every MIG card modelled */

typedef struct sim_mig_table {
    int n;
    sim_gi_profile p[8];
} sim_mig_table;

/* Static facts of one GPU model. */
typedef struct sim_profile {
    const char *key;            /* machine-file name, e.g. "h100-80gb-hbm3" */
    const char *name;           /* nvmlDeviceGetName */
    unsigned mem_mib;           /* total framebuffer */
    unsigned reserved_mib;      /* nvmlMemory_v2 reserved */
    unsigned driver_used_mib;   /* used with no process running */
    unsigned pci_device_id;     /* (device << 16) | 0x10DE */
    unsigned pci_subsys_id;
    int cc_major, cc_minor;
    unsigned arch;              /* NVML_DEVICE_ARCH_* */
    unsigned brand;             /* NVML_BRAND_* */
    int geforce;                /* consumer card: no serial, ECC, MIG, row remapping, memory temp */
    unsigned power_default_mw, power_min_mw, power_max_mw, power_idle_mw;
    unsigned pcie_gen, pcie_width;
    unsigned sm_max_mhz, sm_idle_mhz, mem_max_mhz, mem_idle_mhz, video_max_mhz, video_idle_mhz;
    unsigned fans;              /* 0 on passively cooled SXM boards */
    unsigned idle_temp_c;       /* before the per-GPU offset */
    unsigned slowdown_temp_c, shutdown_temp_c, gpu_max_temp_c, mem_max_temp_c;
    const char *vbios;
    const char *serial_prefix;  /* 4 digits; NULL on GeForce */
    const sim_mig_table *mig;   /* NULL: no MIG (GeForce) */
    unsigned nvlink_links;      /* links per GPU; 0: the model has no NVLink */
    unsigned nvlink_version;    /* 3 (Ampere), 4 (Hopper) */
    int sxm;                    /* SXM module: may sit on an NVSwitch baseboard */
    int bridge;                 /* PCIe card that takes an NVLink bridge */
} sim_profile;

const sim_gi_profile *sim_gi_profile_by_index(const sim_profile *p, unsigned index);
const sim_gi_profile *sim_gi_profile_by_id(const sim_profile *p, unsigned id);
const sim_gi_profile *sim_gi_profile_by_name(const sim_profile *p, const char *name);

const sim_profile *sim_profile_find(const char *key);
const sim_profile *sim_profile_at(int i); /* NULL past the end */

typedef struct sim_proc {
    unsigned pid;
    unsigned long long bytes;
} sim_proc;

/* One GPU as the machine file describes it. */
typedef struct sim_gpu_spec {
    const sim_profile *profile;
    unsigned pci_bus;
    char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
    char serial[NVML_DEVICE_SERIAL_BUFFER_SIZE];
    int load;
    int mig;
    int mig_reset_required;       /* a mode change stays pending until "reset <gpu>" */
    int n_init_gi;                /* mig_instances: created at init, each with one full compute instance */
    const sim_gi_profile *init_gi[SIM_MIG_MEM_SLICES];
    int init_start[SIM_MIG_MEM_SLICES]; /* -1: first free placement */
    int numa_node;
    int pcie_switch;              /* -1: none (directly on the root complex) */
    int nvlink_bridge;            /* peer GPU index over an NVLink bridge, -1: none */
} sim_gpu_spec;

enum sim_nvlink_fabric { NVLINK_NONE, NVLINK_NVSWITCH };

typedef struct sim_machine {
    char driver_version[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE];
    char nvml_version[NVML_SYSTEM_NVML_VERSION_BUFFER_SIZE];
    int cuda_driver_version;
    unsigned long long seed;
    int nvlink;                   /* enum sim_nvlink_fabric */
    unsigned numa_cpus;           /* logical CPUs per NUMA node (nvmlDeviceGetCpuAffinity) */
    int ngpus;
    sim_gpu_spec gpus[SIM_MAX_GPUS];
    int nfaults;
    char faults[SIM_MAX_FAULT_LINES][128];
    int fault_lines[SIM_MAX_FAULT_LINES];
} sim_machine;

/* Parses the machine file; on failure writes "path:line: problem" into err and returns -1. */
int sim_config_load(const char *path, sim_machine *out, char *err, size_t errlen);

/* MIG state at run time, guarded by the parent GPU's mu. Handles are pointers into static tables
 * indexed [gpu][gpu instance id][compute instance id], so they never dangle; "live" says whether
 * the instance exists now. */
struct nvmlGpuInstance_st {
    unsigned gpu, id;
    int live;
    const sim_gi_profile *prof;
    unsigned start;
};
struct nvmlComputeInstance_st {
    unsigned gpu, gi, id;
    int live;
    unsigned profile;             /* NVML_COMPUTE_INSTANCE_PROFILE_* (= its id) */
    unsigned start, size;         /* compute slices within the GPU instance */
};
/* What a MIG device handle (nvmlDevice_t of one compute instance) points at. */
typedef struct sim_mig_dev {
    unsigned gpu, gi, ci;
} sim_mig_dev;

extern struct nvmlGpuInstance_st g_gis[SIM_MAX_GPUS][SIM_MAX_GI];
extern struct nvmlComputeInstance_st g_cis[SIM_MAX_GPUS][SIM_MAX_GI][SIM_MAX_CI];
extern sim_mig_dev g_migdevs[SIM_MAX_GPUS][SIM_MAX_GI][SIM_MAX_CI];

/* Places `n` GPU instances on an empty GPU as a layout would (the machine file's mig_instances);
 * returns -1 with a reason when one does not fit. starts[i] = -1 picks the first free placement
 * and is replaced by the chosen one. */
int sim_mig_plan(const sim_profile *p, int n, const sim_gi_profile *const *gis, int *starts,
                 char *why, size_t whylen);

/* A GPU at run time. The handle given to clients is a pointer to one of these. */
struct nvmlDevice_st {
    unsigned index;
    sim_gpu_spec spec;
    double phase;                 /* per-GPU offset of the telemetry waves, from the seed */
    unsigned idle_temp_c;
    pthread_mutex_t mu;           /* guards everything below that is not atomic */
    atomic_int lost;
    _Atomic int64_t hang_until_ns; /* SIM_HANG_NONE, a monotonic deadline or SIM_HANG_FOREVER */
    int load;
    int insufficient_left;
    int nprocs;
    sim_proc procs[SIM_MAX_PROCS];
    unsigned long long ecc_sbe_vol, ecc_sbe_agg, ecc_dbe_vol, ecc_dbe_agg;
    unsigned remapped_unc, remap_pending;
    double energy_mj;             /* integral of power since init */
    double energy_t;              /* seconds since init the integral reaches */
    int mig_current, mig_pending;
};
typedef struct nvmlDevice_st sim_dev;

/* Global state shared by the translation units. */
extern sim_dev g_devs[SIM_MAX_GPUS];
extern int g_ndev;                /* written only with g_init_mu and g_ctl_mu held */
extern atomic_int g_refcount;
extern atomic_int g_stride32;
extern sim_machine g_machine;
extern int64_t g_epoch_ns;

int64_t sim_now_ns(void);
double sim_seconds_since_init(void);
unsigned long long sim_mix64(unsigned long long x);

/* Telemetry at one instant, computed from the device state (caller holds d->mu). */
typedef struct sim_sample {
    unsigned util_gpu, util_mem;
    unsigned power_mw;
    unsigned temp_c, mem_temp_c;
    unsigned sm_mhz, mem_mhz, video_mhz;
    unsigned fan_pct;
    unsigned pstate;
    unsigned pcie_gen;
    unsigned pcie_tx_kbs, pcie_rx_kbs;
    unsigned long long clock_reasons;
    unsigned long long mem_used, mem_free, mem_reserved, mem_total;
} sim_sample;

void sim_sample_at(const sim_dev *d, double t, sim_sample *out);
/* Advances d->energy_mj to time t (caller holds d->mu). */
void sim_energy_advance(sim_dev *d, double t);

/* Control commands (machine-file [faults] section and the control file). */
enum sim_cmd_kind {
    CMD_INIT, CMD_LOST, CMD_RECOVER, CMD_XID, CMD_SBE, CMD_DBE, CMD_HANG, CMD_UNHANG,
    CMD_INSUFFICIENT_SIZE, CMD_STRIDE32, CMD_PROCESS, CMD_PROCESS_CLEAR, CMD_LOAD, CMD_RESET
};
typedef struct sim_cmd {
    enum sim_cmd_kind kind;
    int gpu;                      /* -1 when the command names none */
    long long a, b;               /* arguments; hang: a = ms or -1 for forever */
    long long gi, ci;             /* xid: scoped to this GPU / compute instance, -1 = device-wide */
} sim_cmd;

/* Init fault armed by "init ...": NVML_SUCCESS when none. */
extern atomic_uint g_init_fault;

int sim_cmd_parse(const char *line, sim_cmd *out, char *err, size_t errlen);
/* Executes a parsed command; returns 0, or -1 with a reason in err (bad GPU index ...). */
int sim_cmd_exec(const sim_cmd *cmd, char *err, size_t errlen);
/* Re-reads the control file if due (rate-limited unless force) and runs its new lines. */
void sim_control_poll(int force);
/* Whether a control file is configured (event waits then wake every slice to poll it). */
int sim_control_active(void);
/* Called by init: picks up the control path and poll interval from the environment. */
void sim_control_configure(void);
/* For init, which replaces the device table while holding the control lock. */
void sim_control_lock(void);
void sim_control_unlock(void);
void sim_control_poll_locked(void);

/* Events. */
#define SIM_NO_INSTANCE 0xffffffffU  /* gpuInstanceId / computeInstanceId of a device-wide event */
void sim_events_deliver(unsigned gpu, unsigned long long type, unsigned long long data,
                        unsigned gi, unsigned ci);
unsigned long long sim_supported_events(const sim_dev *d);

/* Entry to every per-GPU call (nvml_device.c): UNINITIALIZED, INVALID_ARGUMENT for a foreign
 * handle, serves a simulated hang with no lock held, GPU_IS_LOST; on success d->mu is held. */
nvmlReturn_t sim_dev_enter(nvmlDevice_t h, sim_dev **out);
void sim_dev_leave(sim_dev *d);
/* Like sim_dev_enter but also accepts a live MIG device handle: *mig is then set and d is the
 * parent GPU (whose hang and lost state the MIG device shares); *mig is NULL for a whole GPU. */
nvmlReturn_t sim_dev_enter_any(nvmlDevice_t h, sim_dev **out, const sim_mig_dev **mig);
/* The MIG device a handle points at, or NULL (no locking: only the address is checked). */
const sim_mig_dev *sim_mig_lookup(nvmlDevice_t h);
/* Resets a GPU's MIG state to the machine file's (caller holds d->mu). */
void sim_mig_install(sim_dev *d);
/* "reset <gpu>": applies a pending MIG mode, destroys the instances (caller holds d->mu). */
void sim_mig_reset(sim_dev *d);
/* The MIG device name / UUID / memory of a live MIG device (caller holds the parent's mu). */
void sim_mig_name(const sim_dev *d, const sim_mig_dev *m, char *buf, size_t n);
void sim_mig_uuid(const sim_dev *d, const sim_mig_dev *m, char *buf, size_t n);
unsigned long long sim_mig_mem_bytes(const sim_mig_dev *m);
/* NVSwitches on an HGX baseboard of this GPU model (their PCI buses are 0x05 onwards). */
unsigned sim_nvswitch_count(const sim_profile *p);

#define ENTER(h)                                         \
    sim_dev *d;                                          \
    do {                                                 \
        nvmlReturn_t enter_rc_ = sim_dev_enter((h), &d); \
        if (enter_rc_ != NVML_SUCCESS)                   \
            return enter_rc_;                            \
    } while (0)
/* Entry for the calls a MIG device handle answers too: m is NULL for a whole GPU. */
#define ENTER_ANY(h)                                                  \
    sim_dev *d;                                                       \
    const sim_mig_dev *m;                                             \
    do {                                                              \
        nvmlReturn_t enter_rc_ = sim_dev_enter_any((h), &d, &m);      \
        if (enter_rc_ != NVML_SUCCESS)                                \
            return enter_rc_;                                         \
    } while (0)

#define LEAVE(rc)         \
    do {                  \
        sim_dev_leave(d); \
        return (rc);      \
    } while (0)
#define REQUIRE(ok)                             \
    do {                                        \
        if (!(ok))                              \
            LEAVE(NVML_ERROR_INVALID_ARGUMENT); \
    } while (0)
#define GEFORCE_UNSUPPORTED()                \
    do {                                     \
        if (d->spec.profile->geforce)        \
            LEAVE(NVML_ERROR_NOT_SUPPORTED); \
    } while (0)

#endif /* NVML_SIM_H */
