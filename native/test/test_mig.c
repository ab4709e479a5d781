/*
 * test_mig: contract tests of the simulated NVML's MIG, topology and NVLink calls, linked
 * against the library like any C client built with nvml.h. Bad input must answer the real
 * driver's code and change nothing; each such check says what still holds.
 */
#include <pthread.h>

#include "testlib.h"

/* An HGX H100: NVSwitch, GPUs in pairs under PCIe switches, 0-3 on node 0 and 4-7 on node 1.
 * GPU 1 starts in MIG mode with 3g.40gb@4 (id 2) and 1g.10gb (slice 0, id 7); GPU 2 needs a
 * reset to change mode; GPU 3 starts with MIG off. */
static const char *HGX =
    "seed = 5\nnvlink = nvswitch\nnuma_cpus = 112\n"
    "[gpu]\nprofile = h100-80gb-hbm3\npci_bus = 0x18\nnuma_node = 0\npcie_switch = 0\nmig = enabled\n"
    "[gpu]\nprofile = h100-80gb-hbm3\npci_bus = 0x2a\nnuma_node = 0\npcie_switch = 0\nmig = enabled\n"
    "mig_instances = 3g.40gb@4, 1g.10gb\n"
    "[gpu]\nprofile = h100-80gb-hbm3\npci_bus = 0x3a\nnuma_node = 0\npcie_switch = 1\n"
    "mig_reset_required = true\n"
    "[gpu]\nprofile = h100-80gb-hbm3\npci_bus = 0x5d\nnuma_node = 0\npcie_switch = 1\n"
    "[gpu]\nprofile = h100-80gb-hbm3\npci_bus = 0x9a\nnuma_node = 1\npcie_switch = 2\n"
    "[gpu]\nprofile = h100-80gb-hbm3\npci_bus = 0xab\nnuma_node = 1\npcie_switch = 2\n"
    "[gpu]\nprofile = h100-80gb-hbm3\npci_bus = 0xba\nnuma_node = 1\npcie_switch = 3\n"
    "[gpu]\nprofile = h100-80gb-hbm3\npci_bus = 0xdb\nnuma_node = 1\npcie_switch = 3\n";

/* A100 PCIe pairs on NVLink bridges, a GeForce card without NVLink. */
static const char *PCIE_BOX =
    "seed = 6\n"
    "[gpu]\nprofile = a100-80gb-pcie\npci_bus = 0x17\nnuma_node = 0\nnvlink_bridge = 1\n"
    "[gpu]\nprofile = a100-80gb-pcie\npci_bus = 0x31\nnuma_node = 0\nnvlink_bridge = 0\n"
    "[gpu]\nprofile = a100-80gb-pcie\npci_bus = 0xb1\nnuma_node = 1\n"
    "[gpu]\nprofile = rtx-4090\npci_bus = 0xca\nnuma_node = 1\n";

static nvmlDevice_t dev(unsigned i)
{
    nvmlDevice_t d = NULL;
    OK(nvmlDeviceGetHandleByIndex_v2(i, &d));
    return d;
}

static unsigned gi_count(nvmlDevice_t d, unsigned profile_id)
{
    nvmlGpuInstance_t gis[8];
    unsigned n = 99;
    OK(nvmlDeviceGetGpuInstances(d, profile_id, gis, &n));
    return n;
}

static void expect_config_error(const char *text, const char *want)
{
    expect_config_error_msg(text, 0, want);
}

static void test_struct_sizes(void)
{
    CHECK(sizeof(nvmlGpuInstanceProfileInfo_t) == 48);
    CHECK(sizeof(nvmlGpuInstanceProfileInfo_v2_t) == 152);
    CHECK(nvmlGpuInstanceProfileInfo_v2 == 0x02000098U);
    CHECK(sizeof(nvmlGpuInstanceInfo_t) == 24);
    CHECK(sizeof(nvmlComputeInstanceProfileInfo_t) == 36);
    CHECK(sizeof(nvmlComputeInstanceProfileInfo_v2_t) == 136);
    CHECK(nvmlComputeInstanceProfileInfo_v2 == 0x02000088U);
    CHECK(sizeof(nvmlComputeInstanceInfo_t) == 32);
    CHECK(sizeof(nvmlGpuInstancePlacement_t) == 8);
}

static void test_bad_config(void)
{
    expect_config_error("[gpu]\nprofile = h100-80gb-hbm3\nmig_instances = 1g.10gb\n",
                        ":3: mig_instances needs mig = enabled");
    expect_config_error("[gpu]\nprofile = h100-80gb-hbm3\nmig = enabled\nmig_instances = 1g.5gb\n",
                        ":4: mig_instances: h100-80gb-hbm3 has no MIG profile '1g.5gb'");
    expect_config_error("[gpu]\nprofile = h200\nmig = enabled\nmig_instances = 7g.141gb, 1g.18gb\n",
                        ":4: mig_instances: 1g.18gb (instance 2) does not fit");
    expect_config_error("[gpu]\nprofile = a100-80gb\nmig = enabled\nmig_instances = 3g.40gb@2\n",
                        ":4: mig_instances: 3g.40gb cannot start at memory slice 2");
    expect_config_error("[gpu]\nprofile = rtx-3090\nmig_reset_required = true\n",
                        ":3: mig is not supported on profile rtx-3090");
    expect_config_error("[gpu]\nprofile = rtx-4090\nnvlink_bridge = 1\n[gpu]\nprofile = rtx-4090\n"
                        "nvlink_bridge = 0\n", ":3: profile rtx-4090 takes no NVLink bridge");
    expect_config_error("[gpu]\nprofile = a100-80gb-pcie\nnvlink_bridge = 1\n[gpu]\n"
                        "profile = a100-80gb-pcie\n", ":3: nvlink_bridge = 1: the peer must");
    expect_config_error("[gpu]\nprofile = h200\nnuma_node = 9\n", ":3: numa_node must be");
    expect_config_error("nvlink = infiniband\n", ":1: invalid value 'infiniband' for nvlink");
    expect_config_error("nvlink = nvswitch\n[gpu]\nprofile = h200\npci_bus = 0x06\n",
                        "pci_bus 0x06 is an NVSwitch's");
    expect_config_error("[gpu]\nprofile = h200\n[faults]\nxid 0 31 gi\n", ":4: usage: xid");
}

static void test_geforce_has_no_mig(void)
{
    use_machine(PCIE_BOX, NULL, 0);
    OK(nvmlInit_v2());
    nvmlDevice_t g = dev(3);
    unsigned a = 7, b = 7, isMig = 9;
    nvmlReturn_t act = 77;
    nvmlGpuInstanceProfileInfo_t info;
    nvmlGpuInstance_t gi;
    nvmlDevice_t mig;
    CHECK_RC(nvmlDeviceGetMigMode(g, &a, &b), NVML_ERROR_NOT_SUPPORTED);
    CHECK_RC(nvmlDeviceSetMigMode(g, NVML_DEVICE_MIG_ENABLE, &act), NVML_ERROR_NOT_SUPPORTED);
    CHECK(act == 77); /* untouched */
    CHECK_RC(nvmlDeviceGetGpuInstanceProfileInfo(g, 0, &info), NVML_ERROR_NOT_SUPPORTED);
    CHECK_RC(nvmlDeviceCreateGpuInstance(g, 19, &gi), NVML_ERROR_NOT_SUPPORTED);
    CHECK_RC(nvmlDeviceGetMaxMigDeviceCount(g, &a), NVML_ERROR_NOT_SUPPORTED);
    CHECK_RC(nvmlDeviceGetMigDeviceHandleByIndex(g, 0, &mig), NVML_ERROR_NOT_SUPPORTED);
    OK(nvmlDeviceIsMigDeviceHandle(g, &isMig));
    CHECK(isMig == 0);
    CHECK_RC(nvmlDeviceGetGpuInstanceId(g, &a), NVML_ERROR_NOT_SUPPORTED);
    CHECK_RC(nvmlDeviceGetComputeInstanceId(g, &a), NVML_ERROR_NOT_SUPPORTED);
    OK(nvmlShutdown());
}

static void test_mode(void)
{
    char ctl[1200];
    use_machine(HGX, ctl, sizeof(ctl));
    OK(nvmlInit_v2());
    nvmlDevice_t d3 = dev(3), d2 = dev(2), d1 = dev(1);
    unsigned cur = 9, pend = 9, n = 9;
    nvmlReturn_t act = 77;
    nvmlGpuInstanceProfileInfo_t info;
    nvmlGpuInstance_t gi;

    /* MIG off: no profiles, no instances, no MIG devices */
    OK(nvmlDeviceGetMigMode(d3, &cur, &pend));
    CHECK(cur == 0 && pend == 0);
    CHECK_RC(nvmlDeviceGetGpuInstanceProfileInfo(d3, 0, &info), NVML_ERROR_NOT_SUPPORTED);
    CHECK_RC(nvmlDeviceCreateGpuInstance(d3, 19, &gi), NVML_ERROR_NOT_SUPPORTED);
    OK(nvmlDeviceGetMaxMigDeviceCount(d3, &n));
    CHECK(n == 0);

    /* bad input changes nothing */
    CHECK_RC(nvmlDeviceSetMigMode(d3, 2, &act), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceSetMigMode(d3, 1, NULL), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceGetMigMode(d3, NULL, &pend), NVML_ERROR_INVALID_ARGUMENT);
    OK(nvmlDeviceGetMigMode(d3, &cur, &pend));
    CHECK(cur == 0 && pend == 0);

    /* applied at once on an idle GPU that needs no reset */
    OK(nvmlDeviceSetMigMode(d3, NVML_DEVICE_MIG_ENABLE, &act));
    CHECK_RC(act, NVML_SUCCESS);
    OK(nvmlDeviceGetMigMode(d3, &cur, &pend));
    CHECK(cur == 1 && pend == 1);
    OK(nvmlDeviceGetGpuInstanceProfileInfo(d3, 0, &info));
    OK(nvmlDeviceGetMaxMigDeviceCount(d3, &n));
    CHECK(n == 7);

    /* a GPU whose machine file needs a reset: pending until "reset 2" */
    OK(nvmlDeviceSetMigMode(d2, NVML_DEVICE_MIG_ENABLE, &act));
    CHECK_RC(act, NVML_ERROR_RESET_REQUIRED);
    OK(nvmlDeviceGetMigMode(d2, &cur, &pend));
    CHECK(cur == 0 && pend == 1);
    CHECK_RC(nvmlDeviceCreateGpuInstance(d2, 19, &gi), NVML_ERROR_NOT_SUPPORTED);
    control(ctl, "reset 2");
    OK(nvmlDeviceGetMigMode(d2, &cur, &pend));
    CHECK(cur == 1 && pend == 1);

    /* a process on the GPU keeps the change pending; the reset ends the process */
    control(ctl, "process 4 4242 1000000");
    OK(nvmlDeviceSetMigMode(dev(4), NVML_DEVICE_MIG_ENABLE, &act));
    CHECK_RC(act, NVML_ERROR_IN_USE);
    OK(nvmlDeviceGetMigMode(dev(4), &cur, &pend));
    CHECK(cur == 0 && pend == 1);
    control(ctl, "reset 4");
    OK(nvmlDeviceGetMigMode(dev(4), &cur, &pend));
    CHECK(cur == 1 && pend == 1);
    unsigned np = 0;
    OK(nvmlDeviceGetComputeRunningProcesses_v3(dev(4), &np, NULL));
    CHECK(np == 0);

    /* disabling with instances present: IN_USE, still enabled with its instances */
    CHECK_RC(nvmlDeviceSetMigMode(d1, NVML_DEVICE_MIG_DISABLE, &act), NVML_ERROR_IN_USE);
    OK(nvmlDeviceGetMigMode(d1, &cur, &pend));
    CHECK(cur == 1);
    OK(nvmlShutdown());
}

static void test_mode_disable_in_use(void)
{
    use_machine(HGX, NULL, 0);
    OK(nvmlInit_v2());
    nvmlReturn_t act = 77;
    unsigned cur = 9, pend = 9;
    CHECK_RC(nvmlDeviceSetMigMode(dev(1), NVML_DEVICE_MIG_DISABLE, &act), NVML_ERROR_IN_USE);
    CHECK(act == 77);
    OK(nvmlDeviceGetMigMode(dev(1), &cur, &pend));
    CHECK(cur == 1 && pend == 1);
    CHECK(gi_count(dev(1), 9) == 1 && gi_count(dev(1), 19) == 1);
    /* an empty MIG GPU disables at once */
    OK(nvmlDeviceSetMigMode(dev(0), NVML_DEVICE_MIG_DISABLE, &act));
    CHECK_RC(act, NVML_SUCCESS);
    OK(nvmlDeviceGetMigMode(dev(0), &cur, &pend));
    CHECK(cur == 0 && pend == 0);
    OK(nvmlShutdown());
}

static void check_profile(nvmlDevice_t d, unsigned index, unsigned id, const char *name,
                          unsigned slices, unsigned instances, unsigned long long mib)
{
    nvmlGpuInstanceProfileInfo_t v1;
    nvmlGpuInstanceProfileInfo_v2_t v2;
    memset(&v2, 0, sizeof(v2));
    v2.version = nvmlGpuInstanceProfileInfo_v2;
    OK(nvmlDeviceGetGpuInstanceProfileInfo(d, index, &v1));
    OK(nvmlDeviceGetGpuInstanceProfileInfoV(d, index, &v2));
    CHECK(v1.id == id && v1.sliceCount == slices && v1.instanceCount == instances);
    CHECK(v1.memorySizeMB == mib && v1.isP2pSupported == 0);
    CHECK(v2.id == id && v2.sliceCount == slices && v2.memorySizeMB == mib);
    char want[64];
    snprintf(want, sizeof(want), "MIG %s", name);
    CHECK(strcmp(v2.name, want) == 0);
    CHECK(v2.version == nvmlGpuInstanceProfileInfo_v2);
}

static void test_profiles(void)
{
    use_machine("[gpu]\nprofile = h100-80gb-hbm3\nmig = enabled\n[gpu]\nprofile = a100-80gb-pcie\n"
                "mig = enabled\n[gpu]\nprofile = h200\nmig = enabled\n", NULL, 0);
    OK(nvmlInit_v2());
    nvmlDevice_t h = dev(0), a = dev(1), h2 = dev(2);
    check_profile(h, NVML_GPU_INSTANCE_PROFILE_1_SLICE, 19, "1g.10gb", 1, 7, 9984);
    check_profile(h, NVML_GPU_INSTANCE_PROFILE_1_SLICE_REV1, 20, "1g.10gb+me", 1, 1, 9984);
    check_profile(h, NVML_GPU_INSTANCE_PROFILE_1_SLICE_REV2, 15, "1g.20gb", 1, 4, 20096);
    check_profile(h, NVML_GPU_INSTANCE_PROFILE_2_SLICE, 14, "2g.20gb", 2, 3, 20096);
    check_profile(h, NVML_GPU_INSTANCE_PROFILE_3_SLICE, 9, "3g.40gb", 3, 2, 40448);
    check_profile(h, NVML_GPU_INSTANCE_PROFILE_4_SLICE, 5, "4g.40gb", 4, 1, 40448);
    check_profile(h, NVML_GPU_INSTANCE_PROFILE_7_SLICE, 0, "7g.80gb", 7, 1, 81152);
    check_profile(a, NVML_GPU_INSTANCE_PROFILE_1_SLICE, 19, "1g.10gb", 1, 7, 9728);
    check_profile(a, NVML_GPU_INSTANCE_PROFILE_7_SLICE, 0, "7g.80gb", 7, 1, 81152);
    check_profile(h2, NVML_GPU_INSTANCE_PROFILE_1_SLICE, 19, "1g.18gb", 1, 7, 16896);
    check_profile(h2, NVML_GPU_INSTANCE_PROFILE_1_SLICE_REV2, 15, "1g.35gb", 1, 4, 33280);
    check_profile(h2, NVML_GPU_INSTANCE_PROFILE_3_SLICE, 9, "3g.71gb", 3, 2, 66816);
    check_profile(h2, NVML_GPU_INSTANCE_PROFILE_7_SLICE, 0, "7g.141gb", 7, 1, 135424);

    nvmlGpuInstanceProfileInfo_t v1;
    nvmlGpuInstanceProfileInfo_v2_t v2;
    CHECK_RC(nvmlDeviceGetGpuInstanceProfileInfo(h, NVML_GPU_INSTANCE_PROFILE_2_SLICE_REV1, &v1),
             NVML_ERROR_NOT_SUPPORTED);
    CHECK_RC(nvmlDeviceGetGpuInstanceProfileInfo(h, NVML_GPU_INSTANCE_PROFILE_6_SLICE, &v1),
             NVML_ERROR_NOT_SUPPORTED);
    CHECK_RC(nvmlDeviceGetGpuInstanceProfileInfo(h, NVML_GPU_INSTANCE_PROFILE_COUNT, &v1),
             NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceGetGpuInstanceProfileInfo(h, 0, NULL), NVML_ERROR_INVALID_ARGUMENT);
    memset(&v2, 0, sizeof(v2));
    v2.version = 0x01000098;
    CHECK_RC(nvmlDeviceGetGpuInstanceProfileInfoV(h, 0, &v2), NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    CHECK(v2.id == 0 && v2.name[0] == '\0'); /* nothing written */

    /* placements: 1g.20gb (id 15) at 0, 2, 4, 6, two memory slices each */
    nvmlGpuInstancePlacement_t pl[8];
    unsigned n = 0;
    OK(nvmlDeviceGetGpuInstancePossiblePlacements_v2(h, 15, NULL, &n));
    CHECK(n == 4);
    n = 2;
    CHECK_RC(nvmlDeviceGetGpuInstancePossiblePlacements_v2(h, 15, pl, &n),
             NVML_ERROR_INSUFFICIENT_SIZE);
    CHECK(n == 4);
    n = 8;
    OK(nvmlDeviceGetGpuInstancePossiblePlacements_v2(h, 15, pl, &n));
    CHECK(n == 4 && pl[0].start == 0 && pl[1].start == 2 && pl[3].start == 6 && pl[3].size == 2);
    n = 8;
    OK(nvmlDeviceGetGpuInstancePossiblePlacements_v2(h, 19, pl, &n));
    CHECK(n == 7 && pl[6].start == 6 && pl[6].size == 1);
    n = 8;
    OK(nvmlDeviceGetGpuInstancePossiblePlacements_v2(h, 9, pl, &n));
    CHECK(n == 2 && pl[0].start == 0 && pl[1].start == 4 && pl[1].size == 4);
    CHECK_RC(nvmlDeviceGetGpuInstancePossiblePlacements_v2(h, 3, pl, &n), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceGetGpuInstancePossiblePlacements_v2(h, 15, pl, NULL),
             NVML_ERROR_INVALID_ARGUMENT);
    unsigned cap = 0;
    OK(nvmlDeviceGetGpuInstanceRemainingCapacity(h, 19, &cap));
    CHECK(cap == 7);
    OK(nvmlDeviceGetGpuInstanceRemainingCapacity(h, 9, &cap));
    CHECK(cap == 2);
    CHECK_RC(nvmlDeviceGetGpuInstanceRemainingCapacity(h, 42, &cap), NVML_ERROR_INVALID_ARGUMENT);
    OK(nvmlShutdown());
}

static void test_gpu_instances(void)
{
    use_machine("[gpu]\nprofile = h100-80gb-hbm3\nmig = enabled\n", NULL, 0);
    OK(nvmlInit_v2());
    nvmlDevice_t d = dev(0);
    nvmlGpuInstance_t gi[8], x;
    nvmlGpuInstanceInfo_t info;
    unsigned cap = 0;

    /* seven 1g.10gb, ids 7..13 at slices 0..6; the eighth does not fit */
    for (unsigned i = 0; i < 7; i++) {
        OK(nvmlDeviceCreateGpuInstance(d, 19, &gi[i]));
        OK(nvmlGpuInstanceGetInfo(gi[i], &info));
        CHECK(info.id == 7 + i && info.profileId == 19 && info.placement.start == i &&
              info.placement.size == 1 && info.device == d);
    }
    CHECK_RC(nvmlDeviceCreateGpuInstance(d, 19, &x), NVML_ERROR_INSUFFICIENT_RESOURCES);
    OK(nvmlDeviceGetGpuInstanceRemainingCapacity(d, 19, &cap));
    CHECK(cap == 0);
    /* slice 7 is free memory, but all 7 compute slices are taken */
    OK(nvmlDeviceGetGpuInstanceRemainingCapacity(d, 15, &cap));
    CHECK(cap == 0);
    CHECK(gi_count(d, 19) == 7);
    OK(nvmlDeviceGetGpuInstanceById(d, 13, &x));
    CHECK(x == gi[6]);
    CHECK_RC(nvmlDeviceGetGpuInstanceById(d, 2, &x), NVML_ERROR_NOT_FOUND);
    for (unsigned i = 0; i < 7; i++)
        OK(nvmlGpuInstanceDestroy(gi[i]));
    CHECK(gi_count(d, 19) == 0);
    /* a destroyed instance's handle is no longer valid */
    CHECK_RC(nvmlGpuInstanceGetInfo(gi[0], &info), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlGpuInstanceDestroy(gi[0]), NVML_ERROR_INVALID_ARGUMENT);

    /* placements: 3g.40gb at 4 is id 2, 4g.40gb at 0 is id 1; then nothing else fits */
    nvmlGpuInstancePlacement_t p4 = {4, 4}, p0 = {0, 4}, bad = {2, 4}, badsize = {4, 2};
    CHECK_RC(nvmlDeviceCreateGpuInstanceWithPlacement(d, 9, &bad, &x), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceCreateGpuInstanceWithPlacement(d, 9, &badsize, &x), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceCreateGpuInstanceWithPlacement(d, 9, NULL, &x), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceCreateGpuInstance(d, 77, &x), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceCreateGpuInstance(d, 9, NULL), NVML_ERROR_INVALID_ARGUMENT);
    CHECK(gi_count(d, 9) == 0); /* none of those created anything */
    OK(nvmlDeviceCreateGpuInstanceWithPlacement(d, 9, &p4, &gi[0]));
    OK(nvmlGpuInstanceGetInfo(gi[0], &info));
    CHECK(info.id == 2 && info.placement.start == 4 && info.placement.size == 4);
    nvmlGpuInstancePlacement_t p4b = {4, 4};
    CHECK_RC(nvmlDeviceCreateGpuInstanceWithPlacement(d, 9, &p4b, &x),
             NVML_ERROR_INSUFFICIENT_RESOURCES); /* overlaps */
    OK(nvmlDeviceCreateGpuInstanceWithPlacement(d, 5, &p0, &gi[1]));
    OK(nvmlGpuInstanceGetInfo(gi[1], &info));
    CHECK(info.id == 1 && info.profileId == 5);
    CHECK_RC(nvmlDeviceCreateGpuInstance(d, 19, &x), NVML_ERROR_INSUFFICIENT_RESOURCES);
    CHECK(gi_count(d, 9) == 1 && gi_count(d, 5) == 1 && gi_count(d, 19) == 0);
    OK(nvmlGpuInstanceDestroy(gi[1]));

    /* 3g@4 + 2g + 1g + 1g fills the card; only one +me instance */
    OK(nvmlDeviceCreateGpuInstance(d, 14, &gi[1]));
    OK(nvmlGpuInstanceGetInfo(gi[1], &info));
    CHECK(info.id == 3 && info.placement.start == 0);
    OK(nvmlDeviceCreateGpuInstance(d, 20, &gi[2]));
    CHECK_RC(nvmlDeviceCreateGpuInstance(d, 20, &x), NVML_ERROR_INSUFFICIENT_RESOURCES);
    OK(nvmlDeviceCreateGpuInstance(d, 19, &gi[3]));
    OK(nvmlGpuInstanceGetInfo(gi[3], &info));
    CHECK(info.id == 10 && info.placement.start == 3);
    CHECK_RC(nvmlDeviceCreateGpuInstance(d, 19, &x), NVML_ERROR_INSUFFICIENT_RESOURCES);

    /* wrong handle kinds */
    unsigned n = 8;
    CHECK_RC(nvmlGpuInstanceGetInfo((nvmlGpuInstance_t)d, &info), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceGetGpuInstances((nvmlDevice_t)gi[0], 9, gi, &n), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlGpuInstanceGetInfo(NULL, &info), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlGpuInstanceGetInfo(gi[0], NULL), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceGetGpuInstances(d, 9, NULL, &n), NVML_ERROR_INVALID_ARGUMENT);
    OK(nvmlShutdown());
    /* not persisted: a fresh init starts from the machine file (no instances) */
    OK(nvmlInit_v2());
    CHECK(gi_count(dev(0), 9) == 0);
    OK(nvmlShutdown());
}

static void test_compute_instances(void)
{
    use_machine("[gpu]\nprofile = h100-80gb-hbm3\nmig = enabled\n", NULL, 0);
    OK(nvmlInit_v2());
    nvmlDevice_t d = dev(0);
    nvmlGpuInstance_t gi;
    nvmlComputeInstance_t ci[4], x;
    nvmlComputeInstanceProfileInfo_t info;
    nvmlComputeInstanceProfileInfo_v2_t v2;
    nvmlComputeInstanceInfo_t cinfo;
    OK(nvmlDeviceCreateGpuInstance(d, 9, &gi)); /* 3g.40gb: 1c, 2c, 3c */
    OK(nvmlGpuInstanceGetComputeInstanceProfileInfo(gi, NVML_COMPUTE_INSTANCE_PROFILE_1_SLICE,
                                                    NVML_COMPUTE_INSTANCE_ENGINE_PROFILE_SHARED, &info));
    CHECK(info.id == 0 && info.sliceCount == 1 && info.instanceCount == 3 &&
          info.multiprocessorCount == 20);
    memset(&v2, 0, sizeof(v2));
    v2.version = nvmlComputeInstanceProfileInfo_v2;
    OK(nvmlGpuInstanceGetComputeInstanceProfileInfoV(gi, NVML_COMPUTE_INSTANCE_PROFILE_3_SLICE, 0, &v2));
    CHECK(v2.id == 2 && v2.instanceCount == 1 && strcmp(v2.name, "MIG 3g.40gb") == 0);
    OK(nvmlGpuInstanceGetComputeInstanceProfileInfoV(gi, NVML_COMPUTE_INSTANCE_PROFILE_1_SLICE, 0, &v2));
    CHECK(strcmp(v2.name, "MIG 1c.3g.40gb") == 0);
    v2.version = 1;
    CHECK_RC(nvmlGpuInstanceGetComputeInstanceProfileInfoV(gi, 0, 0, &v2),
             NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
    CHECK_RC(nvmlGpuInstanceGetComputeInstanceProfileInfo(gi, NVML_COMPUTE_INSTANCE_PROFILE_4_SLICE,
                                                          0, &info), NVML_ERROR_NOT_SUPPORTED);
    CHECK_RC(nvmlGpuInstanceGetComputeInstanceProfileInfo(gi, NVML_COMPUTE_INSTANCE_PROFILE_COUNT,
                                                          0, &info), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlGpuInstanceGetComputeInstanceProfileInfo(gi, 0, 1, &info),
             NVML_ERROR_INVALID_ARGUMENT);

    /* three 1c compute instances fill the 3g; a fourth does not fit */
    for (unsigned i = 0; i < 3; i++) {
        OK(nvmlGpuInstanceCreateComputeInstance(gi, 0, &ci[i]));
        OK(nvmlComputeInstanceGetInfo_v2(ci[i], &cinfo));
        CHECK(cinfo.id == i && cinfo.placement.start == i && cinfo.placement.size == 1 &&
              cinfo.gpuInstance == gi && cinfo.device == d && cinfo.profileId == 0);
    }
    CHECK_RC(nvmlGpuInstanceCreateComputeInstance(gi, 0, &x), NVML_ERROR_INSUFFICIENT_RESOURCES);
    CHECK_RC(nvmlGpuInstanceCreateComputeInstance(gi, 3, &x), NVML_ERROR_INVALID_ARGUMENT);
    unsigned cap = 9, n = 9;
    OK(nvmlGpuInstanceGetComputeInstanceRemainingCapacity(gi, 0, &cap));
    CHECK(cap == 0);
    nvmlComputeInstance_t all[8];
    OK(nvmlGpuInstanceGetComputeInstances(gi, 0, all, &n));
    CHECK(n == 3 && all[2] == ci[2]);
    OK(nvmlGpuInstanceGetComputeInstanceById(gi, 1, &x));
    CHECK(x == ci[1]);
    CHECK_RC(nvmlGpuInstanceGetComputeInstanceById(gi, 5, &x), NVML_ERROR_NOT_FOUND);

    /* MIG devices: one per compute instance, named after it */
    unsigned max = 0;
    OK(nvmlDeviceGetMaxMigDeviceCount(d, &max));
    CHECK(max == 7);
    nvmlDevice_t mig;
    char name[96];
    OK(nvmlDeviceGetMigDeviceHandleByIndex(d, 0, &mig));
    OK(nvmlDeviceGetName(mig, name, sizeof(name)));
    CHECK(strcmp(name, "NVIDIA H100 80GB HBM3 MIG 1c.3g.40gb") == 0);
    OK(nvmlDeviceGetMigDeviceHandleByIndex(d, 2, &mig));
    CHECK_RC(nvmlDeviceGetMigDeviceHandleByIndex(d, 3, &mig), NVML_ERROR_NOT_FOUND);

    /* a GPU instance with compute instances cannot go: IN_USE, and it is still there */
    CHECK_RC(nvmlGpuInstanceDestroy(gi), NVML_ERROR_IN_USE);
    CHECK(gi_count(d, 9) == 1);
    for (unsigned i = 0; i < 3; i++)
        OK(nvmlComputeInstanceDestroy(ci[i]));
    CHECK_RC(nvmlComputeInstanceDestroy(ci[0]), NVML_ERROR_INVALID_ARGUMENT);
    /* the destroyed compute instance's MIG device handle is gone too */
    CHECK_RC(nvmlDeviceGetName(mig, name, sizeof(name)), NVML_ERROR_INVALID_ARGUMENT);
    OK(nvmlGpuInstanceCreateComputeInstance(gi, 2, &ci[0])); /* the full 3c one */
    OK(nvmlComputeInstanceGetInfo_v2(ci[0], &cinfo));
    CHECK(cinfo.id == 0 && cinfo.placement.size == 3);
    CHECK_RC(nvmlComputeInstanceGetInfo_v2((nvmlComputeInstance_t)gi, &cinfo),
             NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlComputeInstanceGetInfo_v2(ci[0], NULL), NVML_ERROR_INVALID_ARGUMENT);
    OK(nvmlShutdown());
}

static void test_mig_devices(void)
{
    char ctl[1200];
    use_machine(HGX, ctl, sizeof(ctl));
    OK(nvmlInit_v2());
    nvmlDevice_t d1 = dev(1), m0, m1, parent, x;
    char uuid[96], uuid1[96], name[96], again[96];
    unsigned v = 99;
    OK(nvmlDeviceGetMigDeviceHandleByIndex(d1, 0, &m0));
    OK(nvmlDeviceGetMigDeviceHandleByIndex(d1, 1, &m1));
    CHECK_RC(nvmlDeviceGetMigDeviceHandleByIndex(d1, 2, &x), NVML_ERROR_NOT_FOUND);
    CHECK_RC(nvmlDeviceGetMigDeviceHandleByIndex(d1, 7, &x), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceGetMigDeviceHandleByIndex(d1, 0, NULL), NVML_ERROR_INVALID_ARGUMENT);
    OK(nvmlDeviceGetGpuInstanceId(m0, &v));
    CHECK(v == 2);
    OK(nvmlDeviceGetComputeInstanceId(m0, &v));
    CHECK(v == 0);
    OK(nvmlDeviceGetGpuInstanceId(m1, &v));
    CHECK(v == 7);
    OK(nvmlDeviceIsMigDeviceHandle(m0, &v));
    CHECK(v == 1);
    OK(nvmlDeviceIsMigDeviceHandle(d1, &v));
    CHECK(v == 0);
    OK(nvmlDeviceGetDeviceHandleFromMigDeviceHandle(m0, &parent));
    CHECK(parent == d1);
    CHECK_RC(nvmlDeviceGetDeviceHandleFromMigDeviceHandle(d1, &parent), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceGetGpuInstanceId(d1, &v), NVML_ERROR_NOT_SUPPORTED);

    OK(nvmlDeviceGetName(m0, name, sizeof(name)));
    CHECK(strcmp(name, "NVIDIA H100 80GB HBM3 MIG 3g.40gb") == 0);
    OK(nvmlDeviceGetName(m1, name, sizeof(name)));
    CHECK(strcmp(name, "NVIDIA H100 80GB HBM3 MIG 1g.10gb") == 0);
    OK(nvmlDeviceGetUUID(m0, uuid, sizeof(uuid)));
    OK(nvmlDeviceGetUUID(m1, uuid1, sizeof(uuid1)));
    CHECK(strncmp(uuid, "MIG-", 4) == 0 && strlen(uuid) == 40 && uuid[8 + 4] == '-');
    CHECK(strcmp(uuid, uuid1) != 0);
    CHECK_RC(nvmlDeviceGetUUID(m0, uuid1, 40), NVML_ERROR_INSUFFICIENT_SIZE);
    nvmlMemory_v2_t mem = {.version = nvmlMemory_v2};
    OK(nvmlDeviceGetMemoryInfo_v2(m0, &mem));
    CHECK(mem.total == 40448ULL << 20 && mem.free + mem.used + mem.reserved == mem.total);
    nvmlMemory_t mem1;
    OK(nvmlDeviceGetMemoryInfo(m1, &mem1));
    CHECK(mem1.total == 9984ULL << 20);

    /* calls a MIG device does not answer; management calls take the whole GPU's handle */
    unsigned pw;
    nvmlGpuInstance_t gi;
    CHECK_RC(nvmlDeviceGetPowerUsage(m0, &pw), NVML_ERROR_NOT_SUPPORTED);
    CHECK_RC(nvmlDeviceGetMigMode(m0, &pw, &v), NVML_ERROR_NOT_SUPPORTED);
    CHECK_RC(nvmlDeviceCreateGpuInstance(m0, 19, &gi), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceGetMaxMigDeviceCount(m0, &v), NVML_ERROR_INVALID_ARGUMENT);

    /* faults reach the MIG devices and instances of their GPU only */
    OK(nvmlDeviceGetGpuInstanceById(d1, 2, &gi));
    control(ctl, "lost 1");
    CHECK_RC(nvmlDeviceGetUUID(m0, again, sizeof(again)), NVML_ERROR_GPU_IS_LOST);
    CHECK_RC(nvmlDeviceGetMemoryInfo_v2(m0, &mem), NVML_ERROR_GPU_IS_LOST);
    nvmlGpuInstanceInfo_t ginfo;
    CHECK_RC(nvmlGpuInstanceGetInfo(gi, &ginfo), NVML_ERROR_GPU_IS_LOST);
    OK(nvmlDeviceGetMigMode(dev(0), &pw, &v));
    control(ctl, "recover 1");
    control(ctl, "hang 1 150");
    double t0 = now_ms();
    OK(nvmlDeviceGetUUID(m0, again, sizeof(again)));
    CHECK(now_ms() - t0 >= 120);
    CHECK(strcmp(again, uuid) == 0);

    /* the UUID is stable: same after a re-init */
    OK(nvmlShutdown());
    OK(nvmlInit_v2());
    OK(nvmlDeviceGetMigDeviceHandleByIndex(dev(1), 0, &m0));
    OK(nvmlDeviceGetUUID(m0, again, sizeof(again)));
    CHECK(strcmp(again, uuid) == 0);
    /* a reset destroys the instances and with them the MIG devices */
    control(ctl, "reset 1");
    CHECK_RC(nvmlDeviceGetUUID(m0, again, sizeof(again)), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceGetMigDeviceHandleByIndex(dev(1), 0, &m0), NVML_ERROR_NOT_FOUND);
    OK(nvmlShutdown());
}

static void test_scoped_events(void)
{
    char ctl[1200];
    use_machine(HGX, ctl, sizeof(ctl));
    OK(nvmlInit_v2());
    nvmlEventSet_t set;
    nvmlEventData_t e;
    OK(nvmlEventSetCreate(&set));
    OK(nvmlDeviceRegisterEvents(dev(1), nvmlEventTypeXidCriticalError | nvmlEventMigConfigChange, set));
    control(ctl, "xid 1 31 gi 2");
    OK(nvmlEventSetWait_v2(set, &e, 1000));
    CHECK(e.eventType == nvmlEventTypeXidCriticalError && e.eventData == 31);
    CHECK(e.gpuInstanceId == 2 && e.computeInstanceId == 0xffffffffU && e.device == dev(1));
    control(ctl, "xid 1 43 gi 7 ci 0");
    OK(nvmlEventSetWait_v2(set, &e, 1000));
    CHECK(e.eventData == 43 && e.gpuInstanceId == 7 && e.computeInstanceId == 0);
    control(ctl, "xid 1 79");
    OK(nvmlEventSetWait_v2(set, &e, 1000));
    CHECK(e.eventData == 79 && e.gpuInstanceId == 0xffffffffU && e.computeInstanceId == 0xffffffffU);
    /* an instance that does not exist: the line is ignored, no event */
    char err[2048];
    capture_start();
    control(ctl, "xid 1 31 gi 5");
    CHECK_RC(nvmlEventSetWait_v2(set, &e, 100), NVML_ERROR_TIMEOUT);
    capture_stop(err, sizeof(err));
    CHECK(strstr(err, "GPU 1 has no GPU instance 5") != NULL);
    /* creating an instance reports a MIG config change naming it (2g.20gb: slice 0 holds the
     * 1g.10gb, so it lands at 2, id 4) */
    nvmlGpuInstance_t gi;
    OK(nvmlDeviceCreateGpuInstance(dev(1), 14, &gi));
    OK(nvmlEventSetWait_v2(set, &e, 1000));
    CHECK(e.eventType == nvmlEventMigConfigChange && e.gpuInstanceId == 4);
    OK(nvmlEventSetFree(set));
    OK(nvmlShutdown());
}

static void test_topology_hgx(void)
{
    use_machine(HGX, NULL, 0);
    OK(nvmlInit_v2());
    nvmlGpuTopologyLevel_t lvl = 99;
    OK(nvmlDeviceGetTopologyCommonAncestor(dev(0), dev(0), &lvl));
    CHECK(lvl == NVML_TOPOLOGY_INTERNAL);
    OK(nvmlDeviceGetTopologyCommonAncestor(dev(0), dev(1), &lvl));
    CHECK(lvl == NVML_TOPOLOGY_SINGLE);
    OK(nvmlDeviceGetTopologyCommonAncestor(dev(0), dev(3), &lvl));
    CHECK(lvl == NVML_TOPOLOGY_NODE);
    OK(nvmlDeviceGetTopologyCommonAncestor(dev(7), dev(0), &lvl));
    CHECK(lvl == NVML_TOPOLOGY_SYSTEM);
    CHECK_RC(nvmlDeviceGetTopologyCommonAncestor(dev(0), dev(1), NULL), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceGetTopologyCommonAncestor(dev(0), NULL, &lvl), NVML_ERROR_INVALID_ARGUMENT);

    nvmlDevice_t near[8];
    unsigned n = 0;
    OK(nvmlDeviceGetTopologyNearestGpus(dev(0), NVML_TOPOLOGY_SINGLE, &n, NULL));
    CHECK(n == 1);
    n = 8;
    OK(nvmlDeviceGetTopologyNearestGpus(dev(0), NVML_TOPOLOGY_SINGLE, &n, near));
    CHECK(n == 1 && near[0] == dev(1));
    n = 8;
    OK(nvmlDeviceGetTopologyNearestGpus(dev(5), NVML_TOPOLOGY_NODE, &n, near));
    CHECK(n == 3 && near[0] == dev(4) && near[1] == dev(6));
    n = 8;
    OK(nvmlDeviceGetTopologyNearestGpus(dev(5), NVML_TOPOLOGY_SYSTEM, &n, near));
    CHECK(n == 7);
    n = 8;
    CHECK_RC(nvmlDeviceGetTopologyNearestGpus(dev(0), 15, &n, near), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceGetTopologyNearestGpus(dev(0), NVML_TOPOLOGY_NODE, NULL, near),
             NVML_ERROR_INVALID_ARGUMENT);

    /* 18 NVLink 4 links per GPU, to the four NVSwitches */
    nvmlEnableState_t on = 0;
    unsigned ver = 0;
    for (unsigned l = 0; l < 18; l++) {
        OK(nvmlDeviceGetNvLinkState(dev(3), l, &on));
        CHECK(on == NVML_FEATURE_ENABLED);
    }
    CHECK_RC(nvmlDeviceGetNvLinkState(dev(3), 18, &on), NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceGetNvLinkState(dev(3), 0, NULL), NVML_ERROR_INVALID_ARGUMENT);
    OK(nvmlDeviceGetNvLinkVersion(dev(3), 0, &ver));
    CHECK(ver == 4);
    nvmlPciInfo_t pci;
    OK(nvmlDeviceGetNvLinkRemotePciInfo_v2(dev(3), 0, &pci));
    CHECK(pci.bus == 0x05 && pci.pciDeviceId == 0x22A310DE &&
          strcmp(pci.busId, "00000000:05:00.0") == 0);
    OK(nvmlDeviceGetNvLinkRemotePciInfo_v2(dev(3), 17, &pci));
    CHECK(pci.bus == 0x08);
    OK(nvmlDeviceGetNvLinkRemotePciInfo_v2(dev(3), 5, &pci));
    CHECK(pci.bus == 0x06);
    nvmlIntNvLinkDeviceType_t type = 99;
    OK(nvmlDeviceGetNvLinkRemoteDeviceType(dev(3), 9, &type));
    CHECK(type == NVML_NVLINK_DEVICE_TYPE_SWITCH);
    nvmlGpuP2PStatus_t st = 99;
    OK(nvmlDeviceGetP2PStatus(dev(0), dev(7), NVML_P2P_CAPS_INDEX_NVLINK, &st));
    CHECK(st == NVML_P2P_STATUS_OK);
    CHECK_RC(nvmlDeviceGetP2PStatus(dev(0), dev(7), NVML_P2P_CAPS_INDEX_UNKNOWN, &st),
             NVML_ERROR_INVALID_ARGUMENT);
    CHECK_RC(nvmlDeviceGetP2PStatus(dev(0), dev(0), NVML_P2P_CAPS_INDEX_READ, &st),
             NVML_ERROR_INVALID_ARGUMENT);

    unsigned long cpus[4];
    OK(nvmlDeviceGetCpuAffinity(dev(4), 4, cpus));
    CHECK(cpus[0] == 0 && cpus[1] == 0xffff000000000000UL && cpus[2] == ~0UL &&
          cpus[3] == 0xffffffffUL); /* CPUs 112..223 */
    OK(nvmlDeviceGetCpuAffinity(dev(0), 1, cpus));
    CHECK(cpus[0] == ~0UL);
    unsigned long nodes[1];
    OK(nvmlDeviceGetMemoryAffinity(dev(5), 1, nodes, NVML_AFFINITY_SCOPE_NODE));
    CHECK(nodes[0] == 2UL);
    CHECK_RC(nvmlDeviceGetCpuAffinity(dev(0), 0, cpus), NVML_ERROR_INVALID_ARGUMENT);
    OK(nvmlShutdown());
}

static void test_topology_pcie(void)
{
    use_machine(PCIE_BOX, NULL, 0);
    OK(nvmlInit_v2());
    nvmlEnableState_t on;
    nvmlPciInfo_t pci;
    nvmlIntNvLinkDeviceType_t type;
    unsigned ver;
    OK(nvmlDeviceGetNvLinkState(dev(0), 11, &on));
    CHECK(on == NVML_FEATURE_ENABLED);
    CHECK_RC(nvmlDeviceGetNvLinkState(dev(0), 12, &on), NVML_ERROR_INVALID_ARGUMENT);
    OK(nvmlDeviceGetNvLinkVersion(dev(1), 0, &ver));
    CHECK(ver == 3);
    OK(nvmlDeviceGetNvLinkRemotePciInfo_v2(dev(0), 3, &pci));
    CHECK(pci.bus == 0x31 && pci.pciDeviceId == 0x20B510DE);
    OK(nvmlDeviceGetNvLinkRemoteDeviceType(dev(1), 0, &type));
    CHECK(type == NVML_NVLINK_DEVICE_TYPE_GPU);
    /* no bridge, no NVLink: NOT_SUPPORTED, as on a card without links */
    CHECK_RC(nvmlDeviceGetNvLinkState(dev(2), 0, &on), NVML_ERROR_NOT_SUPPORTED);
    CHECK_RC(nvmlDeviceGetNvLinkState(dev(3), 0, &on), NVML_ERROR_NOT_SUPPORTED);
    CHECK_RC(nvmlDeviceGetNvLinkRemotePciInfo_v2(dev(3), 0, &pci), NVML_ERROR_NOT_SUPPORTED);

    nvmlGpuP2PStatus_t st;
    OK(nvmlDeviceGetP2PStatus(dev(0), dev(1), NVML_P2P_CAPS_INDEX_NVLINK, &st));
    CHECK(st == NVML_P2P_STATUS_OK);
    OK(nvmlDeviceGetP2PStatus(dev(0), dev(2), NVML_P2P_CAPS_INDEX_NVLINK, &st));
    CHECK(st == NVML_P2P_STATUS_NOT_SUPPORTED);
    OK(nvmlDeviceGetP2PStatus(dev(0), dev(2), NVML_P2P_CAPS_INDEX_READ, &st));
    CHECK(st == NVML_P2P_STATUS_IOH_TOPOLOGY_NOT_SUPPORTED);
    OK(nvmlDeviceGetP2PStatus(dev(2), dev(3), NVML_P2P_CAPS_INDEX_READ, &st));
    CHECK(st == NVML_P2P_STATUS_GPU_NOT_SUPPORTED);
    nvmlGpuTopologyLevel_t lvl;
    OK(nvmlDeviceGetTopologyCommonAncestor(dev(0), dev(1), &lvl));
    CHECK(lvl == NVML_TOPOLOGY_NODE); /* no PCIe switch: they meet in the CPU */
    OK(nvmlShutdown());
}

int main(int argc, char **argv)
{
    static const test_case tests[] = {
        {"mig_struct_sizes", test_struct_sizes},
        {"mig_bad_config", test_bad_config},
        {"geforce_has_no_mig", test_geforce_has_no_mig},
        {"mig_mode", test_mode},
        {"mig_mode_disable_in_use", test_mode_disable_in_use},
        {"mig_profiles", test_profiles},
        {"gpu_instances", test_gpu_instances},
        {"compute_instances", test_compute_instances},
        {"mig_devices", test_mig_devices},
        {"scoped_events", test_scoped_events},
        {"topology_hgx", test_topology_hgx},
        {"topology_pcie", test_topology_pcie},
    };
    return run_tests(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
