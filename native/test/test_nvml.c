/*
 * test_nvml: contract tests of the simulated NVML library, linked against it like any C
 * client built with nvml.h. Each test writes its own machine file (and control file) into the
 * scratch directory given as argv[1], then drives the library through the public API only.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nvml_abi.h"
#include "testlib.h"

static const char *MIXED =
    "# one GPU of each profile\n"
    "seed = 7\n"
    "[gpu]\nprofile = rtx-4090\npci_bus = 0x01\n"
    "[gpu]\nprofile = rtx-3090\npci_bus = 0x21\nload = 50\n"
    "[gpu]\nprofile = a100-80gb\npci_bus = 0x41\nserial = 1323021000417\n"
    "[gpu]\nprofile = h100-80gb-hbm3\npci_bus = 0x18\nload = 100\n"
    "uuid = GPU-11111111-2222-3333-4444-555555555555\n"
    "[gpu]\nprofile = h200\npci_bus = 0xdb\nmig = enabled\n";

/* ---- tests -------------------------------------------------------------------------------- */

static void test_struct_sizes(void)
{
    CHECK(sizeof(nvmlPciInfo_t) == 68);
    CHECK(sizeof(nvmlMemory_t) == 24);
    CHECK(sizeof(nvmlMemory_v2_t) == 40);
    CHECK(sizeof(nvmlUtilization_t) == 8);
    CHECK(sizeof(nvmlProcessInfo_v1_t) == 16);
    CHECK(sizeof(nvmlProcessInfo_t) == 24);
    CHECK(sizeof(nvmlEventData_t) == 32);
    CHECK(sizeof(nvmlFieldValue_t) == 40);
    CHECK(nvmlMemory_v2 == 0x02000028U);
}

static void test_before_init_and_error_strings(void)
{
    unsigned n;
    nvmlDevice_t d;
    char buf[80];
    CHECK_RC(nvmlDeviceGetCount_v2(&n), NVML_ERROR_UNINITIALIZED);
    CHECK_RC(nvmlDeviceGetHandleByIndex_v2(0, &d), NVML_ERROR_UNINITIALIZED);
    CHECK_RC(nvmlSystemGetDriverVersion(buf, sizeof(buf)), NVML_ERROR_UNINITIALIZED);
    CHECK_RC(nvmlShutdown(), NVML_ERROR_UNINITIALIZED);
    nvmlEventSet_t set;
    CHECK_RC(nvmlEventSetCreate(&set), NVML_ERROR_UNINITIALIZED);
    CHECK(strcmp(nvmlErrorString(NVML_SUCCESS), "Success") == 0);
    CHECK(strcmp(nvmlErrorString(NVML_ERROR_GPU_IS_LOST), "GPU is lost") == 0);
    CHECK(strcmp(nvmlErrorString(NVML_ERROR_LIB_RM_VERSION_MISMATCH),
                 "Driver/library version mismatch") == 0);
    CHECK(strcmp(nvmlErrorString(12345), "Unknown Error") == 0);
}

static void test_missing_env(void)
{
    char err[2048];
    unsetenv("GPU_AGENT_SIM_CONFIG");
    capture_start();
    nvmlReturn_t r = nvmlInit_v2();
    capture_stop(err, sizeof(err));
    CHECK_RC(r, NVML_ERROR_DRIVER_NOT_LOADED);
    CHECK(strstr(err, "GPU_AGENT_SIM_CONFIG") != NULL);
    unsigned n;
    CHECK_RC(nvmlDeviceGetCount_v2(&n), NVML_ERROR_UNINITIALIZED);
}

/* The message must name the machine file, then `want_in_message`. */
static void expect_config_error(const char *text, const char *want_in_message)
{
    expect_config_error_msg(text, 1, want_in_message);
}

static void test_bad_config(void)
{
    expect_config_error("seed = 1\n[gpu]\nprofle = h200\n", ":3: unknown key 'profle'");
    expect_config_error("[gpu]\nprofile = h100\n", ":2: unknown profile 'h100'");
    expect_config_error("[gpu]\nprofile = rtx-4090\nmig = enabled\n", ":3: mig is not supported");
    expect_config_error("[gpu]\nprofile = h200\nload = 120\n", ":3: load must be");
    expect_config_error("[gpu]\nprofile = h200\n[faults]\nexplode 0\n", ":4: unknown command");
    expect_config_error("[gpu]\nprofile = h200\n[faults]\nlost 3\n", ":4: GPU index 3 out of range");
    expect_config_error("[gpu]\nprofile = h200\npci_bus = 0x18\n[gpu]\nprofile = h200\npci_bus = 24\n",
                        ": GPUs 0 and 1 share pci_bus 0x18");
    expect_config_error("bogus line\n", ":1: expected 'key = value'");
    /* A file that does not exist is reported with its name too. */
    char err[2048];
    char missing[1200];
    snprintf(missing, sizeof(missing), "%s/no-such-machine.conf", g_dir);
    setenv("GPU_AGENT_SIM_CONFIG", missing, 1);
    capture_start();
    nvmlReturn_t r = nvmlInit_v2();
    capture_stop(err, sizeof(err));
    CHECK_RC(r, NVML_ERROR_UNKNOWN);
    CHECK(strstr(err, missing) != NULL);
}

static void test_refcount(void)
{
    unsigned n = 99;
    use_machine("[gpu]\nprofile = rtx-4090\n", NULL, 0);
    OK(nvmlInit_v2());
    OK(nvmlInit());
    OK(nvmlInitWithFlags(0));
    OK(nvmlShutdown());
    OK(nvmlShutdown());
    OK(nvmlDeviceGetCount_v2(&n));
    CHECK(n == 1);
    OK(nvmlDeviceGetCount(&n));
    OK(nvmlShutdown());
    CHECK_RC(nvmlDeviceGetCount_v2(&n), NVML_ERROR_UNINITIALIZED);
    CHECK_RC(nvmlShutdown(), NVML_ERROR_UNINITIALIZED);
}

struct expect {
    const char *name;
    unsigned long long mem_mib;
    unsigned pci_id;
    int ccmaj, ccmin;
    unsigned arch, brand;
    int geforce;
    unsigned plimit, pmin, pmax;
    unsigned gen, sm_max, mem_max, fans;
};

static const struct expect EXPECT[] = {
    {"NVIDIA GeForce RTX 4090", 24564, 0x268410DE, 8, 9, NVML_DEVICE_ARCH_ADA, NVML_BRAND_GEFORCE, 1,
     450000, 150000, 600000, 4, 3105, 10501, 2},
    {"NVIDIA GeForce RTX 3090", 24576, 0x220410DE, 8, 6, NVML_DEVICE_ARCH_AMPERE, NVML_BRAND_GEFORCE, 1,
     350000, 100000, 400000, 4, 2100, 9751, 2},
    {"NVIDIA A100-SXM4-80GB", 81920, 0x20B210DE, 8, 0, NVML_DEVICE_ARCH_AMPERE, NVML_BRAND_NVIDIA, 0,
     400000, 100000, 400000, 4, 1410, 1593, 0},
    {"NVIDIA H100 80GB HBM3", 81559, 0x233010DE, 9, 0, NVML_DEVICE_ARCH_HOPPER, NVML_BRAND_NVIDIA, 0,
     700000, 200000, 700000, 5, 1980, 2619, 0},
    {"NVIDIA H200", 143771, 0x233510DE, 9, 0, NVML_DEVICE_ARCH_HOPPER, NVML_BRAND_NVIDIA, 0,
     700000, 200000, 700000, 5, 1980, 3201, 0},
};

static void check_static_getters(nvmlDevice_t d, unsigned i, const struct expect *e)
{
    char buf[96];
    unsigned u1 = 0, u2 = 0;
    int a = 0, b = 0;
    OK(nvmlDeviceGetIndex(d, &u1));
    CHECK(u1 == i);
    OK(nvmlDeviceGetMinorNumber(d, &u1));
    CHECK(u1 == i);
    OK(nvmlDeviceGetName(d, buf, sizeof(buf)));
    CHECK(strcmp(buf, e->name) == 0);
    CHECK_RC(nvmlDeviceGetName(d, buf, 5), NVML_ERROR_INSUFFICIENT_SIZE);
    CHECK_RC(nvmlDeviceGetName(d, NULL, 64), NVML_ERROR_INVALID_ARGUMENT);
    OK(nvmlDeviceGetUUID(d, buf, NVML_DEVICE_UUID_BUFFER_SIZE));
    CHECK(strncmp(buf, "GPU-", 4) == 0 && strlen(buf) == 40);
    nvmlDevice_t again;
    OK(nvmlDeviceGetHandleByUUID(buf, &again));
    CHECK(again == d);
    CHECK_RC(nvmlDeviceGetUUID(d, buf, 20), NVML_ERROR_INSUFFICIENT_SIZE);
    OK(nvmlDeviceGetBrand(d, &u1));
    CHECK(u1 == e->brand);
    OK(nvmlDeviceGetArchitecture(d, &u1));
    CHECK(u1 == e->arch);
    OK(nvmlDeviceGetCudaComputeCapability(d, &a, &b));
    CHECK(a == e->ccmaj && b == e->ccmin);
    OK(nvmlDeviceGetVbiosVersion(d, buf, sizeof(buf)));

    nvmlPciInfo_t pci;
    memset(&pci, 0xAB, sizeof(pci));
    OK(nvmlDeviceGetPciInfo_v3(d, &pci));
    CHECK(pci.pciDeviceId == e->pci_id);
    CHECK(pci.domain == 0 && pci.device == 0);
    char want[32];
    snprintf(want, sizeof(want), "%08X:%02X:00.0", 0, pci.bus);
    CHECK(strcmp(pci.busId, want) == 0);
    snprintf(want, sizeof(want), "%04X:%02X:00.0", 0, pci.bus);
    CHECK(strcmp(pci.busIdLegacy, want) == 0);
    OK(nvmlDeviceGetHandleByPciBusId_v2(pci.busId, &again));
    CHECK(again == d);
    OK(nvmlDeviceGetHandleByPciBusId_v2(pci.busIdLegacy, &again));
    CHECK(again == d);
    nvmlPciInfo_t pci2;
    OK(nvmlDeviceGetPciInfo_v2(d, &pci2));
    CHECK(memcmp(&pci, &pci2, sizeof(pci)) == 0);
    /* v1 writes only its 52-byte layout: the canary after it must survive. */
    unsigned char v1buf[sizeof(nvmlPciInfoV1_t) + 16];
    memset(v1buf, 0xCD, sizeof(v1buf));
    OK(nvmlDeviceGetPciInfo(d, (nvmlPciInfoV1_t *)v1buf));
    CHECK(v1buf[sizeof(nvmlPciInfoV1_t)] == 0xCD && v1buf[sizeof(v1buf) - 1] == 0xCD);
    CHECK(((nvmlPciInfoV1_t *)v1buf)->pciDeviceId == e->pci_id);
    CHECK(strcmp(((nvmlPciInfoV1_t *)v1buf)->busId, pci.busIdLegacy) == 0);

    nvmlMemory_v2_t m2;
    memset(&m2, 0, sizeof(m2));
    CHECK_RC(nvmlDeviceGetMemoryInfo_v2(d, &m2), NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    m2.version = 0x01000028;
    CHECK_RC(nvmlDeviceGetMemoryInfo_v2(d, &m2), NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    m2.version = nvmlMemory_v2;
    OK(nvmlDeviceGetMemoryInfo_v2(d, &m2));
    CHECK(m2.total == e->mem_mib * 1024 * 1024);
    CHECK(m2.reserved >= 100ULL << 20 && m2.reserved <= 1024ULL << 20);
    CHECK(m2.used > 0 && m2.used < 64ULL << 20);
    CHECK(m2.total == m2.reserved + m2.used + m2.free);
    nvmlMemory_t m1;
    OK(nvmlDeviceGetMemoryInfo(d, &m1));
    CHECK(m1.total == m2.total && m1.used == m2.used + m2.reserved && m1.free == m2.free);

    OK(nvmlDeviceGetPowerManagementLimit(d, &u1));
    CHECK(u1 == e->plimit);
    OK(nvmlDeviceGetPowerManagementDefaultLimit(d, &u1));
    CHECK(u1 == e->plimit);
    OK(nvmlDeviceGetEnforcedPowerLimit(d, &u1));
    CHECK(u1 == e->plimit);
    OK(nvmlDeviceGetPowerManagementLimitConstraints(d, &u1, &u2));
    CHECK(u1 == e->pmin && u2 == e->pmax);
    OK(nvmlDeviceGetMaxPcieLinkGeneration(d, &u1));
    CHECK(u1 == e->gen);
    OK(nvmlDeviceGetMaxPcieLinkWidth(d, &u1));
    CHECK(u1 == 16);
    OK(nvmlDeviceGetCurrPcieLinkWidth(d, &u1));
    CHECK(u1 == 16);
    OK(nvmlDeviceGetCurrPcieLinkGeneration(d, &u1));
    CHECK(u1 >= 1 && u1 <= e->gen);
    OK(nvmlDeviceGetMaxClockInfo(d, NVML_CLOCK_SM, &u1));
    CHECK(u1 == e->sm_max);
    OK(nvmlDeviceGetMaxClockInfo(d, NVML_CLOCK_GRAPHICS, &u1));
    CHECK(u1 == e->sm_max);
    OK(nvmlDeviceGetMaxClockInfo(d, NVML_CLOCK_MEM, &u1));
    CHECK(u1 == e->mem_max);
    OK(nvmlDeviceGetMaxClockInfo(d, NVML_CLOCK_VIDEO, &u1));
    CHECK_RC(nvmlDeviceGetMaxClockInfo(d, 7, &u1), NVML_ERROR_INVALID_ARGUMENT);
    OK(nvmlDeviceGetNumFans(d, &u1));
    CHECK(u1 == e->fans);
    OK(nvmlDeviceGetPcieReplayCounter(d, &u1));
    nvmlEnableState_t pm;
    OK(nvmlDeviceGetPersistenceMode(d, &pm));
    CHECK(pm == (e->geforce ? NVML_FEATURE_DISABLED : NVML_FEATURE_ENABLED));
    unsigned long long events;
    OK(nvmlDeviceGetSupportedEventTypes(d, &events));
    CHECK(events & nvmlEventTypeXidCriticalError);
    CHECK(!!(events & nvmlEventTypeDoubleBitEccError) == !e->geforce);
}

static void check_consumer_gaps(nvmlDevice_t d, const struct expect *e)
{
    char buf[64];
    unsigned a, b, c, f;
    nvmlEnableState_t cur, pend;
    unsigned long long count;
    nvmlReturn_t want = e->geforce ? NVML_ERROR_NOT_SUPPORTED : NVML_SUCCESS;
    CHECK_RC(nvmlDeviceGetSerial(d, buf, sizeof(buf)), want);
    if (!e->geforce)
        CHECK(strlen(buf) == 13);
    CHECK_RC(nvmlDeviceGetEccMode(d, &cur, &pend), want);
    if (!e->geforce)
        CHECK(cur == NVML_FEATURE_ENABLED && pend == NVML_FEATURE_ENABLED);
    CHECK_RC(nvmlDeviceGetTotalEccErrors(d, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC,
                                         &count), want);
    CHECK_RC(nvmlDeviceGetMigMode(d, &a, &b), want);
    CHECK_RC(nvmlDeviceGetRemappedRows(d, &a, &b, &c, &f), want);
    if (!e->geforce)
        CHECK(a == 0 && b == 0 && c == 0 && f == 0);
    CHECK_RC(nvmlDeviceGetTemperatureThreshold(d, NVML_TEMPERATURE_THRESHOLD_MEM_MAX, &a), want);
    /* Page retirement: GeForce has no ECC, Ampere/Hopper remap rows instead. */
    CHECK_RC(nvmlDeviceGetRetiredPages(d, NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR, &a, NULL),
             NVML_ERROR_NOT_SUPPORTED);
    /* Fans: GeForce boards have them, SXM modules do not. */
    CHECK_RC(nvmlDeviceGetFanSpeed(d, &a), e->geforce ? NVML_SUCCESS : NVML_ERROR_NOT_SUPPORTED);
    if (e->geforce)
        CHECK(a >= 30 && a <= 100);

    nvmlFieldValue_t fv[4];
    memset(fv, 0, sizeof(fv));
    fv[0].fieldId = NVML_FI_DEV_MEMORY_TEMP;
    fv[1].fieldId = NVML_FI_DEV_TOTAL_ENERGY_CONSUMPTION;
    fv[2].fieldId = 9999;
    fv[3].fieldId = NVML_FI_DEV_ECC_DBE_VOL_TOTAL;
    OK(nvmlDeviceGetFieldValues(d, 4, fv));
    CHECK_RC(fv[0].nvmlReturn, want);
    if (!e->geforce) {
        unsigned t;
        OK(nvmlDeviceGetTemperature(d, NVML_TEMPERATURE_GPU, &t));
        CHECK(fv[0].valueType == NVML_VALUE_TYPE_UNSIGNED_INT);
        CHECK(fv[0].value.uiVal >= t && fv[0].value.uiVal <= t + 8);
    }
    OK(fv[1].nvmlReturn);
    CHECK(fv[1].valueType == NVML_VALUE_TYPE_UNSIGNED_LONG_LONG);
    CHECK_RC(fv[2].nvmlReturn, NVML_ERROR_NOT_SUPPORTED);
    CHECK_RC(fv[3].nvmlReturn, want);
    CHECK(fv[1].timestamp > 1600000000000000LL);
}

static void check_telemetry(nvmlDevice_t d, const struct expect *e, int load)
{
    nvmlUtilization_t u;
    unsigned p, t, sm, mem, tx, rx, ps;
    unsigned long long reasons, e1, e2;
    OK(nvmlDeviceGetUtilizationRates(d, &u));
    OK(nvmlDeviceGetPowerUsage(d, &p));
    OK(nvmlDeviceGetTemperature(d, NVML_TEMPERATURE_GPU, &t));
    CHECK_RC(nvmlDeviceGetTemperature(d, 5, &t), NVML_ERROR_INVALID_ARGUMENT);
    OK(nvmlDeviceGetClockInfo(d, NVML_CLOCK_SM, &sm));
    OK(nvmlDeviceGetClockInfo(d, NVML_CLOCK_MEM, &mem));
    OK(nvmlDeviceGetPcieThroughput(d, NVML_PCIE_UTIL_TX_BYTES, &tx));
    OK(nvmlDeviceGetPcieThroughput(d, NVML_PCIE_UTIL_RX_BYTES, &rx));
    CHECK_RC(nvmlDeviceGetPcieThroughput(d, 2, &rx), NVML_ERROR_INVALID_ARGUMENT);
    OK(nvmlDeviceGetCurrentClocksEventReasons(d, &reasons));
    OK(nvmlDeviceGetPerformanceState(d, &ps));
    CHECK(p <= e->pmax && t >= 25 && t <= 95);
    CHECK(sm <= e->sm_max && mem <= e->mem_max);
    if (load == 0) {
        CHECK(u.gpu == 0 && u.memory == 0);
        CHECK(reasons & nvmlClocksEventReasonGpuIdle);
        CHECK(p < e->plimit / 5);
        CHECK(t >= 30 && t <= 40);
        CHECK(sm < e->sm_max / 3);
        CHECK(tx == 0 && rx == 0);
        CHECK(ps == (e->geforce ? NVML_PSTATE_8 : NVML_PSTATE_0));
    } else {
        CHECK(u.gpu >= (unsigned)load - 8 && u.gpu <= 100);
        CHECK(!(reasons & nvmlClocksEventReasonGpuIdle));
        CHECK(p > e->plimit / 3);
        CHECK(t > 45);
        CHECK(sm > e->sm_max / 2);
        CHECK(tx > 0 && rx > tx);
    }
    if (load == 100)
        CHECK(reasons & nvmlClocksEventReasonSwPowerCap);
    unsigned long long r2;
    OK(nvmlDeviceGetCurrentClocksThrottleReasons(d, &r2));
    OK(nvmlDeviceGetTotalEnergyConsumption(d, &e1));
    sleep_ms(30);
    OK(nvmlDeviceGetTotalEnergyConsumption(d, &e2));
    /* 30 ms at >= 20 W is >= 600 mJ */
    CHECK(e2 > e1 && e2 - e1 >= 400);
}

static void test_profiles(void)
{
    use_machine(MIXED, NULL, 0);
    OK(nvmlInit_v2());
    unsigned n = 0;
    OK(nvmlDeviceGetCount_v2(&n));
    CHECK(n == 5);
    static const int loads[] = {0, 50, 0, 100, 0};
    for (unsigned i = 0; i < n && i < 5; i++) {
        nvmlDevice_t d;
        OK(nvmlDeviceGetHandleByIndex_v2(i, &d));
        nvmlDevice_t d1;
        OK(nvmlDeviceGetHandleByIndex(i, &d1));
        CHECK(d == d1);
        check_static_getters(d, i, &EXPECT[i]);
        check_consumer_gaps(d, &EXPECT[i]);
        check_telemetry(d, &EXPECT[i], loads[i]);
    }
    nvmlDevice_t d;
    char buf[64];
    unsigned a, b;
    OK(nvmlDeviceGetHandleByIndex_v2(2, &d));
    OK(nvmlDeviceGetSerial(d, buf, sizeof(buf)));
    CHECK(strcmp(buf, "1323021000417") == 0);
    OK(nvmlDeviceGetHandleByUUID("GPU-11111111-2222-3333-4444-555555555555", &d));
    OK(nvmlDeviceGetIndex(d, &a));
    CHECK(a == 3);
    OK(nvmlDeviceGetHandleByPciBusId_v2("00000000:DB:00.0", &d));
    OK(nvmlDeviceGetMigMode(d, &a, &b));
    CHECK(a == NVML_DEVICE_MIG_ENABLE && b == NVML_DEVICE_MIG_ENABLE);
    CHECK_RC(nvmlDeviceGetHandleByPciBusId_v2("0000:99:00.0", &d), NVML_ERROR_NOT_FOUND);
    CHECK_RC(nvmlDeviceGetHandleByPciBusId_v2("garbage", &d), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceGetHandleByUUID("GPU-nope", &d), NVML_ERROR_NOT_FOUND);
    CHECK_RC(nvmlDeviceGetHandleByIndex_v2(5, &d), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceGetHandleByIndex_v2(0, NULL), NVML_ERROR_INVALID_ARGUMENT);
    /* A pointer that is not one of our handles. */
    int bogus;
    CHECK_RC(nvmlDeviceGetIndex((nvmlDevice_t)&bogus, &a), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceGetIndex(NULL, &a), NVML_ERROR_INVALID_ARGUMENT);
    OK(nvmlDeviceGetHandleByIndex_v2(0, &d));
    CHECK_RC(nvmlDeviceGetIndex(d, NULL), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceGetPowerUsage(d, NULL), NVML_ERROR_INVALID_ARGUMENT);
    /* Unmodelled getters answer NOT_SUPPORTED, as the real library does for absent features. */
    CHECK_RC(nvmlDeviceGetBoardPartNumber(d, buf, sizeof(buf)), NVML_ERROR_NOT_SUPPORTED);

    char v[80];
    int cuda;
    OK(nvmlSystemGetDriverVersion(v, sizeof(v)));
    CHECK(strcmp(v, "550.54.15") == 0);
    CHECK_RC(nvmlSystemGetDriverVersion(v, 4), NVML_ERROR_INSUFFICIENT_SIZE);
    OK(nvmlSystemGetNVMLVersion(v, sizeof(v)));
    CHECK(strcmp(v, "12.550.54.15") == 0);
    OK(nvmlSystemGetCudaDriverVersion_v2(&cuda));
    CHECK(cuda == 12040);
    OK(nvmlSystemGetCudaDriverVersion(&cuda));
    OK(nvmlShutdown());
}

static void test_determinism(void)
{
    /* Same seed and index: same UUIDs and serials in every run. */
    char u1[96], u2[96], s1[32], s2[32];
    nvmlDevice_t d;
    for (int round = 0; round < 2; round++) {
        use_machine("seed = 42\n[gpu]\nprofile = h100-80gb-hbm3\n", NULL, 0);
        OK(nvmlInit_v2());
        OK(nvmlDeviceGetHandleByIndex_v2(0, &d));
        OK(nvmlDeviceGetUUID(d, round ? u2 : u1, 96));
        OK(nvmlDeviceGetSerial(d, round ? s2 : s1, 32));
        OK(nvmlShutdown());
    }
    CHECK(strcmp(u1, u2) == 0 && strcmp(s1, s2) == 0);
    use_machine("seed = 43\n[gpu]\nprofile = h100-80gb-hbm3\n", NULL, 0);
    OK(nvmlInit_v2());
    OK(nvmlDeviceGetHandleByIndex_v2(0, &d));
    OK(nvmlDeviceGetUUID(d, u2, 96));
    CHECK(strcmp(u1, u2) != 0);
    OK(nvmlShutdown());
}

static void test_processes(void)
{
    char ctl[1200];
    use_machine("[gpu]\nprofile = h100-80gb-hbm3\n[gpu]\nprofile = rtx-4090\n", ctl, sizeof(ctl));
    OK(nvmlInit_v2());
    nvmlDevice_t d;
    OK(nvmlDeviceGetHandleByIndex_v2(0, &d));
    unsigned count = 0;
    OK(nvmlDeviceGetComputeRunningProcesses_v3(d, &count, NULL));
    CHECK(count == 0);
    nvmlMemory_v2_t before = {.version = nvmlMemory_v2};
    OK(nvmlDeviceGetMemoryInfo_v2(d, &before));

    control(ctl, "process 0 4242 1073741824");
    control(ctl, "process 0 4343 2147483648");
    control(ctl, "process 0 4242 536870912   # replaces pid 4242");
    count = 0;
    CHECK_RC(nvmlDeviceGetComputeRunningProcesses_v3(d, &count, NULL), NVML_ERROR_INSUFFICIENT_SIZE);
    CHECK(count == 2);
    count = 1;
    nvmlProcessInfo_t infos[4];
    CHECK_RC(nvmlDeviceGetComputeRunningProcesses_v3(d, &count, infos), NVML_ERROR_INSUFFICIENT_SIZE);
    CHECK(count == 2);
    count = 4;
    CHECK_RC(nvmlDeviceGetComputeRunningProcesses_v3(d, &count, NULL), NVML_ERROR_INVALID_ARGUMENT);
    OK(nvmlDeviceGetComputeRunningProcesses_v3(d, &count, infos));
    CHECK(count == 2);
    CHECK(infos[0].pid == 4242 && infos[0].usedGpuMemory == 536870912ULL);
    CHECK(infos[1].pid == 4343 && infos[1].usedGpuMemory == 2147483648ULL);
    CHECK(infos[0].gpuInstanceId == 0xffffffffU && infos[0].computeInstanceId == 0xffffffffU);
    nvmlMemory_v2_t after = {.version = nvmlMemory_v2};
    OK(nvmlDeviceGetMemoryInfo_v2(d, &after));
    CHECK(after.used == before.used + 536870912ULL + 2147483648ULL);

    nvmlProcessInfo_v2_t v2[4];
    count = 4;
    OK(nvmlDeviceGetComputeRunningProcesses_v2(d, &count, v2));
    CHECK(count == 2 && v2[1].pid == 4343);
    nvmlProcessInfo_v1_t v1[4];
    count = 4;
    OK(nvmlDeviceGetComputeRunningProcesses(d, &count, v1));
    CHECK(count == 2 && v1[1].pid == 4343 && v1[1].usedGpuMemory == 2147483648ULL);
    count = 0;
    OK(nvmlDeviceGetGraphicsRunningProcesses_v3(d, &count, NULL));
    CHECK(count == 0);

    /* Injected race: the next 2 calls say INSUFFICIENT_SIZE with one more than exists. */
    control(ctl, "insufficient_size 0 2");
    count = 4;
    CHECK_RC(nvmlDeviceGetComputeRunningProcesses_v3(d, &count, infos), NVML_ERROR_INSUFFICIENT_SIZE);
    CHECK(count == 3);
    CHECK_RC(nvmlDeviceGetComputeRunningProcesses_v3(d, &count, infos), NVML_ERROR_INSUFFICIENT_SIZE);
    CHECK(count == 3);
    OK(nvmlDeviceGetComputeRunningProcesses_v3(d, &count, infos));
    CHECK(count == 2);

    /* R535 stride: 32-byte entries through _v3 only. */
    control(ctl, "stride32 on");
    unsigned char raw[4 * 32];
    memset(raw, 0xEE, sizeof(raw));
    count = 4;
    OK(nvmlDeviceGetComputeRunningProcesses_v3(d, &count, (nvmlProcessInfo_t *)raw));
    CHECK(count == 2);
    nvmlProcessInfoR535_t r535[2];
    memcpy(r535, raw, sizeof(r535));
    CHECK(r535[0].pid == 4242 && r535[0].usedGpuMemory == 536870912ULL);
    CHECK(r535[1].pid == 4343 && r535[1].usedGpuMemory == 2147483648ULL);
    CHECK(r535[1].gpuInstanceId == 0xffffffffU && r535[1].usedGpuCcProtectedMemory == 0);
    CHECK(raw[64] == 0xEE);
    count = 4;
    OK(nvmlDeviceGetComputeRunningProcesses_v2(d, &count, v2));
    CHECK(v2[1].pid == 4343); /* v2 keeps 24-byte entries */
    control(ctl, "stride32 off");
    count = 4;
    OK(nvmlDeviceGetComputeRunningProcesses_v3(d, &count, infos));
    CHECK(infos[1].pid == 4343);

    control(ctl, "process_clear 0");
    count = 0;
    OK(nvmlDeviceGetComputeRunningProcesses_v3(d, &count, NULL));
    CHECK(count == 0);

    /* Load changes at run time. */
    nvmlDevice_t g;
    nvmlUtilization_t u;
    OK(nvmlDeviceGetHandleByIndex_v2(1, &g));
    OK(nvmlDeviceGetUtilizationRates(g, &u));
    CHECK(u.gpu == 0);
    control(ctl, "load 1 80");
    OK(nvmlDeviceGetUtilizationRates(g, &u));
    CHECK(u.gpu >= 72 && u.gpu <= 88);
    OK(nvmlShutdown());
}

static void test_lost_and_ecc_events(void)
{
    char ctl[1200];
    use_machine("[gpu]\nprofile = a100-80gb\n[gpu]\nprofile = a100-80gb\n[gpu]\nprofile = rtx-3090\n",
                ctl, sizeof(ctl));
    OK(nvmlInit_v2());
    nvmlDevice_t d0, d1, d2;
    OK(nvmlDeviceGetHandleByIndex_v2(0, &d0));
    OK(nvmlDeviceGetHandleByIndex_v2(1, &d1));
    OK(nvmlDeviceGetHandleByIndex_v2(2, &d2));

    nvmlEventSet_t set, other;
    OK(nvmlEventSetCreate(&set));
    OK(nvmlEventSetCreate(&other));
    OK(nvmlDeviceRegisterEvents(d1, nvmlEventTypeXidCriticalError | nvmlEventTypeDoubleBitEccError |
                                        nvmlEventTypeSingleBitEccError, set));
    OK(nvmlDeviceRegisterEvents(d0, nvmlEventTypeXidCriticalError, other));
    /* GeForce cannot register ECC events: the whole registration is refused. */
    CHECK_RC(nvmlDeviceRegisterEvents(d2, nvmlEventTypeXidCriticalError | nvmlEventTypeDoubleBitEccError,
                                      set), NVML_ERROR_NOT_SUPPORTED);
    OK(nvmlDeviceRegisterEvents(d2, nvmlEventTypeXidCriticalError, set));

    nvmlEventData_t ev;
    double t0 = now_ms();
    CHECK_RC(nvmlEventSetWait_v2(set, &ev, 50), NVML_ERROR_TIMEOUT);
    CHECK(now_ms() - t0 >= 45);

    control(ctl, "xid 1 79");
    memset(&ev, 0, sizeof(ev));
    OK(nvmlEventSetWait_v2(set, &ev, 1000));
    CHECK(ev.device == d1 && ev.eventType == nvmlEventTypeXidCriticalError && ev.eventData == 79);
    CHECK(ev.gpuInstanceId == 0xffffffffU && ev.computeInstanceId == 0xffffffffU);
    CHECK_RC(nvmlEventSetWait_v2(other, &ev, 0), NVML_ERROR_TIMEOUT); /* GPU 0 only */

    control(ctl, "xid 2 13");
    nvmlEventDataV1_t v1[2];
    memset(v1, 0x5A, sizeof(v1));
    OK(nvmlEventSetWait(set, v1, 1000));
    CHECK(v1[0].device == d2 && v1[0].eventData == 13);
    CHECK(((unsigned char *)&v1[1])[0] == 0x5A); /* v1 writes 24 bytes only */

    unsigned long long c = 99;
    control(ctl, "sbe 1");
    control(ctl, "sbe 1");
    control(ctl, "dbe 1");
    OK(nvmlDeviceGetTotalEccErrors(d1, NVML_MEMORY_ERROR_TYPE_CORRECTED, NVML_VOLATILE_ECC, &c));
    CHECK(c == 2);
    OK(nvmlDeviceGetTotalEccErrors(d1, NVML_MEMORY_ERROR_TYPE_CORRECTED, NVML_AGGREGATE_ECC, &c));
    CHECK(c == 2);
    OK(nvmlDeviceGetTotalEccErrors(d1, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC, &c));
    CHECK(c == 1);
    OK(nvmlDeviceGetTotalEccErrors(d0, NVML_MEMORY_ERROR_TYPE_CORRECTED, NVML_VOLATILE_ECC, &c));
    CHECK(c == 0);
    unsigned cr, ur, pend, fail;
    OK(nvmlDeviceGetRemappedRows(d1, &cr, &ur, &pend, &fail));
    CHECK(ur == 1 && pend == 1);
    OK(nvmlEventSetWait_v2(set, &ev, 100));
    CHECK(ev.eventType == nvmlEventTypeSingleBitEccError);
    OK(nvmlEventSetWait_v2(set, &ev, 100));
    CHECK(ev.eventType == nvmlEventTypeSingleBitEccError);
    OK(nvmlEventSetWait_v2(set, &ev, 100));
    CHECK(ev.eventType == nvmlEventTypeDoubleBitEccError && ev.device == d1);

    /* A GPU falls off the bus: its handle answers GPU_IS_LOST, the others keep working. */
    char stderr_text[2048];
    capture_start();
    control(ctl, "sbe 2");       /* GeForce: warned about and ignored */
    control(ctl, "frobnicate 1"); /* unknown: warned about with its line number */
    control(ctl, "lost 1");
    unsigned idx;
    CHECK_RC(nvmlDeviceGetIndex(d1, &idx), NVML_ERROR_GPU_IS_LOST);
    capture_stop(stderr_text, sizeof(stderr_text));
    CHECK(strstr(stderr_text, ":6: GPU 2 (rtx-3090) has no ECC memory") != NULL);
    CHECK(strstr(stderr_text, ":7: unknown command 'frobnicate'") != NULL);
    nvmlUtilization_t u;
    CHECK_RC(nvmlDeviceGetUtilizationRates(d1, &u), NVML_ERROR_GPU_IS_LOST);
    CHECK_RC(nvmlDeviceGetComputeRunningProcesses_v3(d1, &idx, NULL), NVML_ERROR_GPU_IS_LOST);
    nvmlDevice_t h;
    CHECK_RC(nvmlDeviceGetHandleByIndex_v2(1, &h), NVML_ERROR_GPU_IS_LOST);
    OK(nvmlDeviceGetUtilizationRates(d0, &u));
    unsigned n;
    OK(nvmlDeviceGetCount_v2(&n));
    CHECK(n == 3);
    CHECK_RC(nvmlEventSetWait_v2(set, &ev, 100), NVML_ERROR_GPU_IS_LOST);
    CHECK_RC(nvmlEventSetWait_v2(other, &ev, 0), NVML_ERROR_TIMEOUT);
    control(ctl, "recover 1");
    OK(nvmlDeviceGetIndex(d1, &idx));
    CHECK(idx == 1);
    CHECK_RC(nvmlEventSetWait_v2(set, &ev, 0), NVML_ERROR_TIMEOUT);

    OK(nvmlEventSetFree(set));
    OK(nvmlEventSetFree(other));
    CHECK_RC(nvmlEventSetWait_v2(set, &ev, 0), NVML_ERROR_INVALID_ARGUMENT);
    OK(nvmlShutdown());
}

struct waiter {
    nvmlEventSet_t set;
    nvmlEventData_t ev;
    nvmlReturn_t rc;
    double started_ms; /* set before the thread is created: a late-scheduled thread on a busy
                        * machine must not make the wait look shorter than it was */
    double waited_ms;
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    w->rc = nvmlEventSetWait_v2(w->set, &w->ev, 5000);
    w->waited_ms = now_ms() - w->started_ms;
    return NULL;
}

static void test_event_wait_wakes(void)
{
    char ctl[1200];
    use_machine("[gpu]\nprofile = h200\n", ctl, sizeof(ctl));
    OK(nvmlInit_v2());
    nvmlDevice_t d;
    OK(nvmlDeviceGetHandleByIndex_v2(0, &d));
    struct waiter w = {0};
    OK(nvmlEventSetCreate(&w.set));
    OK(nvmlDeviceRegisterEvents(d, nvmlEventTypeXidCriticalError, w.set));
    pthread_t th;
    w.started_ms = now_ms();
    pthread_create(&th, NULL, wait_thread, &w);
    sleep_ms(100);
    control(ctl, "xid 0 48"); /* nobody else calls NVML: the waiter itself must see it */
    pthread_join(th, NULL);
    OK(w.rc);
    CHECK(w.ev.eventData == 48 && w.waited_ms >= 90 && w.waited_ms < 1000);

    w.started_ms = now_ms();
    pthread_create(&th, NULL, wait_thread, &w);
    sleep_ms(50);
    control(ctl, "lost 0");
    pthread_join(th, NULL);
    CHECK_RC(w.rc, NVML_ERROR_GPU_IS_LOST);
    CHECK(w.waited_ms < 1000);
    OK(nvmlEventSetFree(w.set));
    OK(nvmlShutdown());
}

struct caller {
    nvmlDevice_t d;
    nvmlReturn_t rc;
    double started_ms; /* 0: from when the call is made; else set before the thread is created */
    double took_ms;
};

static void *temperature_thread(void *arg)
{
    struct caller *c = arg;
    unsigned t;
    double t0 = c->started_ms > 0 ? c->started_ms : now_ms();
    c->rc = nvmlDeviceGetTemperature(c->d, NVML_TEMPERATURE_GPU, &t);
    c->took_ms = now_ms() - t0;
    return NULL;
}

static void test_hang(void)
{
    char ctl[1200];
    use_machine("[gpu]\nprofile = rtx-3090\n[gpu]\nprofile = rtx-3090\n", ctl, sizeof(ctl));
    OK(nvmlInit_v2());
    nvmlDevice_t d0, d1;
    OK(nvmlDeviceGetHandleByIndex_v2(0, &d0));
    OK(nvmlDeviceGetHandleByIndex_v2(1, &d1));

    /* A timed hang blocks the caller for about that long. */
    control(ctl, "hang 0 200");
    struct caller c = {.d = d0};
    temperature_thread(&c);
    OK(c.rc);
    CHECK(c.took_ms >= 150 && c.took_ms < 1000);

    /* A hang forever blocks GPU 0's callers only, until unhang. */
    control(ctl, "hang 0 forever");
    unsigned t;
    OK(nvmlDeviceGetTemperature(d1, NVML_TEMPERATURE_GPU, &t)); /* executes the line */
    pthread_t th[3];
    struct caller hung[3];
    for (int i = 0; i < 3; i++) {
        hung[i] = (struct caller){.d = d0, .rc = 12345, .started_ms = now_ms()};
        pthread_create(&th[i], NULL, temperature_thread, &hung[i]);
    }
    sleep_ms(100);
    double t0 = now_ms();
    for (int i = 0; i < 50; i++)
        OK(nvmlDeviceGetTemperature(d1, NVML_TEMPERATURE_GPU, &t));
    unsigned n;
    OK(nvmlDeviceGetCount_v2(&n));
    nvmlEventSet_t set;
    OK(nvmlEventSetCreate(&set));
    OK(nvmlEventSetFree(set));
    CHECK(now_ms() - t0 < 100); /* the other GPU and the global calls keep answering */
    for (int i = 0; i < 3; i++)
        CHECK(hung[i].rc == 12345); /* still blocked */
    control(ctl, "unhang 0");
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        OK(hung[i].rc);
        CHECK(hung[i].took_ms >= 100);
    }
    OK(nvmlShutdown());
}

static void test_init_faults(void)
{
    char ctl[1200];
    use_machine("[gpu]\nprofile = h100-80gb-hbm3\n[faults]\ninit driver_mismatch\n", NULL, 0);
    CHECK_RC(nvmlInit_v2(), NVML_ERROR_LIB_RM_VERSION_MISMATCH);
    unsigned n;
    CHECK_RC(nvmlDeviceGetCount_v2(&n), NVML_ERROR_UNINITIALIZED);

    use_machine("[gpu]\nprofile = h100-80gb-hbm3\n[faults]\ninit no_driver\n", NULL, 0);
    CHECK_RC(nvmlInit_v2(), NVML_ERROR_DRIVER_NOT_LOADED);

    /* Start-time faults from the machine file apply at init. */
    use_machine("[gpu]\nprofile = h100-80gb-hbm3\n[gpu]\nprofile = h100-80gb-hbm3\n"
                "[faults]\nlost 1\nprocess 0 77 1048576\n", NULL, 0);
    OK(nvmlInit_v2());
    nvmlDevice_t d;
    CHECK_RC(nvmlDeviceGetHandleByIndex_v2(1, &d), NVML_ERROR_GPU_IS_LOST);
    OK(nvmlDeviceGetHandleByIndex_v2(0, &d));
    unsigned count = 0;
    CHECK_RC(nvmlDeviceGetComputeRunningProcesses_v3(d, &count, NULL), NVML_ERROR_INSUFFICIENT_SIZE);
    CHECK(count == 1);
    OK(nvmlShutdown());

    /* The control file arms an init fault for later inits, until "init ok". */
    use_machine("[gpu]\nprofile = h100-80gb-hbm3\n", ctl, sizeof(ctl));
    control(ctl, "init driver_mismatch");
    CHECK_RC(nvmlInit_v2(), NVML_ERROR_LIB_RM_VERSION_MISMATCH);
    CHECK_RC(nvmlInit_v2(), NVML_ERROR_LIB_RM_VERSION_MISMATCH);
    control(ctl, "init ok");
    OK(nvmlInit_v2());
    /* Lines already executed are not executed again after a re-init. */
    OK(nvmlShutdown());
    OK(nvmlInit_v2());
    OK(nvmlShutdown());
}

static void test_control_rate_limit(void)
{
    char ctl[1200];
    setenv("GPU_AGENT_SIM_CONTROL_POLL_MS", "200", 1);
    use_machine("[gpu]\nprofile = h200\n", ctl, sizeof(ctl));
    OK(nvmlInit_v2());
    nvmlDevice_t d;
    unsigned idx;
    OK(nvmlDeviceGetHandleByIndex_v2(0, &d));
    control(ctl, "lost 0");
    OK(nvmlDeviceGetIndex(d, &idx)); /* not re-read yet: at most every 200 ms */
    sleep_ms(250);
    CHECK_RC(nvmlDeviceGetIndex(d, &idx), NVML_ERROR_GPU_IS_LOST);
    OK(nvmlShutdown());
    setenv("GPU_AGENT_SIM_CONTROL_POLL_MS", "0", 1);
}

int main(int argc, char **argv)
{
    static const test_case tests[] = {
        {"struct_sizes", test_struct_sizes},
        {"before_init_and_error_strings", test_before_init_and_error_strings},
        {"missing_env", test_missing_env},
        {"bad_config", test_bad_config},
        {"refcount", test_refcount},
        {"profiles", test_profiles},
        {"determinism", test_determinism},
        {"processes", test_processes},
        {"lost_and_ecc_events", test_lost_and_ecc_events},
        {"event_wait_wakes", test_event_wait_wakes},
        {"hang", test_hang},
        {"init_faults", test_init_faults},
        {"control_rate_limit", test_control_rate_limit},
    };
    return run_tests(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
