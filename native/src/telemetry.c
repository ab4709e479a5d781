/*
 * telemetry.c: the time-varying readings, a pure function of (seed, GPU, configured load,
 * simulated processes, seconds since init).
 *
 *   utilization  0 when load is 0; otherwise load plus two slow sine waves (+-5 and +-2
 *                points, periods 30 s and 7.3 s, phase from seed and index), clamped 0..100
 *   power        idle + (97 % of the limit - idle) * utilization, +-2 % ripple
 *   temperature  idle (profile + 0..4 C per GPU) + 45 C * (power above idle / headroom)
 *   clocks       idle clocks at 0 % utilization; else 70 %..100 % of max with utilization
 *   energy       the integral of power over time (trapezoids of at most 250 ms)
 */
#include <math.h>

#include "sim.h"

#define TWO_PI 6.283185307179586

static unsigned clamp_u(double v, double lo, double hi)
{
    if (v < lo)
        v = lo;
    if (v > hi)
        v = hi;
    return (unsigned)lround(v);
}

static double utilization(const sim_dev *d, double t)
{
    if (d->load <= 0)
        return 0.0;
    double u = d->load + 5.0 * sin(TWO_PI * t / 30.0 + d->phase) +
               2.0 * sin(TWO_PI * t / 7.3 + 2.0 * d->phase);
    return u < 1.0 ? 1.0 : (u > 100.0 ? 100.0 : u); /* a loaded GPU never reads 0 % */
}

static double power_mw(const sim_dev *d, double util, double t)
{
    const sim_profile *p = d->spec.profile;
    double idle = p->power_idle_mw;
    double busy = 0.97 * p->power_default_mw;
    double w = idle + (busy - idle) * util / 100.0;
    return w * (1.0 + 0.02 * sin(TWO_PI * t / 11.0 + 3.0 * d->phase));
}

void sim_sample_at(const sim_dev *d, double t, sim_sample *s)
{
    const sim_profile *p = d->spec.profile;
    double util = utilization(d, t);
    double pw = power_mw(d, util, t);
    double limit = p->power_default_mw;
    double headroom = 0.97 * limit - p->power_idle_mw;
    double heat = (pw - p->power_idle_mw) / headroom;

    s->util_gpu = clamp_u(util, 0, 100);
    s->util_mem = clamp_u(util * 0.55, 0, 100);
    s->power_mw = clamp_u(pw, 0, p->power_max_mw);
    s->temp_c = clamp_u(d->idle_temp_c + 45.0 * heat, d->idle_temp_c - 1, 95);
    s->mem_temp_c = s->temp_c + 4;
    if (s->util_gpu == 0) {
        s->sm_mhz = p->sm_idle_mhz;
        s->mem_mhz = p->mem_idle_mhz;
        s->video_mhz = p->video_idle_mhz;
        s->pstate = p->geforce ? NVML_PSTATE_8 : NVML_PSTATE_0;
        s->pcie_gen = p->geforce ? 1 : p->pcie_gen; /* GeForce links drop to gen1 when idle */
    } else {
        double f = 0.70 + 0.30 * util / 100.0;
        s->sm_mhz = clamp_u(p->sm_max_mhz * f, p->sm_idle_mhz, p->sm_max_mhz);
        s->mem_mhz = p->mem_max_mhz;
        s->video_mhz = clamp_u(p->video_max_mhz * f, p->video_idle_mhz, p->video_max_mhz);
        s->pstate = p->geforce ? NVML_PSTATE_2 : NVML_PSTATE_0; /* CUDA work runs GeForce in P2 */
        s->pcie_gen = p->pcie_gen;
    }
    s->fan_pct = p->fans ? clamp_u(30.0 + (s->temp_c - 40.0) * 1.4, 30, 100) : 0;

    /* Rough usable link bandwidth in KB/s: ~985 MB/s per lane at gen3, doubling per gen. */
    double link_kbs = 985000.0 * p->pcie_width * (double)(1u << (p->pcie_gen - 3));
    s->pcie_tx_kbs = clamp_u(link_kbs * 0.12 * util / 100.0, 0, 4e9);
    s->pcie_rx_kbs = clamp_u(link_kbs * 0.20 * util / 100.0, 0, 4e9);

    s->clock_reasons = nvmlClocksEventReasonNone;
    if (s->util_gpu == 0)
        s->clock_reasons |= nvmlClocksEventReasonGpuIdle;
    if (pw >= 0.95 * limit)
        s->clock_reasons |= nvmlClocksEventReasonSwPowerCap;

    const unsigned long long mib = 1024ULL * 1024ULL;
    s->mem_total = (unsigned long long)p->mem_mib * mib;
    s->mem_reserved = (unsigned long long)p->reserved_mib * mib;
    unsigned long long used = (unsigned long long)p->driver_used_mib * mib;
    for (int i = 0; i < d->nprocs; i++)
        used += d->procs[i].bytes;
    if (used > s->mem_total - s->mem_reserved)
        used = s->mem_total - s->mem_reserved;
    s->mem_used = used;
    s->mem_free = s->mem_total - s->mem_reserved - used;
}

void sim_energy_advance(sim_dev *d, double t)
{
    if (t <= d->energy_t)
        return;
    double span = t - d->energy_t;
    int steps = (int)ceil(span / 0.25);
    if (steps > 100000)
        steps = 100000; /* long gaps: coarser trapezoids, still monotonic */
    double dt = span / steps;
    double t0 = d->energy_t;
    double p0 = power_mw(d, utilization(d, t0), t0);
    for (int i = 1; i <= steps; i++) {
        double t1 = d->energy_t + dt * i;
        double p1 = power_mw(d, utilization(d, t1), t1);
        d->energy_mj += (p0 + p1) / 2.0 * dt; /* mW * s = mJ */
        p0 = p1;
    }
    d->energy_t = t;
}
