/*
 * config.c: the machine file (path in GPU_AGENT_SIM_CONFIG), format documented in README.md.
 *
 *   # comment                       anything after '#' is ignored
 *   key = value                     top level: driver_version, nvml_version,
 *                                   cuda_driver_version, seed
 *   [gpu]                           one section per GPU, in index order: profile (required),
 *                                   pci_bus, uuid, serial, load, mig
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
    } else {
        return -2;
    }
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
    } else {
        snprintf(why, whylen, "unknown key '%s' in [gpu] (known: profile, pci_bus, uuid, serial, "
                 "load, mig)", key);
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

    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, errlen, path, 0, "cannot open machine file: %s", strerror(errno));

    enum { TOP, GPU, FAULTS } section = TOP;
    int mig_line[SIM_MAX_GPUS] = {0};
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
                          "nvml_version, cuda_driver_version, seed; GPUs go in [gpu] sections)", key);
            else if (r != 0)
                rc = fail(err, errlen, path, lineno, "invalid value '%s' for %s", val, key);
        } else {
            char why[200];
            if (set_gpu(&m->gpus[m->ngpus - 1], key, val, why, sizeof(why)) != 0)
                rc = fail(err, errlen, path, lineno, "%s", why);
            else if (strcmp(key, "mig") == 0)
                mig_line[m->ngpus - 1] = lineno;
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
        if (g->profile->geforce && mig_line[i])
            return fail(err, errlen, path, mig_line[i], "mig is not supported on profile %s",
                        g->profile->key);
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
