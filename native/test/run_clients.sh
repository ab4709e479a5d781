#!/bin/sh
# Runs the C, the Python and the Rust client on every machine file in config/sim and diffs the
# Python and Rust output against the C client's: independent clients must read the same values
# through the ABI. The Rust client ($build/nvml_client_rs) is built by `make rust-client`.
# Usage: run_clients.sh <absolute build dir> [python]
set -eu
build=$1
python=${2:-python3}
here=$(cd "$(dirname "$0")" && pwd)
rust="$build/nvml_client_rs"
if [ ! -x "$rust" ]; then
    echo "FAIL: Rust client $rust not built: make -C native rust-client (needs cargo and" \
        "apt-get install librust-nvml-wrapper-sys-dev)" >&2
    exit 1
fi
confdir=$(cd "$here/../../config/sim" && pwd)
out="$build/tmp/clients"
mkdir -p "$out"
n=0
for conf in "$confdir"/*.conf; do
    name=$(basename "$conf" .conf)
    GPU_AGENT_SIM_CONFIG=$conf "$build/nvml_client" "$build/libnvidia-ml.so.1" > "$out/$name.c.txt"
    GPU_AGENT_SIM_CONFIG=$conf "$python" "$here/nvml_client.py" "$build/libnvidia-ml.so.1" > "$out/$name.py.txt"
    GPU_AGENT_SIM_CONFIG=$conf "$rust" "$build/libnvidia-ml.so.1" > "$out/$name.rs.txt"
    if ! diff -u "$out/$name.c.txt" "$out/$name.py.txt"; then
        echo "FAIL: C and Python clients disagree on $name" >&2
        exit 1
    fi
    if ! diff -u "$out/$name.c.txt" "$out/$name.rs.txt"; then
        echo "FAIL: C and Rust clients disagree on $name" >&2
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
        GPU_AGENT_SIM_CONFIG=$conf "$rust" "$build/libnvidia-ml.so.1" $section > "$out/$name.$section.rs.txt"
        if ! diff -u "$out/$name.$section.c.txt" "$out/$name.$section.py.txt"; then
            echo "FAIL: C and Python clients disagree on $name ($section)" >&2
            exit 1
        fi
        if ! diff -u "$out/$name.$section.c.txt" "$out/$name.$section.rs.txt"; then
            echo "FAIL: C and Rust clients disagree on $name ($section)" >&2
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
echo "clients: C, Python and Rust agree on $n machine files (inventory, mig, topology)"
