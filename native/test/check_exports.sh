#!/bin/sh
# The library must export only nvml* symbols (plus gpu-agent's simulated-library marker) (-fvisibility=hidden) and carry NVIDIA's soname.
set -eu
lib=$1
extra=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v -e '^nvml' -e '^gpuAgentSimulatedNvml$' || true)
if [ -n "$extra" ]; then
    echo "FAIL: non-NVML symbols exported from $lib:" >&2
    echo "$extra" >&2
    exit 1
fi
if ! readelf -d "$lib" | grep -q 'SONAME.*\[libnvidia-ml.so.1\]'; then
    echo "FAIL: $lib lacks soname libnvidia-ml.so.1" >&2
    exit 1
fi
for s in nvmlInit_v2 nvmlDeviceGetCount_v2 nvmlDeviceGetHandleByIndex_v2 nvmlDeviceGetPciInfo_v3 \
         nvmlEventSetWait_v2 nvmlDeviceGetComputeRunningProcesses_v3 nvmlDeviceGetMemoryInfo_v2; do
    nm -D --defined-only "$lib" | awk '{print $3}' | grep -qx "$s" || { echo "FAIL: $s missing" >&2; exit 1; }
done
echo "exports: $(nm -D --defined-only "$lib" | wc -l) nvml* symbols, soname libnvidia-ml.so.1"
