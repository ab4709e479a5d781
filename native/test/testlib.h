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

#endif /* NVML_SIM_TESTLIB_H */
