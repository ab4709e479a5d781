/*
 * testlib.h: the checks and scratch-file helpers the contract test programs share (each program
 * includes it once; everything is static).
 */
#ifndef NVML_SIM_TESTLIB_H
#define NVML_SIM_TESTLIB_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nvml_abi.h"

static int g_failures, g_checks;
static char g_dir[1024];
static int g_seq;

#define CHECK(cond)                                                              \
    do {                                                                         \
        g_checks++;                                                              \
        if (!(cond)) {                                                           \
            g_failures++;                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)
#define CHECK_RC(expr, want)                                                     \
    do {                                                                         \
        nvmlReturn_t got_ = (expr);                                              \
        g_checks++;                                                              \
        if (got_ != (nvmlReturn_t)(want)) {                                      \
            g_failures++;                                                        \
            fprintf(stderr, "%s:%d: %s returned %u (%s), want %u\n", __FILE__, __LINE__, \
                    #expr, got_, nvmlErrorString(got_), (unsigned)(want));       \
        }                                                                        \
    } while (0)
#define OK(expr) CHECK_RC(expr, NVML_SUCCESS)

static inline double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

/* Writes a machine file, points GPU_AGENT_SIM_CONFIG at it and a fresh, empty control file. */
static inline void use_machine(const char *text, char *ctl_out, size_t n)
{
    char path[1200], ctl[1200];
    g_seq++;
    snprintf(path, sizeof(path), "%s/machine-%d.conf", g_dir, g_seq);
    snprintf(ctl, sizeof(ctl), "%s/control-%d", g_dir, g_seq);
    write_file(path, text);
    write_file(ctl, "");
    setenv("GPU_AGENT_SIM_CONFIG", path, 1);
    setenv("GPU_AGENT_SIM_CONTROL", ctl, 1);
    if (ctl_out)
        snprintf(ctl_out, n, "%s", ctl);
}

static inline void control(const char *ctl, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    int fd = open(ctl, O_WRONLY | O_APPEND);
    if (fd < 0 || write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) != 1) {
        perror(ctl);
        exit(2);
    }
    close(fd);
}

/* stderr capture, to check the messages the library prints */
static int g_saved_stderr = -1;
static char g_capture_path[1200];

static inline void capture_start(void)
{
    snprintf(g_capture_path, sizeof(g_capture_path), "%s/stderr-%d.txt", g_dir, ++g_seq);
    fflush(stderr);
    g_saved_stderr = dup(2);
    int fd = open(g_capture_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
}

static inline void capture_stop(char *buf, size_t n)
{
    fflush(stderr);
    dup2(g_saved_stderr, 2);
    close(g_saved_stderr);
    FILE *f = fopen(g_capture_path, "r");
    size_t got = f ? fread(buf, 1, n - 1, f) : 0;
    buf[got] = '\0';
    if (f)
        fclose(f);
}

/* Init on machine file `text` must fail with NVML_ERROR_UNKNOWN and print a message that
 * contains `want`, preceded by the machine file's path when `after_path` is set. */
static inline void expect_config_error_msg(const char *text, int after_path, const char *want)
{
    char err[2048], full[1400];
    use_machine(text, NULL, 0);
    snprintf(full, sizeof(full), "%s%s", after_path ? getenv("GPU_AGENT_SIM_CONFIG") : "", want);
    capture_start();
    nvmlReturn_t r = nvmlInit_v2();
    capture_stop(err, sizeof(err));
    CHECK_RC(r, NVML_ERROR_UNKNOWN);
    if (!strstr(err, full)) {
        g_failures++;
        fprintf(stderr, "config error message lacks '%s':\n%s\n", full, err);
    }
    if (r == NVML_SUCCESS)
        nvmlShutdown();
}

typedef struct test_case {
    const char *name;
    void (*fn)(void);
} test_case;

/* main() of a test program: scratch files under argv[1], the control file re-read on every
 * call (deterministic), each test's line, then the totals; exit status 0 when all passed. */
static inline int run_tests(int argc, char **argv, const test_case *tests, size_t n)
{
    snprintf(g_dir, sizeof(g_dir), "%s", argc > 1 ? argv[1] : "/tmp/nvml-sim-test");
    mkdir(g_dir, 0755);
    setenv("GPU_AGENT_SIM_CONTROL_POLL_MS", "0", 1);
    for (size_t i = 0; i < n; i++) {
        int before = g_failures;
        double t0 = now_ms();
        tests[i].fn();
        printf("%-32s %s (%.0f ms)\n", tests[i].name, g_failures == before ? "ok" : "FAILED",
               now_ms() - t0);
    }
    printf("%d checks, %d failures\n", g_checks, g_failures);
    return g_failures == 0 ? 0 : 1;
}

#endif /* NVML_SIM_TESTLIB_H */
