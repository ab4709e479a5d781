#!/bin/sh
# Runs the C and the Python client on every machine file in config/sim and diffs their output:
# two independent clients must read the same values through the ABI.
# Usage: run_clients.sh <absolute build dir> [python]
set -eu
build=$1
python=${2:-python3}
here=$(cd "$(dirname "$0")" && pwd)
confdir=$(cd "$here/../../config/sim" && pwd)
out="$build/tmp/clients"
mkdir -p "$out"
n=0
for conf in "$confdir"/*.conf; do
    name=$(basename "$conf" .conf)
    GPU_AGENT_SIM_CONFIG=$conf "$build/nvml_client" "$build/libnvidia-ml.so.1" > "$out/$name.c.txt"
    GPU_AGENT_SIM_CONFIG=$conf "$python" "$here/nvml_client.py" "$build/libnvidia-ml.so.1" > "$out/$name.py.txt"
    if ! diff -u "$out/$name.c.txt" "$out/$name.py.txt"; then
        echo "FAIL: C and Python clients disagree on $name" >&2
        exit 1
    fi
    expected=$(grep -c '^\[gpu\]' "$conf")
    got=$(($(wc -l < "$out/$name.c.txt") - 1))
    if [ "$got" -ne "$expected" ]; then
        echo "FAIL: $name: $got GPU lines, expected $expected" >&2
        exit 1
    fi
    for section in mig topology; do
        GPU_AGENT_SIM_CONFIG=$conf "$build/nvml_client" "$build/libnvidia-ml.so.1" $section > "$out/$name.$section.c.txt"
        GPU_AGENT_SIM_CONFIG=$conf "$python" "$here/nvml_client.py" "$build/libnvidia-ml.so.1" $section > "$out/$name.$section.py.txt"
        if ! diff -u "$out/$name.$section.c.txt" "$out/$name.$section.py.txt"; then
            echo "FAIL: C and Python clients disagree on $name ($section)" >&2
            exit 1
        fi
    done
    n=$((n + 1))
done
# One golden file pins the exact text the Java integration test will compare against.
if ! diff -u "$here/expected/server-8x-h100.txt" "$out/server-8x-h100.c.txt"; then
    echo "FAIL: server-8x-h100 output differs from test/expected/server-8x-h100.txt" >&2
    exit 1
fi
# The MIG layout and topology matrices the agent's integration tests build on.
for golden in server-8x-h100.topology server-8x-h100-mig.mig server-4x-a100.topology server-4x-a100.mig; do
    if ! diff -u "$here/expected/$golden.txt" "$out/$golden.c.txt"; then
        echo "FAIL: $golden output differs from test/expected/$golden.txt" >&2
        exit 1
    fi
done
echo "clients: C and Python agree on $n machine files (inventory, mig, topology)"
