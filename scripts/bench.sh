#!/usr/bin/env bash
# Reproducible performance figures for docs/benchmarks.md. Usage: scripts/bench.sh [seconds-of-idle]
#  1. JMH: one telemetry tick over 8 simulated H100s, all fields (CPU per tick, allocations).
#  2. `gpu-agent probe --json` wall time (10 runs): JVM defaults, the launcher (unit flags) without and
#     with its class-data sharing archive, and native/build/nvml_client reading the same library.
#  3. The daemon on the 8x H100 simulated server with the systemd unit's JVM flags: time to READY=1,
#     resident memory and CPU at idle.
#  4. JMH: one /metrics body (8 GPUs, all families) without HTTP, allocations per scrape; shared=true:
#     within one tick (the shared families already written), shared=false: after a new tick.
#  5. /metrics over HTTP on loopback under load from a second process (wrk, 1 and 16 connections):
#     p50/p99 latency and requests per second, against the daemon of step 3.
#     scripts/bench-metrics.sh compares builds in turns (steps 3-5, CPU per request, GC pauses).
#  6. JMH: the journal's group commit of 64 sessions' tick records, and one durable append.
#  7. Launch overhead of a session over a raw Docker create+start, interleaved, on the test engine.
#  8. Heap per running session (after full GCs), 24 sessions on the test engine.
#  9. The whole load (issue 13): scripts/bench-load.sh (8 GPUs, 8 sessions, escrow on a local chain,
#     a scheduler paying by voucher; CPU per thread, memory, /metrics beside prometheus-node-exporter,
#     the live meter, READY after a restart). BENCH_LOAD_WINDOW (default 120 s), SETTLE as there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
idle=${1:-60}
export GPU_AGENT_SIM_CONFIG=$root/config/sim/server-8x-h100.conf
export GPU_AGENT_NVML_LIBRARY=$root/native/build/libnvidia-ml.so.1
jar=agent/target/gpu-agent.jar

mvn -B -ntp -q -DskipTests package
echo "== machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(java -version 2>&1 | head -1)"
echo "== $(date -u +%Y-%m-%dT%H:%MZ)"

echo "== 1. JMH telemetry tick (8 GPUs)"
java -jar benchmarks/target/benchmarks.jar TelemetryTickBenchmark -prof gc -rf text -rff /tmp/jmh-tick.txt >/dev/null
grep -E "^Benchmark|TelemetryTick" /tmp/jmh-tick.txt | grep -E "Benchmark |avgt|gc.alloc.rate.norm"

echo "== 2. probe --json wall time (10 runs each, ms): the JVM's defaults, the launcher, the launcher with its CDS archive, a native NVML client"
median() { sort -n | awk '{a[NR]=$1} END {printf "min %d  median %d  max %d", a[1], a[int((NR+1)/2)], a[NR]}'; }
wall() { # command...: 10 runs, prints min/median/max in ms
    local times=()
    for _ in $(seq 10); do
        local t0; t0=$(date +%s%N)
        "$@" >/dev/null
        times+=($((($(date +%s%N) - t0) / 1000000)))
    done
    printf '%s\n' "${times[@]}" | median
}
cds=$(mktemp -d /tmp/gpu-agent-bench-cds.XXXXXX)
launch() { GPU_AGENT_JAR=$root/$jar GPU_AGENT_HOME=$root/agent/target GPU_AGENT_CDS_DIR=$cds "$root/scripts/gpu-agent.sh" "$@"; }
echo "java -jar, JVM defaults:    $(wall java -jar $jar probe --json --nvml-library "$GPU_AGENT_NVML_LIBRARY")"
echo "launcher, no CDS archive:   $(wall launch probe --json --nvml-library "$GPU_AGENT_NVML_LIBRARY")"
# the archive is written by the daemon at its exit (scripts/gpu-agent.sh): a short run makes it
(export GPU_AGENT_JAR=$root/$jar GPU_AGENT_HOME=$root/agent/target GPU_AGENT_CDS_DIR=$cds
 exec "$root/scripts/gpu-agent.sh" run --set "gpu.nvml_library=$GPU_AGENT_NVML_LIBRARY" --set "agent.state_dir=$cds/state" \
    --set log.level=warn --set sessions.enabled=false --set metrics.enabled=false >/dev/null 2>&1) &
cpid=$!; sleep 4; kill -TERM $cpid; wait $cpid || true
echo "launcher with its archive:  $(wall launch probe --json --nvml-library "$GPU_AGENT_NVML_LIBRARY") ($(ls "$cds"/*.jsa 2>/dev/null | wc -l) archive)"
echo "native NVML client (C, dlopen, the same library): $(wall native/build/nvml_client "$GPU_AGENT_NVML_LIBRARY")"
rm -rf "$cds"

echo "== 3. daemon, 8 GPUs at 1 Hz, unit JVM flags, ${idle}s idle"
opts=$(scripts/jvm-flags.sh daemon) # with what the launcher adds for `run`
echo "JVM flags: $opts"
sock=$(mktemp -u /tmp/gpu-agent-bench.XXXXXX.sock)
python3 - "$sock" > /tmp/bench-ready.txt <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(60)
while True:
    m = s.recv(4096)
    if b"READY=1" in m:
        print(time.time_ns()); break
PY
sleep 0.3
t0=$(date +%s%N)
# shellcheck disable=SC2086
NOTIFY_SOCKET=$sock java $opts -jar $jar run --set "gpu.nvml_library=$GPU_AGENT_NVML_LIBRARY" \
    --set "agent.state_dir=/tmp/gpu-agent-bench-state" --set log.level=warn --set sessions.enabled=false &
pid=$!
wait %1 || true
ready=$(cat /tmp/bench-ready.txt)
echo "start to READY=1: $(((ready - t0) / 1000000)) ms (JVM start included)"
sleep 5
clk=$(getconf CLK_TCK)
read -r u0 s0 < <(awk '{print $14, $15}' /proc/$pid/stat)
sleep "$idle"
read -r u1 s1 < <(awk '{print $14, $15}' /proc/$pid/stat)
awk -v d=$((u1 + s1 - u0 - s0)) -v hz="$clk" -v t="$idle" 'BEGIN {printf "CPU at idle: %.3f %% of one core\n", 100 * d / hz / t}'
grep -E "VmRSS|VmHWM" /proc/$pid/status

echo "== 4. JMH /metrics body (8 GPUs)"
java -jar benchmarks/target/benchmarks.jar MetricsScrapeBenchmark -prof gc -rf text -rff /tmp/jmh-scrape.txt >/dev/null
grep -E "^Benchmark|MetricsScrape" /tmp/jmh-scrape.txt | grep -E "Benchmark |avgt|gc.alloc.rate.norm"
echo "scrape size: $(curl -s http://127.0.0.1:9464/metrics | wc -c) bytes, $(curl -s http://127.0.0.1:9464/metrics | grep -vc '^#') samples"

echo "== 5. /metrics under load from wrk (10 s each, 1 thread)"
command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk"; exit 1; }
for c in 1 16; do
    echo "-- $c connection(s)"
    wrk -t1 -c$c -d10s --latency http://127.0.0.1:9464/metrics | grep -E "^\s+(50|99)%|Requests/sec|Latency|Socket errors|Non-2xx"
done
kill -TERM $pid; wait $pid || true

echo "== 6. journal: 64 sessions' tick records per group commit (JMH)"
java -jar benchmarks/target/benchmarks.jar JournalBenchmark -wi 1 -i 3 -f 1 -rf text -rff /tmp/jmh-journal.txt >/dev/null
grep -E "^Benchmark|JournalBenchmark" /tmp/jmh-journal.txt

echo "== 7. launch overhead over a raw Docker create+start (private test engine)"
scripts/docker-test-env.sh start >/dev/null
java -cp benchmarks/target/benchmarks.jar io.gpuagent.bench.LaunchOverhead \
    "${GPU_AGENT_DOCKER_DIR:-/var/tmp/gpu-agent-docker}/docker.sock" gpu-agent-test/busybox:1 10 2>/dev/null

echo "== 8. heap per running session (24 sessions on the test engine)"
java -cp benchmarks/target/benchmarks.jar io.gpuagent.bench.SessionMemory \
    "${GPU_AGENT_DOCKER_DIR:-/var/tmp/gpu-agent-docker}/docker.sock" gpu-agent-test/busybox:1 24 2>/dev/null
rm -f "$sock"

echo "== 9. the whole load: 8 GPUs, 8 sessions, escrow, a scheduler (scripts/bench-load.sh)"
SKIP_BUILD=1 SETTLE=${SETTLE:-120} HISTO=1 scripts/bench-load.sh "${BENCH_LOAD_WINDOW:-120}"
