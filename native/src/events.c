/*
 * events.c: event sets (nvmlEventSetCreate / RegisterEvents / Wait / Free).
 *
 * Each set keeps a bounded FIFO (oldest events dropped when full, as a slow reader of the real
 * driver loses them) and a per-GPU mask of registered types. Injected events go to every set
 * that registered that type on that GPU; events with no registered set are dropped.
 * A waiter sleeps on a condition variable in slices of at most 20 ms so it can also poll the
 * control file; queued events are returned before GPU_IS_LOST is reported for a lost GPU.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define EVQ_CAP 256
#define WAIT_SLICE_MS 20

struct nvmlEventSet_st {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned long long mask[SIM_MAX_GPUS];
    nvmlEventData_t q[EVQ_CAP];
    unsigned head, len;
    struct nvmlEventSet_st *next;
};

static pthread_mutex_t g_ev_mu = PTHREAD_MUTEX_INITIALIZER;
static struct nvmlEventSet_st *g_sets;

unsigned long long sim_supported_events(const sim_dev *d)
{
    unsigned long long m = nvmlEventTypePState | nvmlEventTypeXidCriticalError | nvmlEventTypeClock;
    if (!d->spec.profile->geforce)
        m |= nvmlEventTypeSingleBitEccError | nvmlEventTypeDoubleBitEccError |
             nvmlEventMigConfigChange;
    return m;
}

void sim_events_deliver(unsigned gpu, unsigned long long type, unsigned long long data,
                        unsigned gi, unsigned ci)
{
    pthread_mutex_lock(&g_ev_mu);
    for (struct nvmlEventSet_st *s = g_sets; s; s = s->next) {
        pthread_mutex_lock(&s->mu);
        if (s->mask[gpu] & type) {
            if (s->len == EVQ_CAP) {
                s->head = (s->head + 1) % EVQ_CAP;
                s->len--;
            }
            nvmlEventData_t *e = &s->q[(s->head + s->len) % EVQ_CAP];
            e->device = &g_devs[gpu];
            e->eventType = type;
            e->eventData = data;
            e->gpuInstanceId = gi;      /* SIM_NO_INSTANCE: device-wide */
            e->computeInstanceId = ci;
            s->len++;
            pthread_cond_broadcast(&s->cv);
        }
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&g_ev_mu);
}

static int set_is_live(nvmlEventSet_t set)
{
    int found = 0;
    pthread_mutex_lock(&g_ev_mu);
    for (struct nvmlEventSet_st *s = g_sets; s && !found; s = s->next)
        found = s == set;
    pthread_mutex_unlock(&g_ev_mu);
    return found;
}

SIM_EXPORT nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t *set)
{
    if (atomic_load(&g_refcount) == 0)
        return NVML_ERROR_UNINITIALIZED;
    if (!set)
        return NVML_ERROR_INVALID_ARGUMENT;
    struct nvmlEventSet_st *s = calloc(1, sizeof(*s));
    if (!s)
        return NVML_ERROR_MEMORY;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_lock(&g_ev_mu);
    s->next = g_sets;
    g_sets = s;
    pthread_mutex_unlock(&g_ev_mu);
    *set = s;
    return NVML_SUCCESS;
}

SIM_EXPORT nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t set)
{
    if (atomic_load(&g_refcount) == 0)
        return NVML_ERROR_UNINITIALIZED;
    pthread_mutex_lock(&g_ev_mu);
    struct nvmlEventSet_st **pp = &g_sets;
    while (*pp && *pp != set)
        pp = &(*pp)->next;
    if (!*pp) {
        pthread_mutex_unlock(&g_ev_mu);
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    *pp = set->next;
    pthread_mutex_unlock(&g_ev_mu);
    pthread_cond_destroy(&set->cv);
    pthread_mutex_destroy(&set->mu);
    free(set);
    return NVML_SUCCESS;
}

SIM_EXPORT nvmlReturn_t nvmlDeviceGetSupportedEventTypes(nvmlDevice_t device,
                                                          unsigned long long *eventTypes)
{
    sim_dev *d;
    nvmlReturn_t r = sim_dev_enter(device, &d);
    if (r != NVML_SUCCESS)
        return r;
    if (eventTypes)
        *eventTypes = sim_supported_events(d);
    sim_dev_leave(d);
    return eventTypes ? NVML_SUCCESS : NVML_ERROR_INVALID_ARGUMENT;
}

SIM_EXPORT nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t device, unsigned long long eventTypes,
                                                  nvmlEventSet_t set)
{
    sim_dev *d;
    nvmlReturn_t r = sim_dev_enter(device, &d);
    if (r != NVML_SUCCESS)
        return r;
    unsigned long long supported = sim_supported_events(d);
    unsigned idx = d->index;
    sim_dev_leave(d);
    if (!set_is_live(set))
        return NVML_ERROR_INVALID_ARGUMENT;
    if (eventTypes & ~supported)
        return NVML_ERROR_NOT_SUPPORTED; /* as the driver: no partial registration */
    pthread_mutex_lock(&set->mu);
    set->mask[idx] |= eventTypes;
    pthread_mutex_unlock(&set->mu);
    return NVML_SUCCESS;
}

static nvmlReturn_t event_wait(nvmlEventSet_t set, nvmlEventData_t *out, unsigned int timeoutms)
{
    if (atomic_load(&g_refcount) == 0)
        return NVML_ERROR_UNINITIALIZED;
    if (!out || !set_is_live(set))
        return NVML_ERROR_INVALID_ARGUMENT;
    int64_t deadline = sim_now_ns() + (int64_t)timeoutms * 1000000LL;
    /* Without a control file nothing but a signal on the set can wake us: sleep the whole timeout,
     * as the real driver does in the kernel, instead of waking every slice. */
    int64_t slice_ns = sim_control_active() ? (int64_t)WAIT_SLICE_MS * 1000000LL : INT64_MAX / 4;
    for (;;) {
        sim_control_poll(0);
        pthread_mutex_lock(&set->mu);
        if (set->len > 0) {
            *out = set->q[set->head];
            set->head = (set->head + 1) % EVQ_CAP;
            set->len--;
            pthread_mutex_unlock(&set->mu);
            return NVML_SUCCESS;
        }
        for (int i = 0; i < g_ndev; i++) {
            if (set->mask[i] && atomic_load(&g_devs[i].lost)) {
                pthread_mutex_unlock(&set->mu);
                return NVML_ERROR_GPU_IS_LOST;
            }
        }
        int64_t now = sim_now_ns();
        if (now >= deadline) {
            pthread_mutex_unlock(&set->mu);
            return NVML_ERROR_TIMEOUT;
        }
        int64_t wake = now + slice_ns;
        if (wake > deadline)
            wake = deadline;
        struct timespec ts = {.tv_sec = wake / 1000000000LL, .tv_nsec = wake % 1000000000LL};
        pthread_cond_timedwait(&set->cv, &set->mu, &ts); /* releases set->mu while asleep */
        pthread_mutex_unlock(&set->mu);
    }
}

SIM_EXPORT nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t set, nvmlEventData_t *data,
                                             unsigned int timeoutms)
{
    return event_wait(set, data, timeoutms);
}

SIM_EXPORT nvmlReturn_t nvmlEventSetWait(nvmlEventSet_t set, nvmlEventDataV1_t *data,
                                          unsigned int timeoutms)
{
    if (!data)
        return atomic_load(&g_refcount) == 0 ? NVML_ERROR_UNINITIALIZED
                                              : NVML_ERROR_INVALID_ARGUMENT;
    nvmlEventData_t full;
    nvmlReturn_t r = event_wait(set, &full, timeoutms);
    if (r == NVML_SUCCESS) {
        /* The v1 struct ends before the MIG instance ids: write only its 24 bytes. */
        data->device = full.device;
        data->eventType = full.eventType;
        data->eventData = full.eventData;
    }
    return r;
}
