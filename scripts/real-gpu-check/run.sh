#!/bin/sh
# Runs the real-GPU check from the bundle built by build-bundle.sh. On the GPU machine:
#   tar xzf gpu-check.tar.gz && gpu-check/run.sh
# Options (all optional; the defaults are right for a machine with the NVIDIA driver):
#   --nvml-library PATH   the NVML to probe (default: the driver's libnvidia-ml.so.1)
#   --nvidia-smi CMD      the nvidia-smi to compare with (default: nvidia-smi on PATH)
#   --allow-simulated     accept a simulated NVML (only for dry runs of the bundle itself)
# Writes everything it saw to results-<host>-<UTC time>/ next to this script (or $GPU_CHECK_RESULTS)
# and exits with compare.py's status: 0 all fields match, 1 a mismatch, 2 a tool failed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
nvml_opt=""
smi=nvidia-smi
allow=""
while [ $# -gt 0 ]; do
    case "$1" in
        --nvml-library) nvml_opt="--nvml-library=$2"; shift 2 ;;
        --nvidia-smi) smi=$2; shift 2 ;;
        --allow-simulated) allow=--allow-simulated; shift ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

command -v python3 >/dev/null 2>&1 || { echo "run.sh: python3 is needed (apt-get install python3)" >&2; exit 2; }
out=${GPU_CHECK_RESULTS:-$here/results-$(hostname)-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
java="$here/runtime/bin/java -XX:+UseSerialGC -Xmx64m"

# What the machine is, for the record in docs/real-gpu-check.md.
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host: $(uname -a)"
    [ -r /etc/os-release ] && . /etc/os-release && echo "os: ${PRETTY_NAME:-unknown}"
    [ -r /proc/driver/nvidia/version ] && sed -n '1p' /proc/driver/nvidia/version
    cat "$here/BUILD-INFO" 2>/dev/null || true
} >"$out/host.txt"

# The probe first, nvidia-smi right after: the live fields (temperature, power) are read moments apart.
# shellcheck disable=SC2086
if ! $java -jar "$here/gpu-agent.jar" probe --json $nvml_opt >"$out/probe.json" 2>"$out/probe.stderr"; then
    echo "run.sh: gpu-agent probe --json failed:" >&2
    cat "$out/probe.stderr" >&2
    exit 2
fi
set +e
python3 "$here/compare.py" --probe-json "$out/probe.json" --nvidia-smi "$smi" \
    --save-smi "$out/nvidia-smi.csv" $allow >"$out/compare.txt"
status=$?
set -e
cat "$out/compare.txt"

# The human-readable views, for a person reading the results later.
# shellcheck disable=SC2086
$java -jar "$here/gpu-agent.jar" probe $nvml_opt >"$out/probe.txt" 2>&1 || true
if [ "$smi" = nvidia-smi ]; then
    nvidia-smi -q >"$out/nvidia-smi-q.txt" 2>&1 || true
    nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || true
fi
echo
echo "run.sh: results in $out (copy the directory back and record it: see README.md)"
exit $status
