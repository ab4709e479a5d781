/*
 * config.c: the machine file (path in GPU_AGENT_SIM_CONFIG), format documented in README.md.
 *
 *   # comment                       anything after '#' is ignored
 *   key = value                     top level: driver_version, nvml_version,
 *                                   cuda_driver_version, seed
 *                                   nvlink (none | nvswitch), numa_cpus
 *   [gpu]                           one section per GPU, in index order: profile (required),
 *                                   pci_bus, uuid, serial, load, mig, mig_reset_required,
 *                                   mig_instances, numa_node, pcie_switch, nvlink_bridge
 *   [faults]                        control commands applied at init (see control.c)
 *
 * Parsing is strict: an unknown key, section or value is an error naming the line.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define PCI_BUS_UNSET 0xffffffffU

static int fail(char *err, size_t errlen, const char *path, int line, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(err, errlen, "%s:%d: %s", path, line, msg);
    else
        snprintf(err, errlen, "%s: %s", path, msg);
    return -1;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* Parses a whole decimal or 0x-hex number in [min, max]. */
static int parse_ull(const char *s, unsigned long long min, unsigned long long max,
                     unsigned long long *out)
{
    if (*s == '\0' || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int valid_uuid(const char *s)
{
    /* GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, as real boards report (hex, any case). */
    static const char shape[] = "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (strlen(s) != sizeof(shape) - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'x' ? !isxdigit((unsigned char)s[i]) : s[i] != shape[i])
            return 0;
    }
    return 1;
}

static int set_top(sim_machine *m, const char *key, const char *val)
{
    unsigned long long v;
    if (strcmp(key, "driver_version") == 0) {
        if (strlen(val) >= sizeof(m->driver_version) || *val == '\0')
            return -1;
        strcpy(m->driver_version, val);
    } else if (strcmp(key, "nvml_version") == 0) {
        if (strlen(val) >= sizeof(m->nvml_version) || *val == '\0')
            return -1;
        strcpy(m->nvml_version, val);
    } else if (strcmp(key, "cuda_driver_version") == 0) {
        if (parse_ull(val, 1000, 999999, &v) != 0)
            return -1;
        m->cuda_driver_version = (int)v;
    } else if (strcmp(key, "seed") == 0) {
        if (parse_ull(val, 0, ~0ULL, &v) != 0)
            return -1;
        m->seed = v;
    } else if (strcmp(key, "nvlink") == 0) {
        if (strcmp(val, "nvswitch") == 0)
            m->nvlink = NVLINK_NVSWITCH;
        else if (strcmp(val, "none") == 0)
            m->nvlink = NVLINK_NONE;
        else
            return -1;
    } else if (strcmp(key, "numa_cpus") == 0) {
        if (parse_ull(val, 1, 1024, &v) != 0)
            return -1;
        m->numa_cpus = (unsigned)v;
    } else {
        return -2;
    }
    return 0;
}

static int parse_bool(const char *val, int *out)
{
    if (strcmp(val, "true") == 0)
        *out = 1;
    else if (strcmp(val, "false") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

static int set_gpu(sim_gpu_spec *g, const char *key, const char *val, char *why, size_t whylen)
{
    unsigned long long v;
    if (strcmp(key, "profile") == 0) {
        g->profile = sim_profile_find(val);
        if (!g->profile) {
            snprintf(why, whylen, "unknown profile '%s' (known: rtx-4090, rtx-3090, a100-80gb, "
                     "h100-80gb-hbm3, h200)", val);
            return -1;
        }
    } else if (strcmp(key, "pci_bus") == 0) {
        if (parse_ull(val, 0, 255, &v) != 0) {
            snprintf(why, whylen, "pci_bus must be a number 0..255 (0x18 or 24), got '%s'", val);
            return -1;
        }
        g->pci_bus = (unsigned)v;
    } else if (strcmp(key, "uuid") == 0) {
        if (!valid_uuid(val)) {
            snprintf(why, whylen, "uuid must look like GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, "
                     "got '%s'", val);
            return -1;
        }
        strcpy(g->uuid, val);
    } else if (strcmp(key, "serial") == 0) {
        size_t n = strlen(val);
        int ok = n > 0 && n < sizeof(g->serial);
        for (size_t i = 0; ok && i < n; i++)
            ok = isalnum((unsigned char)val[i]);
        if (!ok) {
            snprintf(why, whylen, "serial must be 1..29 letters or digits, got '%s'", val);
            return -1;
        }
        strcpy(g->serial, val);
    } else if (strcmp(key, "load") == 0) {
        if (parse_ull(val, 0, 100, &v) != 0) {
            snprintf(why, whylen, "load must be a percentage 0..100, got '%s'", val);
            return -1;
        }
        g->load = (int)v;
    } else if (strcmp(key, "mig") == 0) {
        if (strcmp(val, "enabled") == 0) {
            g->mig = 1;
        } else if (strcmp(val, "disabled") == 0) {
            g->mig = 0;
        } else {
            snprintf(why, whylen, "mig must be 'enabled' or 'disabled', got '%s'", val);
            return -1;
        }
    } else if (strcmp(key, "mig_reset_required") == 0) {
        if (parse_bool(val, &g->mig_reset_required) != 0) {
            snprintf(why, whylen, "mig_reset_required must be 'true' or 'false', got '%s'", val);
            return -1;
        }
    } else if (strcmp(key, "numa_node") == 0) {
        if (parse_ull(val, 0, 7, &v) != 0) {
            snprintf(why, whylen, "numa_node must be a number 0..7, got '%s'", val);
            return -1;
        }
        g->numa_node = (int)v;
    } else if (strcmp(key, "pcie_switch") == 0) {
        if (strcmp(val, "none") == 0) {
            g->pcie_switch = -1;
        } else if (parse_ull(val, 0, 255, &v) == 0) {
            g->pcie_switch = (int)v;
        } else {
            snprintf(why, whylen, "pcie_switch must be a switch number 0..255 or 'none', got '%s'",
                     val);
            return -1;
        }
    } else if (strcmp(key, "nvlink_bridge") == 0) {
        if (parse_ull(val, 0, SIM_MAX_GPUS - 1, &v) != 0) {
            snprintf(why, whylen, "nvlink_bridge must be the index of the peer GPU, got '%s'", val);
            return -1;
        }
        g->nvlink_bridge = (int)v;
    } else {
        snprintf(why, whylen, "unknown key '%s' in [gpu] (known: profile, pci_bus, uuid, serial, "
                 "load, mig, mig_reset_required, mig_instances, numa_node, pcie_switch, "
                 "nvlink_bridge)", key);
        return -1;
    }
    return 0;
}

/* "3g.40gb@4, 2g.20gb, 1g.10gb": profile names of the GPU's card, each with an optional
 * memory-slice placement; checked to fit together on an empty GPU. */
static int parse_mig_instances(sim_gpu_spec *g, const char *text, char *why, size_t whylen)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", text);
    g->n_init_gi = 0;
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        item = trim(item);
        if (*item == '\0')
            continue;
        if (g->n_init_gi == SIM_MIG_MEM_SLICES) {
            snprintf(why, whylen, "mig_instances lists more than %d instances", SIM_MIG_MEM_SLICES);
            return -1;
        }
        int start = -1;
        char *at = strchr(item, '@');
        if (at) {
            *at = '\0';
            unsigned long long v;
            if (parse_ull(trim(at + 1), 0, SIM_MIG_MEM_SLICES - 1, &v) != 0) {
                snprintf(why, whylen, "mig_instances: placement after '@' must be a memory slice "
                         "0..7, got '%s'", at + 1);
                return -1;
            }
            start = (int)v;
        }
        const sim_gi_profile *gp = sim_gi_profile_by_name(g->profile, trim(item));
        if (!gp) {
            char known[256] = "";
            for (int i = 0; i < g->profile->mig->n; i++) {
                strncat(known, i ? ", " : "", sizeof(known) - strlen(known) - 1);
                strncat(known, g->profile->mig->p[i].name, sizeof(known) - strlen(known) - 1);
            }
            snprintf(why, whylen, "mig_instances: %s has no MIG profile '%s' (known: %s)",
                     g->profile->key, trim(item), known);
            return -1;
        }
        g->init_gi[g->n_init_gi] = gp;
        g->init_start[g->n_init_gi++] = start;
    }
    char fit[160];
    if (sim_mig_plan(g->profile, g->n_init_gi, g->init_gi, g->init_start, fit, sizeof(fit)) != 0) {
        snprintf(why, whylen, "mig_instances: %s", fit);
        return -1;
    }
    return 0;
}

/* Fills the values the file left out, deterministically from the seed and the index. */
static void apply_defaults(sim_machine *m, int i)
{
    sim_gpu_spec *g = &m->gpus[i];
    unsigned long long h1 = sim_mix64(m->seed * 0x9E3779B97F4A7C15ULL + (unsigned long long)i + 1);
    unsigned long long h2 = sim_mix64(h1 ^ 0xD1B54A32D192ED03ULL);
    if (g->uuid[0] == '\0') {
        snprintf(g->uuid, sizeof(g->uuid), "GPU-%08llx-%04llx-%04llx-%04llx-%012llx",
                 h1 >> 32, (h1 >> 16) & 0xffff, h1 & 0xffff, h2 >> 48, h2 & 0xffffffffffffULL);
    }
    if (g->pci_bus == PCI_BUS_UNSET)
        g->pci_bus = (unsigned)(0x01 + i);
    if (g->profile->geforce) {
        g->serial[0] = '\0';
    } else if (g->serial[0] == '\0') {
        snprintf(g->serial, sizeof(g->serial), "%s%09llu", g->profile->serial_prefix,
                 h2 % 1000000000ULL);
    }
}

int sim_config_load(const char *path, sim_machine *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    strcpy(m->driver_version, "550.54.15");
    strcpy(m->nvml_version, "12.550.54.15");
    m->cuda_driver_version = 12040;
    m->numa_cpus = 32;

    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, errlen, path, 0, "cannot open machine file: %s", strerror(errno));

    enum { TOP, GPU, FAULTS } section = TOP;
    int mig_line[SIM_MAX_GPUS] = {0};
    int reset_line[SIM_MAX_GPUS] = {0};
    int bridge_line[SIM_MAX_GPUS] = {0};
    int inst_line[SIM_MAX_GPUS] = {0};
    static char inst_text[SIM_MAX_GPUS][512]; /* only touched under the init lock */
    char buf[1024];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(buf, sizeof(buf), f)) {
        lineno++;
        if (!strchr(buf, '\n') && !feof(f)) {
            rc = fail(err, errlen, path, lineno, "line longer than %zu characters", sizeof(buf) - 2);
            break;
        }
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        char *line = trim(buf);
        if (*line == '\0')
            continue;
        if (*line == '[') {
            if (strcmp(line, "[gpu]") == 0) {
                if (m->ngpus == SIM_MAX_GPUS) {
                    rc = fail(err, errlen, path, lineno, "more than %d GPUs", SIM_MAX_GPUS);
                    break;
                }
                sim_gpu_spec *g = &m->gpus[m->ngpus++];
                g->pci_bus = PCI_BUS_UNSET;
                g->pcie_switch = -1;
                g->nvlink_bridge = -1;
                section = GPU;
            } else if (strcmp(line, "[faults]") == 0) {
                section = FAULTS;
            } else {
                rc = fail(err, errlen, path, lineno, "unknown section '%s' (known: [gpu], [faults])",
                          line);
            }
            continue;
        }
        if (section == FAULTS) {
            sim_cmd cmd;
            char why[160];
            if (sim_cmd_parse(line, &cmd, why, sizeof(why)) != 0) {
                rc = fail(err, errlen, path, lineno, "%s", why);
            } else if (m->nfaults == SIM_MAX_FAULT_LINES) {
                rc = fail(err, errlen, path, lineno, "more than %d fault lines", SIM_MAX_FAULT_LINES);
            } else {
                snprintf(m->faults[m->nfaults], sizeof(m->faults[0]), "%s", line);
                m->fault_lines[m->nfaults++] = lineno;
            }
            continue;
        }
        char *eq = strchr(line, '=');
        if (!eq) {
            rc = fail(err, errlen, path, lineno, "expected 'key = value', got '%s'", line);
            break;
        }
        *eq = '\0';
        char *key = trim(line), *val = trim(eq + 1);
        if (section == TOP) {
            int r = set_top(m, key, val);
            if (r == -2)
                rc = fail(err, errlen, path, lineno, "unknown key '%s' (known: driver_version, "
                          "nvml_version, cuda_driver_version, seed, nvlink, numa_cpus; GPUs go in "
                          "[gpu] sections)", key);
            else if (r != 0)
                rc = fail(err, errlen, path, lineno, "invalid value '%s' for %s", val, key);
        } else if (strcmp(key, "mig_instances") == 0) {
            /* checked once the whole section (and so the profile) is known */
            snprintf(inst_text[m->ngpus - 1], sizeof(inst_text[0]), "%s", val);
            inst_line[m->ngpus - 1] = lineno;
        } else {
            char why[300];
            int gi = m->ngpus - 1;
            if (set_gpu(&m->gpus[gi], key, val, why, sizeof(why)) != 0)
                rc = fail(err, errlen, path, lineno, "%s", why);
            else if (strcmp(key, "mig") == 0)
                mig_line[gi] = lineno;
            else if (strcmp(key, "mig_reset_required") == 0)
                reset_line[gi] = lineno;
            else if (strcmp(key, "nvlink_bridge") == 0)
                bridge_line[gi] = lineno;
        }
    }
    if (rc == 0 && ferror(f))
        rc = fail(err, errlen, path, 0, "read error: %s", strerror(errno));
    fclose(f);
    if (rc != 0)
        return rc;

    for (int i = 0; i < m->ngpus; i++) {
        sim_gpu_spec *g = &m->gpus[i];
        if (!g->profile)
            return fail(err, errlen, path, 0, "[gpu] number %d (index %d) has no profile", i + 1, i);
        if (!g->profile->mig && (mig_line[i] || reset_line[i] || inst_line[i])) {
            int l = mig_line[i] ? mig_line[i] : (reset_line[i] ? reset_line[i] : inst_line[i]);
            return fail(err, errlen, path, l, "mig is not supported on profile %s", g->profile->key);
        }
        if (inst_line[i]) {
            char why[400];
            if (!g->mig)
                return fail(err, errlen, path, inst_line[i], "mig_instances needs mig = enabled");
            if (parse_mig_instances(g, inst_text[i], why, sizeof(why)) != 0)
                return fail(err, errlen, path, inst_line[i], "%s", why);
        }
        if (bridge_line[i]) {
            int peer = g->nvlink_bridge;
            if (!g->profile->bridge)
                return fail(err, errlen, path, bridge_line[i], "profile %s takes no NVLink bridge",
                            g->profile->key);
            if (peer == i || peer >= m->ngpus || m->gpus[peer].nvlink_bridge != i ||
                m->gpus[peer].profile != g->profile)
                return fail(err, errlen, path, bridge_line[i], "nvlink_bridge = %d: the peer must "
                            "be another GPU of the same profile whose nvlink_bridge names GPU %d",
                            peer, i);
        }
        if (m->nvlink == NVLINK_NVSWITCH && g->profile->sxm &&
            g->pci_bus >= 0x05 && g->pci_bus < 0x05 + sim_nvswitch_count(g->profile))
            return fail(err, errlen, path, 0, "GPU %d: pci_bus 0x%02x is an NVSwitch's (0x05..)",
                        i, g->pci_bus);
        apply_defaults(m, i);
        for (int j = 0; j < i; j++) {
            if (m->gpus[j].pci_bus == g->pci_bus)
                return fail(err, errlen, path, 0, "GPUs %d and %d share pci_bus 0x%02x", j, i,
                            g->pci_bus);
            if (strcasecmp(m->gpus[j].uuid, g->uuid) == 0)
                return fail(err, errlen, path, 0, "GPUs %d and %d share uuid %s", j, i, g->uuid);
        }
    }
    for (int k = 0; k < m->nfaults; k++) {
        sim_cmd cmd;
        char why[160];
        sim_cmd_parse(m->faults[k], &cmd, why, sizeof(why));
        if (cmd.gpu >= m->ngpus)
            return fail(err, errlen, path, m->fault_lines[k], "GPU index %d out of range (%d GPUs)",
                        cmd.gpu, m->ngpus);
    }
    return 0;
}
