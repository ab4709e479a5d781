/*
 * control.c: fault-injection commands and the append-only control file.
 *
 * The control file (path in GPU_AGENT_SIM_CONTROL) is only ever appended to by the test or
 * operator driving the simulation. Any NVML call, and every event-wait and hang loop, checks
 * it at most every GPU_AGENT_SIM_CONTROL_POLL_MS (default 50 ms); when its size or mtime
 * changed, each new complete line ('\n'-terminated) is executed exactly once, in order. A file
 * that shrank or was replaced (other inode) is read again from its start. The read position
 * survives nvmlShutdown/nvmlInit within one process, so a line never runs twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim.h"

atomic_uint g_init_fault = NVML_SUCCESS;

static pthread_mutex_t g_ctl_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_ctl_path[4096];
static int64_t g_poll_ns = 50 * 1000000LL;
static _Atomic int64_t g_last_poll_ns = 0;
/* What has been consumed so far (guarded by g_ctl_mu). */
static off_t g_ctl_offset;
static long g_ctl_lineno;
static dev_t g_ctl_dev;
static ino_t g_ctl_ino;
static off_t g_ctl_seen_size = -1;
static struct timespec g_ctl_seen_mtime;

static int parse_int(const char *s, long long min, long long max, long long *out)
{
    if (!s || *s == '\0')
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 0);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

struct cmd_def {
    const char *name;
    enum sim_cmd_kind kind;
    int nargs;           /* including the GPU index when takes_gpu */
    int takes_gpu;
    const char *usage;
};

static const struct cmd_def CMDS[] = {
    {"init", CMD_INIT, 1, 0, "init driver_mismatch|no_driver|ok"},
    {"lost", CMD_LOST, 1, 1, "lost <gpu>"},
    {"recover", CMD_RECOVER, 1, 1, "recover <gpu>"},
    {"xid", CMD_XID, 2, 1, "xid <gpu> <xid> [gi <id> [ci <id>]]"},
    {"reset", CMD_RESET, 1, 1, "reset <gpu>"},
    {"sbe", CMD_SBE, 1, 1, "sbe <gpu>"},
    {"dbe", CMD_DBE, 1, 1, "dbe <gpu>"},
    {"hang", CMD_HANG, 2, 1, "hang <gpu> <ms>|forever"},
    {"unhang", CMD_UNHANG, 1, 1, "unhang <gpu>"},
    {"insufficient_size", CMD_INSUFFICIENT_SIZE, 2, 1, "insufficient_size <gpu> <calls>"},
    {"stride32", CMD_STRIDE32, 1, 0, "stride32 on|off"},
    {"process", CMD_PROCESS, 3, 1, "process <gpu> <pid> <bytes>"},
    {"process_clear", CMD_PROCESS_CLEAR, 1, 1, "process_clear <gpu>"},
    {"load", CMD_LOAD, 2, 1, "load <gpu> <percent>"},
};

int sim_cmd_parse(const char *line, sim_cmd *out, char *err, size_t errlen)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", line);
    char *hash = strchr(buf, '#');
    if (hash)
        *hash = '\0';
    char *tok[8];
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
        if (n == 8) {
            snprintf(err, errlen, "too many words");
            return -1;
        }
        tok[n++] = t;
    }
    if (n == 0) {
        snprintf(err, errlen, "empty command");
        return -1;
    }
    const struct cmd_def *def = NULL;
    for (size_t i = 0; i < sizeof(CMDS) / sizeof(CMDS[0]); i++) {
        if (strcmp(CMDS[i].name, tok[0]) == 0)
            def = &CMDS[i];
    }
    if (!def) {
        snprintf(err, errlen, "unknown command '%s'", tok[0]);
        return -1;
    }
    /* xid takes an optional instance scope: "gi <id>" and then "ci <id>" */
    int extra = 0;
    if (def->kind == CMD_XID && (n == 5 || n == 7))
        extra = n - 3;
    if (n - 1 - extra != def->nargs) {
        snprintf(err, errlen, "usage: %s", def->usage);
        return -1;
    }
    memset(out, 0, sizeof(*out));
    out->kind = def->kind;
    out->gpu = -1;
    out->gi = out->ci = -1;
    long long v;
    int argi = 1;
    if (def->takes_gpu) {
        if (parse_int(tok[1], 0, SIM_MAX_GPUS - 1, &v) != 0) {
            snprintf(err, errlen, "bad GPU index '%s'; usage: %s", tok[1], def->usage);
            return -1;
        }
        out->gpu = (int)v;
        argi = 2;
    }
    const char *a = argi < n ? tok[argi] : NULL;
    const char *b = argi + 1 < n ? tok[argi + 1] : NULL;
    int ok = 1;
    switch (def->kind) {
    case CMD_INIT:
        if (strcmp(a, "driver_mismatch") == 0)
            out->a = NVML_ERROR_LIB_RM_VERSION_MISMATCH;
        else if (strcmp(a, "no_driver") == 0)
            out->a = NVML_ERROR_DRIVER_NOT_LOADED;
        else if (strcmp(a, "ok") == 0)
            out->a = NVML_SUCCESS;
        else
            ok = 0;
        break;
    case CMD_XID:
        ok = parse_int(a, 0, 0xffffffffLL, &out->a) == 0;
        if (ok && extra >= 2)
            ok = strcmp(tok[3], "gi") == 0 && parse_int(tok[4], 0, SIM_MAX_GI - 1, &out->gi) == 0;
        if (ok && extra == 4)
            ok = strcmp(tok[5], "ci") == 0 && parse_int(tok[6], 0, SIM_MAX_CI - 1, &out->ci) == 0;
        break;
    case CMD_HANG:
        if (strcmp(a, "forever") == 0)
            out->a = -1;
        else
            ok = parse_int(a, 0, 24LL * 3600 * 1000, &out->a) == 0;
        break;
    case CMD_INSUFFICIENT_SIZE:
        ok = parse_int(a, 0, 1000000, &out->a) == 0;
        break;
    case CMD_STRIDE32:
        if (strcmp(a, "on") == 0)
            out->a = 1;
        else if (strcmp(a, "off") == 0)
            out->a = 0;
        else
            ok = 0;
        break;
    case CMD_PROCESS:
        ok = parse_int(a, 1, 0xffffffffLL, &out->a) == 0 &&
             parse_int(b, 0, (long long)1 << 50, &out->b) == 0;
        break;
    case CMD_LOAD:
        ok = parse_int(a, 0, 100, &out->a) == 0;
        break;
    default:
        break;
    }
    if (!ok) {
        snprintf(err, errlen, "bad argument; usage: %s", def->usage);
        return -1;
    }
    return 0;
}

int sim_cmd_exec(const sim_cmd *c, char *err, size_t errlen)
{
    if (c->kind == CMD_INIT) {
        atomic_store(&g_init_fault, (unsigned)c->a);
        return 0;
    }
    if (c->kind == CMD_STRIDE32) {
        atomic_store(&g_stride32, (int)c->a);
        return 0;
    }
    if (c->gpu < 0 || c->gpu >= g_ndev) {
        snprintf(err, errlen, "GPU index %d out of range (%d GPUs)", c->gpu, g_ndev);
        return -1;
    }
    sim_dev *d = &g_devs[c->gpu];
    switch (c->kind) {
    case CMD_LOST:
        atomic_store(&d->lost, 1);
        break;
    case CMD_RECOVER:
        atomic_store(&d->lost, 0);
        break;
    case CMD_XID: {
        if (c->gi >= 0) {
            /* scoped to an instance that exists now, as the driver only reports live ones */
            pthread_mutex_lock(&d->mu);
            int live = g_gis[d->index][c->gi].live &&
                       (c->ci < 0 || g_cis[d->index][c->gi][c->ci].live);
            pthread_mutex_unlock(&d->mu);
            if (!live) {
                snprintf(err, errlen, "GPU %d has no GPU instance %lld%s", c->gpu, c->gi,
                         c->ci >= 0 ? " with that compute instance" : "");
                return -1;
            }
        }
        sim_events_deliver(d->index, nvmlEventTypeXidCriticalError, (unsigned long long)c->a,
                           c->gi >= 0 ? (unsigned)c->gi : SIM_NO_INSTANCE,
                           c->ci >= 0 ? (unsigned)c->ci : SIM_NO_INSTANCE);
        break;
    }
    case CMD_RESET:
        pthread_mutex_lock(&d->mu);
        /* A GPU reset ends its processes, clears volatile ECC counts, applies pending row
         * remaps and a pending MIG mode, and destroys its MIG instances. */
        d->nprocs = 0;
        d->ecc_sbe_vol = d->ecc_dbe_vol = 0;
        d->remap_pending = 0;
        sim_mig_reset(d);
        pthread_mutex_unlock(&d->mu);
        break;
    case CMD_SBE:
    case CMD_DBE:
        if (d->spec.profile->geforce) {
            snprintf(err, errlen, "GPU %d (%s) has no ECC memory", c->gpu, d->spec.profile->key);
            return -1;
        }
        pthread_mutex_lock(&d->mu);
        if (c->kind == CMD_SBE) {
            d->ecc_sbe_vol++;
            d->ecc_sbe_agg++;
        } else {
            /* An uncorrectable error gets its row remapped at the next GPU reset. */
            d->ecc_dbe_vol++;
            d->ecc_dbe_agg++;
            d->remapped_unc++;
            d->remap_pending = 1;
        }
        pthread_mutex_unlock(&d->mu);
        sim_events_deliver(d->index, c->kind == CMD_SBE ? nvmlEventTypeSingleBitEccError
                                                         : nvmlEventTypeDoubleBitEccError, 0,
                           SIM_NO_INSTANCE, SIM_NO_INSTANCE);
        break;
    case CMD_HANG:
        atomic_store(&d->hang_until_ns, c->a < 0 ? SIM_HANG_FOREVER
                                                 : sim_now_ns() + c->a * 1000000LL);
        break;
    case CMD_UNHANG:
        atomic_store(&d->hang_until_ns, SIM_HANG_NONE);
        break;
    case CMD_INSUFFICIENT_SIZE:
        pthread_mutex_lock(&d->mu);
        d->insufficient_left = (int)c->a;
        pthread_mutex_unlock(&d->mu);
        break;
    case CMD_PROCESS: {
        pthread_mutex_lock(&d->mu);
        int i = 0;
        while (i < d->nprocs && d->procs[i].pid != (unsigned)c->a)
            i++;
        int full = i == d->nprocs && d->nprocs == SIM_MAX_PROCS;
        if (!full) {
            d->procs[i].pid = (unsigned)c->a;
            d->procs[i].bytes = (unsigned long long)c->b;
            if (i == d->nprocs)
                d->nprocs++;
        }
        pthread_mutex_unlock(&d->mu);
        if (full) {
            snprintf(err, errlen, "GPU %d already has %d processes", c->gpu, SIM_MAX_PROCS);
            return -1;
        }
        break;
    }
    case CMD_PROCESS_CLEAR:
        pthread_mutex_lock(&d->mu);
        d->nprocs = 0;
        pthread_mutex_unlock(&d->mu);
        break;
    case CMD_LOAD:
        pthread_mutex_lock(&d->mu);
        sim_energy_advance(d, sim_seconds_since_init()); /* bill the old load up to now */
        d->load = (int)c->a;
        pthread_mutex_unlock(&d->mu);
        break;
    default:
        break;
    }
    return 0;
}

void sim_control_configure(void)
{
    pthread_mutex_lock(&g_ctl_mu);
    const char *p = getenv("GPU_AGENT_SIM_CONTROL");
    if (!p)
        p = "";
    if (strcmp(p, g_ctl_path) != 0) {
        snprintf(g_ctl_path, sizeof(g_ctl_path), "%s", p);
        g_ctl_offset = 0;
        g_ctl_lineno = 0;
        g_ctl_seen_size = -1;
        g_ctl_ino = 0;
        g_ctl_dev = 0;
    }
    const char *ms = getenv("GPU_AGENT_SIM_CONTROL_POLL_MS");
    g_poll_ns = 50 * 1000000LL;
    if (ms && *ms) {
        char *end;
        long v = strtol(ms, &end, 10);
        if (*end == '\0' && v >= 0 && v <= 60000)
            g_poll_ns = v * 1000000LL;
        else
            fprintf(stderr, "nvml-sim: ignoring GPU_AGENT_SIM_CONTROL_POLL_MS='%s' (want 0..60000)\n",
                    ms);
    }
    atomic_store(&g_last_poll_ns, 0);
    pthread_mutex_unlock(&g_ctl_mu);
}

static void run_line(char *line)
{
    g_ctl_lineno++;
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
        line[--n] = '\0';
    char *s = line;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0')
        return;
    sim_cmd cmd;
    char why[200];
    if (sim_cmd_parse(s, &cmd, why, sizeof(why)) != 0 || sim_cmd_exec(&cmd, why, sizeof(why)) != 0)
        fprintf(stderr, "nvml-sim: %s:%ld: %s (line ignored)\n", g_ctl_path, g_ctl_lineno, why);
}

/* Reads and runs the new complete lines; caller holds g_ctl_mu. */
static void read_new_lines(void)
{
    struct stat st;
    if (g_ctl_path[0] == '\0' || stat(g_ctl_path, &st) != 0)
        return; /* not created yet: nothing to do */
    if (st.st_ino != g_ctl_ino || st.st_dev != g_ctl_dev || st.st_size < g_ctl_offset) {
        g_ctl_ino = st.st_ino;
        g_ctl_dev = st.st_dev;
        g_ctl_offset = 0;
        g_ctl_lineno = 0;
        g_ctl_seen_size = -1;
    }
    if (st.st_size == g_ctl_seen_size && st.st_mtim.tv_sec == g_ctl_seen_mtime.tv_sec &&
        st.st_mtim.tv_nsec == g_ctl_seen_mtime.tv_nsec)
        return;
    int fd = open(g_ctl_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[8192];
    char line[512];
    size_t linelen = 0;
    off_t pos = g_ctl_offset;
    ssize_t got;
    while ((got = pread(fd, buf, sizeof(buf), pos)) > 0) {
        for (ssize_t i = 0; i < got; i++) {
            if (buf[i] == '\n') {
                line[linelen < sizeof(line) ? linelen : sizeof(line) - 1] = '\0';
                g_ctl_offset = pos + i + 1;
                run_line(line);
                linelen = 0;
            } else if (linelen < sizeof(line) - 1) {
                line[linelen++] = buf[i];
            }
        }
        pos += got;
    }
    close(fd);
    /* A trailing partial line stays unread until its '\n' arrives. */
    g_ctl_seen_size = st.st_size;
    g_ctl_seen_mtime = st.st_mtim;
}

int sim_control_active(void)
{
    pthread_mutex_lock(&g_ctl_mu);
    int active = g_ctl_path[0] != '\0';
    pthread_mutex_unlock(&g_ctl_mu);
    return active;
}

void sim_control_poll(int force)
{
    int64_t now = sim_now_ns();
    if (!force && now - atomic_load(&g_last_poll_ns) < g_poll_ns)
        return;
    atomic_store(&g_last_poll_ns, now);
    pthread_mutex_lock(&g_ctl_mu);
    read_new_lines();
    pthread_mutex_unlock(&g_ctl_mu);
}

/* Used by init, which must hold g_ctl_mu while it replaces the device table. */
void sim_control_lock(void)
{
    pthread_mutex_lock(&g_ctl_mu);
}

void sim_control_unlock(void)
{
    pthread_mutex_unlock(&g_ctl_mu);
}

void sim_control_poll_locked(void)
{
    atomic_store(&g_last_poll_ns, sim_now_ns());
    read_new_lines();
}
