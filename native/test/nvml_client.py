#!/usr/bin/env python3
"""A second-language NVML client (Python 3 stdlib ctypes only).

Prints exactly what nvml_client.c prints (see that file for the line format), so the two can
be diffed: a mismatch means a struct layout or calling convention the library gets wrong for
one kind of client. Versioned symbols are looked up first, older names as fallback.

Usage: nvml_client.py [path/to/libnvidia-ml.so.1]
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


assert ctypes.sizeof(PciInfo) == 68 and ctypes.sizeof(MemoryV2) == 40
MEMORY_V2_VERSION = ctypes.sizeof(MemoryV2) | (2 << 24)


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


if __name__ == "__main__":
    sys.exit(main())
