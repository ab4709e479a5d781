#!/usr/bin/env python3
"""A second-language NVML client (Python 3 stdlib ctypes only).

Prints exactly what nvml_client.c prints (see that file for the line format), so the two can
be diffed: a mismatch means a struct layout or calling convention the library gets wrong for
one kind of client. Versioned symbols are looked up first, older names as fallback.

Usage: nvml_client.py [path/to/libnvidia-ml.so.1 [inventory|mig|topology]]
"""
import ctypes
import sys

NVML_SUCCESS = 0
NVML_ERROR_NOT_SUPPORTED = 3
NVML_CLOCK_SM = 1
NVML_CLOCK_MEM = 2


class PciInfo(ctypes.Structure):
    _fields_ = [
        ("busIdLegacy", ctypes.c_char * 16),
        ("domain", ctypes.c_uint),
        ("bus", ctypes.c_uint),
        ("device", ctypes.c_uint),
        ("pciDeviceId", ctypes.c_uint),
        ("pciSubSystemId", ctypes.c_uint),
        ("busId", ctypes.c_char * 32),
    ]


class MemoryV2(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint),
        ("total", ctypes.c_ulonglong),
        ("reserved", ctypes.c_ulonglong),
        ("free", ctypes.c_ulonglong),
        ("used", ctypes.c_ulonglong),
    ]


class Memory(ctypes.Structure):
    _fields_ = [
        ("total", ctypes.c_ulonglong),
        ("free", ctypes.c_ulonglong),
        ("used", ctypes.c_ulonglong),
    ]


class GpuInstanceProfileInfoV2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint) for n in (
        "version", "id", "isP2pSupported", "sliceCount", "instanceCount", "multiprocessorCount",
        "copyEngineCount", "decoderCount", "encoderCount", "jpegCount", "ofaCount")] + [
        ("memorySizeMB", ctypes.c_ulonglong), ("name", ctypes.c_char * 96)]


class Placement(ctypes.Structure):
    _fields_ = [("start", ctypes.c_uint), ("size", ctypes.c_uint)]


class GpuInstanceInfo(ctypes.Structure):
    _fields_ = [("device", ctypes.c_void_p), ("id", ctypes.c_uint), ("profileId", ctypes.c_uint),
                ("placement", Placement)]


class ComputeInstanceInfo(ctypes.Structure):
    _fields_ = [("device", ctypes.c_void_p), ("gpuInstance", ctypes.c_void_p),
                ("id", ctypes.c_uint), ("profileId", ctypes.c_uint), ("placement", Placement)]


assert ctypes.sizeof(PciInfo) == 68 and ctypes.sizeof(MemoryV2) == 40
assert ctypes.sizeof(GpuInstanceProfileInfoV2) == 152 and ctypes.sizeof(GpuInstanceInfo) == 24
assert ctypes.sizeof(ComputeInstanceInfo) == 32
MEMORY_V2_VERSION = ctypes.sizeof(MemoryV2) | (2 << 24)
GI_PROFILE_INFO_V2_VERSION = ctypes.sizeof(GpuInstanceProfileInfoV2) | (2 << 24)
LEVELS = {0: "X", 10: "PIX", 20: "PXB", 30: "PHB", 40: "NODE"}


class Nvml:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)

    def fn(self, *names):
        for name in names:
            f = getattr(self.lib, name, None)
            if f is not None:
                f.restype = ctypes.c_uint
                return f
        raise SystemExit("nvml_client.py: symbol %s not found" % names[0])

    def has(self, name):
        return getattr(self.lib, name, None) is not None


def encode(value):
    return value.replace("%", "%25").replace(" ", "%20")


def err_text(rc):
    return "NOT_SUPPORTED" if rc == NVML_ERROR_NOT_SUPPORTED else "ERROR_%d" % rc


def val(rc, value):
    return str(value) if rc == NVML_SUCCESS else err_text(rc)


def line(pairs):
    return " ".join("%s=%s" % (k, encode(v)) for k, v in pairs)


def main():
    nvml = Nvml(sys.argv[1] if len(sys.argv) > 1 else "libnvidia-ml.so.1")
    rc = nvml.fn("nvmlInit_v2", "nvmlInit")()
    if rc != NVML_SUCCESS:
        sys.stderr.write("nvml_client.py: nvmlInit failed: %d\n" % rc)
        return 1
    buf = ctypes.create_string_buffer(96)
    out = []
    rc = nvml.fn("nvmlSystemGetDriverVersion")(buf, 80)
    out.append(("driver_version", val(rc, buf.value.decode())))
    rc = nvml.fn("nvmlSystemGetNVMLVersion")(buf, 80)
    out.append(("nvml_version", val(rc, buf.value.decode())))
    cuda = ctypes.c_int()
    rc = nvml.fn("nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion")(ctypes.byref(cuda))
    out.append(("cuda_driver_version", val(rc, cuda.value)))
    count = ctypes.c_uint()
    rc = nvml.fn("nvmlDeviceGetCount_v2", "nvmlDeviceGetCount")(ctypes.byref(count))
    out.append(("count", val(rc, count.value)))
    print(line(out))

    by_index = nvml.fn("nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex")
    section = sys.argv[2] if len(sys.argv) > 2 else "inventory"
    if section in ("mig", "topology"):
        (print_mig if section == "mig" else print_topology)(nvml, by_index, count.value)
        nvml.fn("nvmlShutdown")()
        return 0
    if section != "inventory":
        sys.stderr.write("nvml_client.py: unknown section '%s' (inventory, mig, topology)\n" % section)
        return 2
    for i in range(count.value):
        handle = ctypes.c_void_p()
        hrc = by_index(ctypes.c_uint(i), ctypes.byref(handle))

        def call(name, *args, fallback=None):
            if hrc != NVML_SUCCESS:
                return hrc
            names = (name, fallback) if fallback else (name,)
            return nvml.fn(*names)(handle, *args)

        a, b = ctypes.c_uint(), ctypes.c_uint()
        pairs = [("index", str(i))]
        for key, name in (("name", "nvmlDeviceGetName"), ("uuid", "nvmlDeviceGetUUID"),
                          ("serial", "nvmlDeviceGetSerial")):
            rc = call(name, buf, ctypes.c_uint(96))
            pairs.append((key, val(rc, buf.value.decode() if rc == NVML_SUCCESS else "")))
        pci = PciInfo()
        rc = call("nvmlDeviceGetPciInfo_v3", ctypes.byref(pci), fallback="nvmlDeviceGetPciInfo_v2")
        pairs.append(("pci_bus_id", val(rc, pci.busId.decode())))
        pairs.append(("pci_device_id", val(rc, "0x%08X" % pci.pciDeviceId)))
        if nvml.has("nvmlDeviceGetMemoryInfo_v2"):
            mem = MemoryV2(version=MEMORY_V2_VERSION)
            rc = call("nvmlDeviceGetMemoryInfo_v2", ctypes.byref(mem))
        else:
            mem = Memory()
            rc = call("nvmlDeviceGetMemoryInfo", ctypes.byref(mem))
        pairs.append(("memory_total_bytes", val(rc, mem.total)))
        major, minor = ctypes.c_int(), ctypes.c_int()
        rc = call("nvmlDeviceGetCudaComputeCapability", ctypes.byref(major), ctypes.byref(minor))
        pairs.append(("cc", val(rc, "%d.%d" % (major.value, minor.value))))
        rc = call("nvmlDeviceGetMigMode", ctypes.byref(a), ctypes.byref(b))
        pairs.append(("mig_current", val(rc, a.value)))
        rc = call("nvmlDeviceGetEccMode", ctypes.byref(a), ctypes.byref(b))
        pairs.append(("ecc_current", val(rc, a.value)))
        rc = call("nvmlDeviceGetPowerManagementLimit", ctypes.byref(a))
        pairs.append(("power_limit_mw", val(rc, a.value)))
        rc = call("nvmlDeviceGetPowerManagementDefaultLimit", ctypes.byref(a))
        pairs.append(("power_default_limit_mw", val(rc, a.value)))
        rc = call("nvmlDeviceGetPowerManagementLimitConstraints", ctypes.byref(a), ctypes.byref(b))
        pairs.append(("power_min_limit_mw", val(rc, a.value)))
        pairs.append(("power_max_limit_mw", val(rc, b.value)))
        rc = call("nvmlDeviceGetMaxPcieLinkGeneration", ctypes.byref(a))
        pairs.append(("pcie_max_gen", val(rc, a.value)))
        rc = call("nvmlDeviceGetMaxPcieLinkWidth", ctypes.byref(a))
        pairs.append(("pcie_max_width", val(rc, a.value)))
        rc = call("nvmlDeviceGetMaxClockInfo", ctypes.c_uint(NVML_CLOCK_SM), ctypes.byref(a))
        pairs.append(("max_sm_clock_mhz", val(rc, a.value)))
        rc = call("nvmlDeviceGetMaxClockInfo", ctypes.c_uint(NVML_CLOCK_MEM), ctypes.byref(a))
        pairs.append(("max_mem_clock_mhz", val(rc, a.value)))
        rc = call("nvmlDeviceGetNumFans", ctypes.byref(a))
        pairs.append(("fan_count", val(rc, a.value)))
        rc = call("nvmlDeviceGetArchitecture", ctypes.byref(a))
        pairs.append(("arch", val(rc, a.value)))
        rc = call("nvmlDeviceGetBrand", ctypes.byref(a))
        pairs.append(("brand", val(rc, a.value)))
        print(line(pairs))
    nvml.fn("nvmlShutdown")()
    return 0


def instance_line(index, gi, ci, profile_id, placement):
    """A GPU instance's line (ci None) or one of its compute instances' lines."""
    pairs = [("index", str(index)), ("gpu_instance", str(gi))]
    if ci is not None:
        pairs.append(("compute_instance", str(ci)))
    pairs += [("profile_id", str(profile_id)), ("placement", "%d:%d" % (placement.start, placement.size))]
    return line(pairs)


def print_mig(nvml, by_index, count):
    u = ctypes.c_uint
    for i in range(count):
        d = ctypes.c_void_p()
        hrc = by_index(u(i), ctypes.byref(d))
        cur, pend, mx = u(), u(), u()
        rc = hrc if hrc != NVML_SUCCESS else nvml.fn("nvmlDeviceGetMigMode")(d, ctypes.byref(cur), ctypes.byref(pend))
        pairs = [("index", str(i)), ("mig_current", val(rc, cur.value)), ("mig_pending", val(rc, pend.value))]
        rc = hrc if hrc != NVML_SUCCESS else nvml.fn("nvmlDeviceGetMaxMigDeviceCount")(d, ctypes.byref(mx))
        pairs.append(("max_mig_devices", val(rc, mx.value)))
        print(line(pairs))
        if hrc != NVML_SUCCESS or cur.value != 1:
            continue
        for k in range(10):
            pi = GpuInstanceProfileInfoV2(version=GI_PROFILE_INFO_V2_VERSION)
            if nvml.fn("nvmlDeviceGetGpuInstanceProfileInfoV")(d, u(k), ctypes.byref(pi)) != NVML_SUCCESS:
                continue
            pl, np_ = (Placement * 8)(), u(8)
            places = ""
            if nvml.fn("nvmlDeviceGetGpuInstancePossiblePlacements_v2")(d, u(pi.id), pl, ctypes.byref(np_)) == NVML_SUCCESS:
                places = ",".join("%d:%d" % (pl[j].start, pl[j].size) for j in range(np_.value))
            cap = u()
            rc = nvml.fn("nvmlDeviceGetGpuInstanceRemainingCapacity")(d, u(pi.id), ctypes.byref(cap))
            print(line([("index", str(i)), ("profile", str(k)), ("id", str(pi.id)),
                        ("name", pi.name.decode()), ("slices", str(pi.sliceCount)),
                        ("instances", str(pi.instanceCount)), ("memory_mib", str(pi.memorySizeMB)),
                        ("sm", str(pi.multiprocessorCount)), ("placements", places),
                        ("remaining", val(rc, cap.value))]))
        for g in range(15):
            gi, gin = ctypes.c_void_p(), GpuInstanceInfo()
            if (nvml.fn("nvmlDeviceGetGpuInstanceById")(d, u(g), ctypes.byref(gi)) != NVML_SUCCESS
                    or nvml.fn("nvmlGpuInstanceGetInfo")(gi, ctypes.byref(gin)) != NVML_SUCCESS):
                continue
            print(instance_line(i, gin.id, None, gin.profileId, gin.placement))
            for c in range(8):
                ci, cin = ctypes.c_void_p(), ComputeInstanceInfo()
                if (nvml.fn("nvmlGpuInstanceGetComputeInstanceById")(gi, u(c), ctypes.byref(ci)) != NVML_SUCCESS
                        or nvml.fn("nvmlComputeInstanceGetInfo_v2")(ci, ctypes.byref(cin)) != NVML_SUCCESS):
                    continue
                print(instance_line(i, gin.id, cin.id, cin.profileId, cin.placement))
        buf = ctypes.create_string_buffer(96)
        for j in range(mx.value):
            m = ctypes.c_void_p()
            if nvml.fn("nvmlDeviceGetMigDeviceHandleByIndex")(d, u(j), ctypes.byref(m)) != NVML_SUCCESS:
                continue
            pairs = [("index", str(i)), ("mig_device", str(j))]
            rc = nvml.fn("nvmlDeviceGetUUID")(m, buf, u(96))
            pairs.append(("uuid", val(rc, buf.value.decode() if rc == NVML_SUCCESS else "")))
            rc = nvml.fn("nvmlDeviceGetName")(m, buf, u(96))
            pairs.append(("name", val(rc, buf.value.decode() if rc == NVML_SUCCESS else "")))
            mem = MemoryV2(version=MEMORY_V2_VERSION)
            rc = nvml.fn("nvmlDeviceGetMemoryInfo_v2")(m, ctypes.byref(mem))
            pairs.append(("memory_total_bytes", val(rc, mem.total)))
            g, c = u(), u()
            rc = nvml.fn("nvmlDeviceGetGpuInstanceId")(m, ctypes.byref(g))
            pairs.append(("gpu_instance", val(rc, g.value)))
            rc = nvml.fn("nvmlDeviceGetComputeInstanceId")(m, ctypes.byref(c))
            pairs.append(("compute_instance", val(rc, c.value)))
            print(line(pairs))


def print_topology(nvml, by_index, count):
    u = ctypes.c_uint
    devs, buses = [], []
    for i in range(min(count, 64)):
        d, p = ctypes.c_void_p(), PciInfo()
        ok = by_index(u(i), ctypes.byref(d)) == NVML_SUCCESS and \
            nvml.fn("nvmlDeviceGetPciInfo_v3")(d, ctypes.byref(p)) == NVML_SUCCESS
        devs.append(d)
        buses.append(p.busId.decode() if ok else "")
    for i, d in enumerate(devs):
        nlinks, ver, to_switch, to_gpu, remotes = 0, 0, 0, [0] * len(devs), []
        for link in range(18):
            on, t, v = u(), u(), u()
            if nvml.fn("nvmlDeviceGetNvLinkState")(d, u(link), ctypes.byref(on)) != NVML_SUCCESS or on.value != 1:
                continue
            nlinks += 1
            if ver == 0 and nvml.fn("nvmlDeviceGetNvLinkVersion")(d, u(link), ctypes.byref(v)) == NVML_SUCCESS:
                ver = v.value
            rp = PciInfo()
            if nvml.fn("nvmlDeviceGetNvLinkRemotePciInfo_v2")(d, u(link), ctypes.byref(rp)) != NVML_SUCCESS:
                continue
            remotes.append(rp.busId.decode())
            if nvml.fn("nvmlDeviceGetNvLinkRemoteDeviceType")(d, u(link), ctypes.byref(t)) == NVML_SUCCESS and t.value == 2:
                to_switch += 1
            else:
                for j, b in enumerate(buses):
                    to_gpu[j] += rp.busId.decode() == b
        row, pcie = [], []
        for j, e in enumerate(devs):
            lvl, st = u(), u(99)
            ar = nvml.fn("nvmlDeviceGetTopologyCommonAncestor")(d, e, ctypes.byref(lvl))
            pcie.append(LEVELS.get(lvl.value, "SYS") if ar == NVML_SUCCESS else "ERR")
            if i != j and nvml.fn("nvmlDeviceGetP2PStatus")(d, e, u(2), ctypes.byref(st)) == NVML_SUCCESS and st.value == 0:
                row.append("NV%d" % (to_switch + to_gpu[j]))
            else:
                row.append(pcie[-1])
        nodes = (ctypes.c_ulong * 1)()
        node = -1
        if nvml.fn("nvmlDeviceGetMemoryAffinity")(d, u(1), nodes, u(0)) == NVML_SUCCESS and nodes[0]:
            node = (nodes[0] & -nodes[0]).bit_length() - 1
        print(line([("index", str(i)), ("topo", ",".join(row)), ("pcie", ",".join(pcie)),
                    ("numa_node", str(node)), ("nvlinks", str(nlinks)), ("nvlink_version", str(ver)),
                    ("nvlink_remotes", ",".join(remotes) or "-")]))


if __name__ == "__main__":
    sys.exit(main())
