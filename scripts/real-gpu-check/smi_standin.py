#!/usr/bin/env python3
"""A stand-in for `nvidia-smi --query-gpu=<compare.py's fields> --format=csv,noheader,nounits`.

Reads NVML through ctypes and prints what nvidia-smi prints for those fields, so compare.py can be
dry-run on a machine without a GPU against the simulated libnvidia-ml.so.1 (scripts/real-gpu-check/
build-bundle.sh --self-test does that). On a real GPU machine it is a third opinion, never a
replacement: the check that counts compares the probe with NVIDIA's own nvidia-smi.

Usage: smi_standin.py [--nvml-library PATH] --query-gpu=a,b,... --format=csv,noheader,nounits
Python 3 stdlib only.
"""
import argparse
import ctypes
import sys

NVML_SUCCESS = 0
NVML_ERROR_NOT_SUPPORTED = 3
NVML_CLOCK_SM, NVML_CLOCK_MEM = 1, 2
NVML_TEMPERATURE_GPU = 0


class PciInfo(ctypes.Structure):
    _fields_ = [("busIdLegacy", ctypes.c_char * 16), ("domain", ctypes.c_uint), ("bus", ctypes.c_uint),
                ("device", ctypes.c_uint), ("pciDeviceId", ctypes.c_uint), ("pciSubSystemId", ctypes.c_uint),
                ("busId", ctypes.c_char * 32)]


class Memory(ctypes.Structure):
    _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong), ("used", ctypes.c_ulonglong)]


assert ctypes.sizeof(PciInfo) == 68 and ctypes.sizeof(Memory) == 24


class Lib:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)

    def fn(self, *names):
        for name in names:
            f = getattr(self.lib, name, None)
            if f is not None:
                f.restype = ctypes.c_uint
                return f
        return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--nvml-library", default="libnvidia-ml.so.1")
    p.add_argument("--query-gpu", required=True)
    p.add_argument("--format", required=True)
    args = p.parse_args()
    if args.format.replace(" ", "") != "csv,noheader,nounits":
        sys.exit("smi_standin.py: only --format=csv,noheader,nounits")

    nv = Lib(args.nvml_library)
    rc = nv.fn("nvmlInit_v2", "nvmlInit")()
    if rc != NVML_SUCCESS:
        sys.exit("smi_standin.py: nvmlInit failed: %d" % rc)

    def text(fn_names, *pre, size=96):
        buf = ctypes.create_string_buffer(size)
        f = nv.fn(*fn_names)
        rc = f(*pre, buf, ctypes.c_uint(size)) if f else NVML_ERROR_NOT_SUPPORTED
        return buf.value.decode() if rc == NVML_SUCCESS else absent(rc)

    def absent(rc):
        return "[Not Supported]" if rc == NVML_ERROR_NOT_SUPPORTED else "[N/A]"

    def uint(fn_names, handle, *extra):
        v = ctypes.c_uint()
        f = nv.fn(*fn_names)
        rc = f(handle, *extra, ctypes.byref(v)) if f else NVML_ERROR_NOT_SUPPORTED
        return (v.value, None) if rc == NVML_SUCCESS else (None, absent(rc))

    def show_uint(res, scale=1, fmt="%d"):
        value, missing = res
        return missing if value is None else fmt % (value / scale if scale != 1 else value)

    def mode(handle, fn_names):
        cur, pend = ctypes.c_uint(), ctypes.c_uint()
        f = nv.fn(*fn_names)
        rc = f(handle, ctypes.byref(cur), ctypes.byref(pend)) if f else NVML_ERROR_NOT_SUPPORTED
        return ("Enabled" if cur.value else "Disabled") if rc == NVML_SUCCESS else "[N/A]"

    driver = text(["nvmlSystemGetDriverVersion"], size=80)
    count = ctypes.c_uint()
    nv.fn("nvmlDeviceGetCount_v2", "nvmlDeviceGetCount")(ctypes.byref(count))
    fields = args.query_gpu.split(",")
    for i in range(count.value):
        h = ctypes.c_void_p()
        nv.fn("nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex")(ctypes.c_uint(i), ctypes.byref(h))
        pci = PciInfo()
        pci_rc = nv.fn("nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2", "nvmlDeviceGetPciInfo")(h, ctypes.byref(pci))
        mem = Memory()
        mem_rc = nv.fn("nvmlDeviceGetMemoryInfo")(h, ctypes.byref(mem))
        major, minor = ctypes.c_int(), ctypes.c_int()
        cc_rc = nv.fn("nvmlDeviceGetCudaComputeCapability")(h, ctypes.byref(major), ctypes.byref(minor))
        lo, hi = ctypes.c_uint(), ctypes.c_uint()
        lim_f = nv.fn("nvmlDeviceGetPowerManagementLimitConstraints")
        lim_rc = lim_f(h, ctypes.byref(lo), ctypes.byref(hi)) if lim_f else NVML_ERROR_NOT_SUPPORTED
        values = {
            "index": str(i),
            "name": text(["nvmlDeviceGetName"], h),
            "uuid": text(["nvmlDeviceGetUUID"], h),
            "serial": text(["nvmlDeviceGetSerial"], h),
            "pci.bus_id": pci.busId.decode() if pci_rc == NVML_SUCCESS else "[N/A]",
            "memory.total": str(mem.total // (1024 * 1024)) if mem_rc == NVML_SUCCESS else "[N/A]",
            "driver_version": driver,
            "compute_cap": "%d.%d" % (major.value, minor.value) if cc_rc == NVML_SUCCESS else "[N/A]",
            "mig.mode.current": mode(h, ["nvmlDeviceGetMigMode"]),
            "ecc.mode.current": mode(h, ["nvmlDeviceGetEccMode"]),
            "power.limit": show_uint(uint(["nvmlDeviceGetPowerManagementLimit"], h), 1000.0, "%.2f"),
            "power.default_limit": show_uint(uint(["nvmlDeviceGetPowerManagementDefaultLimit"], h), 1000.0, "%.2f"),
            "power.min_limit": "%.2f" % (lo.value / 1000.0) if lim_rc == NVML_SUCCESS else absent(lim_rc),
            "power.max_limit": "%.2f" % (hi.value / 1000.0) if lim_rc == NVML_SUCCESS else absent(lim_rc),
            "pcie.link.gen.max": show_uint(uint(["nvmlDeviceGetMaxPcieLinkGeneration"], h)),
            "pcie.link.width.max": show_uint(uint(["nvmlDeviceGetMaxPcieLinkWidth"], h)),
            "clocks.max.sm": show_uint(uint(["nvmlDeviceGetMaxClockInfo"], h, ctypes.c_uint(NVML_CLOCK_SM))),
            "clocks.max.mem": show_uint(uint(["nvmlDeviceGetMaxClockInfo"], h, ctypes.c_uint(NVML_CLOCK_MEM))),
            "temperature.gpu": show_uint(uint(["nvmlDeviceGetTemperature"], h, ctypes.c_uint(NVML_TEMPERATURE_GPU))),
            "power.draw": show_uint(uint(["nvmlDeviceGetPowerUsage"], h), 1000.0, "%.2f"),
        }
        print(", ".join(values.get(f, "[N/A]") for f in fields))
    nv.fn("nvmlShutdown")()


if __name__ == "__main__":
    main()
