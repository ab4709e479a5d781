/*
 * mig.c: Multi-Instance GPU: mode, GPU instances, compute instances and MIG device handles.
 *
 * Model (the one NVIDIA's MIG user guide draws): a MIG card has 8 memory slices and 7 compute
 * slices. A GPU instance profile occupies `mem_slices` consecutive memory slices starting at one
 * of its allowed placements, and `slices` compute slices; an instance fits when its memory
 * slices are free, the compute slices in use stay <= 7 and the profile's instance count is not
 * reached. GPU instance ids are the driver's: the node of the memory-slice tree the placement
 * covers (8 slices: 0; 4: 1 + start/4; 2: 3 + start/2; 1: 7 + start), so a 3g.40gb at 4 is id 2
 * and a 1g.10gb at 6 is id 13, as on a real A100/H100. Within a GPU instance, compute instance
 * profile i covers 1, 2, 3, 4 or 7 compute slices, placed at multiples of its size; its id is the
 * lowest free one from 0.
 *
 * All MIG state of a GPU is guarded by that GPU's mutex. Handles point into static tables and
 * never dangle: a destroyed instance's handle answers INVALID_ARGUMENT. The state lives in this
 * process only (the real driver keeps instances until a GPU reset or reboot).
 */
#include <stdint.h>
#include <string.h>

#include "sim.h"

struct nvmlGpuInstance_st g_gis[SIM_MAX_GPUS][SIM_MAX_GI];
struct nvmlComputeInstance_st g_cis[SIM_MAX_GPUS][SIM_MAX_GI][SIM_MAX_CI];
sim_mig_dev g_migdevs[SIM_MAX_GPUS][SIM_MAX_GI][SIM_MAX_CI];

/* Compute-instance profile index -> compute slices (NVML_COMPUTE_INSTANCE_PROFILE_*). */
static const unsigned CI_SIZE[NVML_COMPUTE_INSTANCE_PROFILE_COUNT] = {1, 2, 3, 4, 7, 8, 6};

/* Bits [start, start + n) of a slice mask. */
static unsigned span(unsigned n, unsigned start)
{
    return ((1u << n) - 1) << start;
}

static unsigned gi_id_for(unsigned mem_slices, unsigned start)
{
    switch (mem_slices) {
    case 8: return 0;
    case 4: return 1 + start / 4;
    case 2: return 3 + start / 2;
    default: return 7 + start;
    }
}

/* ---- GPU-instance occupancy ------------------------------------------------------------- */

typedef struct occupancy {
    unsigned mem_mask;       /* memory slices in use */
    unsigned compute;        /* compute slices in use */
    unsigned count[8];       /* live instances per profile (index into the card's table) */
} occupancy;

static int table_pos(const sim_profile *p, const sim_gi_profile *gp)
{
    return (int)(gp - p->mig->p);
}

static void occupy(const sim_profile *p, const sim_gi_profile *gp, unsigned start, occupancy *o)
{
    o->mem_mask |= span(gp->mem_slices, start);
    o->compute += gp->slices;
    o->count[table_pos(p, gp)]++;
}

static void occupancy_of(unsigned gpu, const sim_profile *p, occupancy *o)
{
    memset(o, 0, sizeof(*o));
    for (unsigned id = 0; id < SIM_MAX_GI; id++) {
        const struct nvmlGpuInstance_st *gi = &g_gis[gpu][id];
        if (gi->live)
            occupy(p, gi->prof, gi->start, o);
    }
}

/* 1: the placement is one of the profile's; 0: it is not. */
static int placement_valid(const sim_gi_profile *gp, unsigned start)
{
    return start < SIM_MIG_MEM_SLICES && (gp->starts >> start & 1u);
}

static int fits(const sim_profile *p, const sim_gi_profile *gp, unsigned start, const occupancy *o)
{
    return placement_valid(gp, start) && (o->mem_mask & span(gp->mem_slices, start)) == 0 &&
           o->compute + gp->slices <= SIM_MIG_COMPUTE_SLICES &&
           o->count[table_pos(p, gp)] < gp->instances;
}

static int first_fit(const sim_profile *p, const sim_gi_profile *gp, const occupancy *o)
{
    for (unsigned s = 0; s < SIM_MIG_MEM_SLICES; s++) {
        if (fits(p, gp, s, o))
            return (int)s;
    }
    return -1;
}

static unsigned remaining(const sim_profile *p, const sim_gi_profile *gp, occupancy o)
{
    unsigned n = 0;
    int s;
    while ((s = first_fit(p, gp, &o)) >= 0) {
        occupy(p, gp, (unsigned)s, &o);
        n++;
    }
    return n;
}

int sim_mig_plan(const sim_profile *p, int n, const sim_gi_profile *const *gis, int *starts,
                 char *why, size_t whylen)
{
    occupancy o;
    memset(&o, 0, sizeof(o));
    for (int i = 0; i < n; i++) {
        const sim_gi_profile *gp = gis[i];
        if (starts[i] >= 0 && !placement_valid(gp, (unsigned)starts[i])) {
            snprintf(why, whylen, "%s cannot start at memory slice %d (its placements: every "
                     "start in 0x%02x)", gp->name, starts[i], gp->starts);
            return -1;
        }
        int s = starts[i] >= 0 ? (fits(p, gp, (unsigned)starts[i], &o) ? starts[i] : -1)
                               : first_fit(p, gp, &o);
        if (s < 0) {
            snprintf(why, whylen, "%s (instance %d) does not fit beside the instances before it",
                     gp->name, i + 1);
            return -1;
        }
        starts[i] = s;
        occupy(p, gp, (unsigned)s, &o);
    }
    return 0;
}

/* ---- lifecycle -------------------------------------------------------------------------- */

static void event(sim_dev *d, unsigned gi, unsigned ci)
{
    sim_events_deliver(d->index, nvmlEventMigConfigChange, 0, gi, ci);
}

static struct nvmlGpuInstance_st *gi_create(sim_dev *d, const sim_gi_profile *gp, unsigned start)
{
    unsigned id = gi_id_for(gp->mem_slices, start);
    struct nvmlGpuInstance_st *gi = &g_gis[d->index][id];
    gi->gpu = d->index;
    gi->id = id;
    gi->prof = gp;
    gi->start = start;
    gi->live = 1;
    return gi;
}

static struct nvmlComputeInstance_st *ci_create(struct nvmlGpuInstance_st *gi, unsigned profile,
                                                unsigned start)
{
    unsigned id = 0;
    while (g_cis[gi->gpu][gi->id][id].live)
        id++;
    struct nvmlComputeInstance_st *ci = &g_cis[gi->gpu][gi->id][id];
    ci->gpu = gi->gpu;
    ci->gi = gi->id;
    ci->id = id;
    ci->profile = profile;
    ci->start = start;
    ci->size = CI_SIZE[profile];
    ci->live = 1;
    return ci;
}

/* The compute-instance profile that spans its whole GPU instance ("nvidia-smi mig -cgi ... -C"). */
static unsigned full_ci_profile(const sim_gi_profile *gp)
{
    for (unsigned i = 0; i < NVML_COMPUTE_INSTANCE_PROFILE_COUNT; i++) {
        if (CI_SIZE[i] == gp->slices)
            return i;
    }
    return 0;
}

static void destroy_all(sim_dev *d)
{
    for (unsigned g = 0; g < SIM_MAX_GI; g++) {
        g_gis[d->index][g].live = 0;
        for (unsigned c = 0; c < SIM_MAX_CI; c++)
            g_cis[d->index][g][c].live = 0;
    }
}

void sim_mig_install(sim_dev *d)
{
    for (unsigned g = 0; g < SIM_MAX_GI; g++) {
        for (unsigned c = 0; c < SIM_MAX_CI; c++)
            g_migdevs[d->index][g][c] = (sim_mig_dev){d->index, g, c};
    }
    destroy_all(d);
    d->mig_current = d->mig_pending = d->spec.mig ? NVML_DEVICE_MIG_ENABLE : NVML_DEVICE_MIG_DISABLE;
    for (int i = 0; i < d->spec.n_init_gi; i++) {
        struct nvmlGpuInstance_st *gi = gi_create(d, d->spec.init_gi[i], (unsigned)d->spec.init_start[i]);
        ci_create(gi, full_ci_profile(gi->prof), 0);
    }
}

void sim_mig_reset(sim_dev *d)
{
    if (!d->spec.profile->mig)
        return;
    d->mig_current = d->mig_pending;
    destroy_all(d);
}

/* ---- handle entry ----------------------------------------------------------------------- */

/* A whole GPU's handle for a MIG management call: MIG device handles are the wrong kind. */
#define ENTER_PARENT(h)                         \
    ENTER_ANY(h);                               \
    do {                                        \
        if (m)                                  \
            LEAVE(NVML_ERROR_INVALID_ARGUMENT); \
    } while (0)

/* GeForce: no MIG at all. MIG off: no instances to manage. */
#define REQUIRE_MIG_ON()                                     \
    do {                                                     \
        if (!d->spec.profile->mig)                           \
            LEAVE(NVML_ERROR_NOT_SUPPORTED);                 \
        if (d->mig_current != NVML_DEVICE_MIG_ENABLE)        \
            LEAVE(NVML_ERROR_NOT_SUPPORTED);                 \
    } while (0)

/* The GPU instance management calls: a whole GPU's handle, in MIG mode. */
#define ENTER_MIG_ON(h) \
    ENTER_PARENT(h);    \
    REQUIRE_MIG_ON()

/* The GPU whose part of a [SIM_MAX_GPUS][per_gpu] handle table `h` points at, or -1 when `h`
 * is not an element of that table (or one of a GPU past g_ndev). Only the address is checked. */
static int table_gpu(const void *h, const void *table, size_t table_size, size_t elem,
                     size_t per_gpu)
{
    uintptr_t p = (uintptr_t)h, base = (uintptr_t)table;
    if (!h || p < base || p >= base + table_size || (p - base) % elem != 0)
        return -1;
    size_t gpu = (p - base) / elem / per_gpu;
    return gpu < (size_t)g_ndev ? (int)gpu : -1;
}

/* Entry to a GPU or compute instance call: UNINITIALIZED, INVALID_ARGUMENT for a foreign
 * handle, then the GPU's own entry; on success d->mu is held. */
static nvmlReturn_t instance_enter(const void *h, const void *table, size_t table_size,
                                   size_t elem, size_t per_gpu, sim_dev **dout)
{
    if (atomic_load(&g_refcount) == 0)
        return NVML_ERROR_UNINITIALIZED;
    int gpu = table_gpu(h, table, table_size, elem, per_gpu);
    if (gpu < 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    return sim_dev_enter(&g_devs[gpu], dout);
}

/* Declares d and `var` (the instance handle h), entered; a destroyed instance answers
 * INVALID_ARGUMENT. */
#define ENTER_INSTANCE(type, var, h, table, per_gpu)                                        \
    sim_dev *d;                                                                             \
    type *var = (h);                                                                        \
    do {                                                                                    \
        nvmlReturn_t enter_rc_ =                                                            \
            instance_enter(var, table, sizeof(table), sizeof(type), (per_gpu), &d);         \
        if (enter_rc_ != NVML_SUCCESS)                                                      \
            return enter_rc_;                                                               \
        if (!var->live)                                                                     \
            LEAVE(NVML_ERROR_INVALID_ARGUMENT);                                             \
    } while (0)
#define ENTER_GI(h) ENTER_INSTANCE(struct nvmlGpuInstance_st, gi, h, g_gis, SIM_MAX_GI)
#define ENTER_CI(h) \
    ENTER_INSTANCE(struct nvmlComputeInstance_st, ci, h, g_cis, SIM_MAX_GI * SIM_MAX_CI)

const sim_mig_dev *sim_mig_lookup(nvmlDevice_t h)
{
    int gpu = table_gpu(h, g_migdevs, sizeof(g_migdevs), sizeof(sim_mig_dev),
                        SIM_MAX_GI * SIM_MAX_CI);
    return gpu < 0 ? NULL : (const sim_mig_dev *)h;
}

/* ---- MIG device identity ---------------------------------------------------------------- */

static const char *ci_name(const struct nvmlGpuInstance_st *gi, unsigned profile, char *buf,
                           size_t n)
{
    if (CI_SIZE[profile] == gi->prof->slices)
        snprintf(buf, n, "%s", gi->prof->name);
    else
        snprintf(buf, n, "%uc.%s", CI_SIZE[profile], gi->prof->name);
    return buf;
}

void sim_mig_name(const sim_dev *d, const sim_mig_dev *m, char *buf, size_t n)
{
    char ci[48];
    const struct nvmlComputeInstance_st *c = &g_cis[m->gpu][m->gi][m->ci];
    snprintf(buf, n, "%s MIG %s", d->spec.profile->name,
             ci_name(&g_gis[m->gpu][m->gi], c->profile, ci, sizeof(ci)));
}

void sim_mig_uuid(const sim_dev *d, const sim_mig_dev *m, char *buf, size_t n)
{
    /* Stable per (GPU UUID, GPU instance id, compute instance id): FNV-1a, then splitmix. */
    unsigned long long h = 0xcbf29ce484222325ULL;
    for (const char *c = d->spec.uuid; *c; c++)
        h = (h ^ (unsigned char)(*c | 0x20)) * 0x100000001b3ULL;
    h = sim_mix64(h ^ ((unsigned long long)m->gi << 8 | m->ci));
    unsigned long long h2 = sim_mix64(h ^ 0x4D49470000000000ULL);
    /* RFC 4122 shape, version 5 and variant bits like the driver's name-based UUIDs */
    snprintf(buf, n, "MIG-%08llx-%04llx-5%03llx-%04llx-%012llx", h >> 32, (h >> 16) & 0xffff,
             h & 0xfff, 0x8000 | ((h2 >> 48) & 0x3fff), h2 & 0xffffffffffffULL);
}

unsigned long long sim_mig_mem_bytes(const sim_mig_dev *m)
{
    return g_gis[m->gpu][m->gi].prof->mem_mib * 1024ULL * 1024ULL;
}

/* ---- mode ------------------------------------------------------------------------------- */

SIM_EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *currentMode,
                                             unsigned int *pendingMode)
{
    ENTER(device);
    GEFORCE_UNSUPPORTED();
    REQUIRE(currentMode && pendingMode);
    *currentMode = (unsigned)d->mig_current;
    *pendingMode = (unsigned)d->mig_pending;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceSetMigMode(nvmlDevice_t device, unsigned int mode,
                                             nvmlReturn_t *activationStatus)
{
    ENTER_PARENT(device);
    GEFORCE_UNSUPPORTED();
    REQUIRE(activationStatus && mode <= NVML_DEVICE_MIG_ENABLE);
    if (mode == NVML_DEVICE_MIG_DISABLE && d->mig_current == NVML_DEVICE_MIG_ENABLE) {
        for (unsigned g = 0; g < SIM_MAX_GI; g++) {
            if (g_gis[d->index][g].live)
                LEAVE(NVML_ERROR_IN_USE); /* destroy the instances first; nothing changed */
        }
    }
    d->mig_pending = (int)mode;
    if ((int)mode == d->mig_current) {
        *activationStatus = NVML_SUCCESS;
    } else if (d->spec.mig_reset_required) {
        *activationStatus = NVML_ERROR_RESET_REQUIRED; /* pending until "reset <gpu>" */
    } else if (d->nprocs > 0) {
        *activationStatus = NVML_ERROR_IN_USE; /* a process holds the GPU: pending until reset */
    } else {
        d->mig_current = (int)mode;
        *activationStatus = NVML_SUCCESS;
    }
    LEAVE(NVML_SUCCESS);
}

/* ---- GPU instance profiles -------------------------------------------------------------- */

/* Fills the fields nvmlGpuInstanceProfileInfo_t and its _v2 have in common (a macro: it
 * serves both struct types). */
#define FILL_GI_INFO(i, gp)                       \
    do {                                          \
        (i)->id = (gp)->id;                       \
        (i)->isP2pSupported = 0;                  \
        (i)->sliceCount = (gp)->slices;           \
        (i)->instanceCount = (gp)->instances;     \
        (i)->multiprocessorCount = (gp)->sm;      \
        (i)->copyEngineCount = (gp)->ce;          \
        (i)->decoderCount = (gp)->dec;            \
        (i)->encoderCount = (gp)->enc;            \
        (i)->jpegCount = (gp)->jpeg;              \
        (i)->ofaCount = (gp)->ofa;                \
        (i)->memorySizeMB = (gp)->mem_mib;        \
    } while (0)

static nvmlReturn_t profile_at(sim_dev *d, unsigned profile, const sim_gi_profile **out)
{
    if (profile >= NVML_GPU_INSTANCE_PROFILE_COUNT)
        return NVML_ERROR_INVALID_ARGUMENT;
    *out = sim_gi_profile_by_index(d->spec.profile, profile);
    return *out ? NVML_SUCCESS : NVML_ERROR_NOT_SUPPORTED;
}

/* nvmlDeviceGetGpuInstanceProfileInfo (v1 set) and ...InfoV (v2 set, version checked). */
static nvmlReturn_t gi_profile_info(nvmlDevice_t device, unsigned profile,
                                    nvmlGpuInstanceProfileInfo_t *v1,
                                    nvmlGpuInstanceProfileInfo_v2_t *v2)
{
    ENTER_MIG_ON(device);
    REQUIRE(v1 || v2);
    if (v2 && v2->version != nvmlGpuInstanceProfileInfo_v2)
        LEAVE(NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    const sim_gi_profile *gp;
    nvmlReturn_t r = profile_at(d, profile, &gp);
    if (r == NVML_SUCCESS && v1)
        FILL_GI_INFO(v1, gp);
    if (r == NVML_SUCCESS && v2) {
        FILL_GI_INFO(v2, gp);
        memset(v2->name, 0, sizeof(v2->name));
        snprintf(v2->name, sizeof(v2->name), "MIG %s", gp->name);
    }
    LEAVE(r);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetGpuInstanceProfileInfo(nvmlDevice_t device, unsigned int profile,
                                                            nvmlGpuInstanceProfileInfo_t *info)
{
    return gi_profile_info(device, profile, info, NULL);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetGpuInstanceProfileInfoV(nvmlDevice_t device, unsigned int profile,
                                                             nvmlGpuInstanceProfileInfo_v2_t *info)
{
    return gi_profile_info(device, profile, NULL, info);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetGpuInstancePossiblePlacements_v2(
    nvmlDevice_t device, unsigned int profileId, nvmlGpuInstancePlacement_t *placements,
    unsigned int *count)
{
    ENTER_MIG_ON(device);
    REQUIRE(count);
    const sim_gi_profile *gp = sim_gi_profile_by_id(d->spec.profile, profileId);
    REQUIRE(gp);
    unsigned n = (unsigned)__builtin_popcount(gp->starts);
    if (!placements) {
        *count = n; /* the size query */
        LEAVE(NVML_SUCCESS);
    }
    if (*count < n) {
        *count = n;
        LEAVE(NVML_ERROR_INSUFFICIENT_SIZE);
    }
    unsigned k = 0;
    for (unsigned s = 0; s < SIM_MIG_MEM_SLICES; s++) {
        if (gp->starts >> s & 1u)
            placements[k++] = (nvmlGpuInstancePlacement_t){s, gp->mem_slices};
    }
    *count = n;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetGpuInstanceRemainingCapacity(nvmlDevice_t device,
                                                                  unsigned int profileId,
                                                                  unsigned int *count)
{
    ENTER_MIG_ON(device);
    REQUIRE(count);
    const sim_gi_profile *gp = sim_gi_profile_by_id(d->spec.profile, profileId);
    REQUIRE(gp);
    occupancy o;
    occupancy_of(d->index, d->spec.profile, &o);
    *count = remaining(d->spec.profile, gp, o);
    LEAVE(NVML_SUCCESS);
}

/* ---- GPU instances ---------------------------------------------------------------------- */

static nvmlReturn_t create_gi(nvmlDevice_t device, unsigned profileId,
                              const nvmlGpuInstancePlacement_t *placement, int with_placement,
                              nvmlGpuInstance_t *out)
{
    ENTER_MIG_ON(device);
    REQUIRE(out && (!with_placement || placement));
    const sim_gi_profile *gp = sim_gi_profile_by_id(d->spec.profile, profileId);
    REQUIRE(gp);
    occupancy o;
    occupancy_of(d->index, d->spec.profile, &o);
    int start;
    if (with_placement) {
        if (placement->size != gp->mem_slices || !placement_valid(gp, placement->start))
            LEAVE(NVML_ERROR_INVALID_ARGUMENT);
        start = fits(d->spec.profile, gp, placement->start, &o) ? (int)placement->start : -1;
    } else {
        start = first_fit(d->spec.profile, gp, &o);
    }
    if (start < 0)
        LEAVE(NVML_ERROR_INSUFFICIENT_RESOURCES);
    struct nvmlGpuInstance_st *gi = gi_create(d, gp, (unsigned)start);
    event(d, gi->id, SIM_NO_INSTANCE);
    *out = gi;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceCreateGpuInstance(nvmlDevice_t device, unsigned int profileId,
                                                    nvmlGpuInstance_t *gpuInstance)
{
    return create_gi(device, profileId, NULL, 0, gpuInstance);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceCreateGpuInstanceWithPlacement(
    nvmlDevice_t device, unsigned int profileId, const nvmlGpuInstancePlacement_t *placement,
    nvmlGpuInstance_t *gpuInstance)
{
    return create_gi(device, profileId, placement, 1, gpuInstance);
}

SIM_EXPORT nvmlReturn_t nvmlGpuInstanceDestroy(nvmlGpuInstance_t gpuInstance)
{
    ENTER_GI(gpuInstance);
    for (unsigned c = 0; c < SIM_MAX_CI; c++) {
        if (g_cis[gi->gpu][gi->id][c].live)
            LEAVE(NVML_ERROR_IN_USE); /* destroy its compute instances first */
    }
    gi->live = 0;
    event(d, gi->id, SIM_NO_INSTANCE);
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetGpuInstances(nvmlDevice_t device, unsigned int profileId,
                                                  nvmlGpuInstance_t *gpuInstances,
                                                  unsigned int *count)
{
    ENTER_MIG_ON(device);
    REQUIRE(gpuInstances && count);
    const sim_gi_profile *gp = sim_gi_profile_by_id(d->spec.profile, profileId);
    REQUIRE(gp);
    /* As the driver: the array holds the profile's instanceCount; *count is output only. */
    unsigned n = 0;
    for (unsigned g = 0; g < SIM_MAX_GI; g++) {
        if (g_gis[d->index][g].live && g_gis[d->index][g].prof == gp)
            gpuInstances[n++] = &g_gis[d->index][g];
    }
    *count = n;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetGpuInstanceById(nvmlDevice_t device, unsigned int id,
                                                     nvmlGpuInstance_t *gpuInstance)
{
    ENTER_MIG_ON(device);
    REQUIRE(gpuInstance);
    if (id >= SIM_MAX_GI || !g_gis[d->index][id].live)
        LEAVE(NVML_ERROR_NOT_FOUND);
    *gpuInstance = &g_gis[d->index][id];
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlGpuInstanceGetInfo(nvmlGpuInstance_t gpuInstance,
                                               nvmlGpuInstanceInfo_t *info)
{
    ENTER_GI(gpuInstance);
    REQUIRE(info);
    info->device = d;
    info->id = gi->id;
    info->profileId = gi->prof->id;
    info->placement = (nvmlGpuInstancePlacement_t){gi->start, gi->prof->mem_slices};
    LEAVE(NVML_SUCCESS);
}

/* ---- compute instances ------------------------------------------------------------------ */

/* 1: compute-instance profile `ci` exists inside GPU instance `gi`. */
static int ci_profile_ok(const struct nvmlGpuInstance_st *gi, unsigned ci)
{
    if (ci >= NVML_COMPUTE_INSTANCE_PROFILE_COUNT)
        return 0;
    unsigned size = CI_SIZE[ci], slices = gi->prof->slices;
    if (size > slices || size == 6 || size == 8)
        return 0;
    if (size == 7 && slices != 7)
        return 0;
    return !(slices == 4 && size == 3); /* a 4-slice instance splits 1/2/4 only */
}

static unsigned ci_used_mask(const struct nvmlGpuInstance_st *gi, unsigned *same, unsigned ci)
{
    unsigned mask = 0;
    *same = 0;
    for (unsigned c = 0; c < SIM_MAX_CI; c++) {
        const struct nvmlComputeInstance_st *x = &g_cis[gi->gpu][gi->id][c];
        if (!x->live)
            continue;
        mask |= span(x->size, x->start);
        if (x->profile == ci)
            (*same)++;
    }
    return mask;
}

static int ci_first_fit(const struct nvmlGpuInstance_st *gi, unsigned ci, unsigned mask,
                        unsigned same)
{
    unsigned size = CI_SIZE[ci], slices = gi->prof->slices;
    if (same >= slices / size)
        return -1;
    for (unsigned s = 0; s + size <= slices; s += size) {
        if ((mask & span(size, s)) == 0)
            return (int)s;
    }
    return -1;
}

/* Fills the fields nvmlComputeInstanceProfileInfo_t and its _v2 have in common for profile
 * `ci` of GPU instance `gi` (a macro: it serves both struct types). */
#define FILL_CI_INFO(i, gi, ci)                                                 \
    do {                                                                        \
        const sim_gi_profile *gp_ = (gi)->prof;                                 \
        (i)->id = (ci);                                                         \
        (i)->sliceCount = CI_SIZE[ci];                                          \
        (i)->instanceCount = gp_->slices / CI_SIZE[ci];                         \
        (i)->multiprocessorCount = gp_->sm * CI_SIZE[ci] / gp_->slices;         \
        (i)->sharedCopyEngineCount = gp_->ce;                                   \
        (i)->sharedDecoderCount = gp_->dec;                                     \
        (i)->sharedEncoderCount = gp_->enc;                                     \
        (i)->sharedJpegCount = gp_->jpeg;                                       \
        (i)->sharedOfaCount = gp_->ofa;                                         \
    } while (0)

static nvmlReturn_t ci_profile_arg(const struct nvmlGpuInstance_st *gi, unsigned profile,
                                   unsigned eng)
{
    if (profile >= NVML_COMPUTE_INSTANCE_PROFILE_COUNT ||
        eng >= NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_COUNT)
        return NVML_ERROR_INVALID_ARGUMENT;
    return ci_profile_ok(gi, profile) ? NVML_SUCCESS : NVML_ERROR_NOT_SUPPORTED;
}

/* nvmlGpuInstanceGetComputeInstanceProfileInfo (v1 set) and ...InfoV (v2 set, version
 * checked). */
static nvmlReturn_t ci_profile_info(nvmlGpuInstance_t gpuInstance, unsigned profile, unsigned eng,
                                    nvmlComputeInstanceProfileInfo_t *v1,
                                    nvmlComputeInstanceProfileInfo_v2_t *v2)
{
    ENTER_GI(gpuInstance);
    REQUIRE(v1 || v2);
    if (v2 && v2->version != nvmlComputeInstanceProfileInfo_v2)
        LEAVE(NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    nvmlReturn_t r = ci_profile_arg(gi, profile, eng);
    if (r == NVML_SUCCESS && v1)
        FILL_CI_INFO(v1, gi, profile);
    if (r == NVML_SUCCESS && v2) {
        FILL_CI_INFO(v2, gi, profile);
        char n[48];
        memset(v2->name, 0, sizeof(v2->name));
        snprintf(v2->name, sizeof(v2->name), "MIG %s", ci_name(gi, profile, n, sizeof(n)));
    }
    LEAVE(r);
}

SIM_EXPORT nvmlReturn_t nvmlGpuInstanceGetComputeInstanceProfileInfo(
    nvmlGpuInstance_t gpuInstance, unsigned int profile, unsigned int engProfile,
    nvmlComputeInstanceProfileInfo_t *info)
{
    return ci_profile_info(gpuInstance, profile, engProfile, info, NULL);
}

SIM_EXPORT nvmlReturn_t nvmlGpuInstanceGetComputeInstanceProfileInfoV(
    nvmlGpuInstance_t gpuInstance, unsigned int profile, unsigned int engProfile,
    nvmlComputeInstanceProfileInfo_v2_t *info)
{
    return ci_profile_info(gpuInstance, profile, engProfile, NULL, info);
}

SIM_EXPORT nvmlReturn_t nvmlGpuInstanceGetComputeInstanceRemainingCapacity(
    nvmlGpuInstance_t gpuInstance, unsigned int profileId, unsigned int *count)
{
    ENTER_GI(gpuInstance);
    REQUIRE(count);
    REQUIRE(ci_profile_ok(gi, profileId));
    unsigned same, mask = ci_used_mask(gi, &same, profileId), n = 0;
    int s;
    while ((s = ci_first_fit(gi, profileId, mask, same)) >= 0) {
        mask |= span(CI_SIZE[profileId], (unsigned)s);
        same++;
        n++;
    }
    *count = n;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlGpuInstanceCreateComputeInstance(nvmlGpuInstance_t gpuInstance,
                                                             unsigned int profileId,
                                                             nvmlComputeInstance_t *computeInstance)
{
    ENTER_GI(gpuInstance);
    REQUIRE(computeInstance);
    REQUIRE(ci_profile_ok(gi, profileId));
    unsigned same, mask = ci_used_mask(gi, &same, profileId);
    int s = ci_first_fit(gi, profileId, mask, same);
    if (s < 0)
        LEAVE(NVML_ERROR_INSUFFICIENT_RESOURCES);
    struct nvmlComputeInstance_st *ci = ci_create(gi, profileId, (unsigned)s);
    event(d, gi->id, ci->id);
    *computeInstance = ci;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlComputeInstanceDestroy(nvmlComputeInstance_t computeInstance)
{
    ENTER_CI(computeInstance);
    ci->live = 0;
    event(d, ci->gi, ci->id);
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlGpuInstanceGetComputeInstances(nvmlGpuInstance_t gpuInstance,
                                                           unsigned int profileId,
                                                           nvmlComputeInstance_t *computeInstances,
                                                           unsigned int *count)
{
    ENTER_GI(gpuInstance);
    REQUIRE(computeInstances && count);
    REQUIRE(ci_profile_ok(gi, profileId));
    unsigned n = 0;
    for (unsigned c = 0; c < SIM_MAX_CI; c++) {
        struct nvmlComputeInstance_st *x = &g_cis[gi->gpu][gi->id][c];
        if (x->live && x->profile == profileId)
            computeInstances[n++] = x;
    }
    *count = n;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlGpuInstanceGetComputeInstanceById(nvmlGpuInstance_t gpuInstance,
                                                              unsigned int id,
                                                              nvmlComputeInstance_t *computeInstance)
{
    ENTER_GI(gpuInstance);
    REQUIRE(computeInstance);
    if (id >= SIM_MAX_CI || !g_cis[gi->gpu][gi->id][id].live)
        LEAVE(NVML_ERROR_NOT_FOUND);
    *computeInstance = &g_cis[gi->gpu][gi->id][id];
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlComputeInstanceGetInfo_v2(nvmlComputeInstance_t computeInstance,
                                                      nvmlComputeInstanceInfo_t *info)
{
    ENTER_CI(computeInstance);
    REQUIRE(info);
    info->device = d;
    info->gpuInstance = &g_gis[ci->gpu][ci->gi];
    info->id = ci->id;
    info->profileId = ci->profile;
    info->placement = (nvmlComputeInstancePlacement_t){ci->start, ci->size};
    LEAVE(NVML_SUCCESS);
}

/* ---- MIG device handles ----------------------------------------------------------------- */

static unsigned max_mig_devices(const sim_dev *d)
{
    return d->mig_current == NVML_DEVICE_MIG_ENABLE ? SIM_MAX_MIG_DEVICES : 0;
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, unsigned int *count)
{
    ENTER_PARENT(device);
    GEFORCE_UNSUPPORTED();
    REQUIRE(count);
    *count = max_mig_devices(d);
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t device, unsigned int index,
                                                            nvmlDevice_t *migDevice)
{
    ENTER_PARENT(device);
    GEFORCE_UNSUPPORTED();
    REQUIRE(migDevice);
    if (index >= max_mig_devices(d))
        LEAVE(NVML_ERROR_INVALID_ARGUMENT);
    /* MIG devices in (GPU instance id, compute instance id) order */
    unsigned k = 0;
    for (unsigned g = 0; g < SIM_MAX_GI; g++) {
        if (!g_gis[d->index][g].live)
            continue;
        for (unsigned c = 0; c < SIM_MAX_CI; c++) {
            if (g_cis[d->index][g][c].live && k++ == index) {
                *migDevice = (nvmlDevice_t)&g_migdevs[d->index][g][c];
                LEAVE(NVML_SUCCESS);
            }
        }
    }
    LEAVE(NVML_ERROR_NOT_FOUND);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetDeviceHandleFromMigDeviceHandle(nvmlDevice_t migDevice,
                                                                     nvmlDevice_t *device)
{
    ENTER_ANY(migDevice);
    REQUIRE(m && device);
    *device = d;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceIsMigDeviceHandle(nvmlDevice_t device, unsigned int *isMigDevice)
{
    ENTER_ANY(device);
    REQUIRE(isMigDevice);
    *isMigDevice = m != NULL;
    LEAVE(NVML_SUCCESS);
}

/* The GPU instance id (want_ci 0) or compute instance id (1) of a MIG device. */
static nvmlReturn_t mig_device_id(nvmlDevice_t device, unsigned *id, int want_ci)
{
    ENTER_ANY(device);
    if (!m)
        LEAVE(NVML_ERROR_NOT_SUPPORTED); /* not a MIG device */
    REQUIRE(id);
    *id = want_ci ? m->ci : m->gi;
    LEAVE(NVML_SUCCESS);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t device, unsigned int *id)
{
    return mig_device_id(device, id, 0);
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetComputeInstanceId(nvmlDevice_t device, unsigned int *id)
{
    return mig_device_id(device, id, 1);
}
