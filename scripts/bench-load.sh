#!/usr/bin/env bash
# The agent at full load (issue 13), one reproducible run for docs/benchmarks.md:
#   8 simulated H100s sampled at 1 Hz, 8 running sessions (`sleep`, one GPU each) on the private
#   Docker engine, escrow on a local chain mining a block a second, one scheduler connected over
#   mutual TLS receiving every event and paying each session with a voucher every 30 billed seconds
#   (`gpu-agent demo load`), the agent started through scripts/gpu-agent.sh (the unit's JVM flags).
# Measured, in one run:
#   - the agent's CPU over a window of WINDOW seconds (default 60), in total and per thread (two
#     `jcmd Thread.print` dumps: JDK 17 prints each thread's CPU time);
#   - resident memory (VmRSS, VmHWM), heap and non-heap (`jcmd GC.heap_info`, `VM.native_memory`
#     in a second start with native memory tracking, when NMT=1);
#   - /metrics latency: 300 sequential scrapes, and 16 concurrent scrapers of 40 scrapes each;
#   - the same for Debian's prometheus-node-exporter (a Go exporter) beside it, with its RSS and CPU;
#   - the live meter: every session.usage event the scheduler got, and the steps of billed seconds;
#   - start to READY=1 with the 8 sessions reconciled (the agent restarted while they run).
# Usage: scripts/bench-load.sh [WINDOW]; env: GPU_AGENT_BENCH_DIR (default /tmp/gpu-agent-bench-load),
# SESSIONS (8), VOUCHER_EVERY (30; the credit limit is 60 s), NMT (0), CDS (1: the launcher's class-data sharing), CDS_DIR (its archive;
# default: in the run directory, so a run starts without one and its restart with one), SKIP_BUILD (0),
# SETTLE (20: seconds between the sessions paid and the window; the JIT keeps compiling for minutes), EXTRA_JAVA_OPTS,
# HISTO (0; 1: the live heap's class histogram after the window).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
window=${1:-60}
sessions=${SESSIONS:-8}
voucher_every=${VOUCHER_EVERY:-30}
dir=${GPU_AGENT_BENCH_DIR:-/tmp/gpu-agent-bench-load}
jar=$root/agent/target/gpu-agent.jar
sim=$root/native/build/libnvidia-ml.so.1
export GPU_AGENT_CHAIN_PORT=${GPU_AGENT_CHAIN_PORT:-18645}
export GPU_AGENT_CHAIN_DIR=$dir/chain
export GPU_AGENT_SIM_CONFIG=$root/config/sim/server-8x-h100.conf
listen=127.0.0.1:17643
metrics=127.0.0.1:19464
exporter=127.0.0.1:19100

say() { echo "bench-load: $*"; }
command -v jcmd >/dev/null || { echo "bench-load: jcmd (the JDK) is missing" >&2; exit 1; }
command -v prometheus-node-exporter >/dev/null || { echo "bench-load: apt-get install prometheus-node-exporter" >&2; exit 1; }

[[ ${SKIP_BUILD:-0} == 1 ]] || mvn -B -ntp -q -DskipTests package # (a rebuilt jar is a new jar: its CDS archive starts over)
rm -rf "$dir"
mkdir -p "$dir"
echo "== machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(java -version 2>&1 | head -1)"
echo "== $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- agent || echo ' (modified)'), load $(cut -d' ' -f1-3 /proc/loadavg)"

docker_started=
if ! scripts/docker-test-env.sh status >/dev/null 2>&1; then
    scripts/docker-test-env.sh start >/dev/null
    docker_started=1
fi
docker_sock=/var/tmp/gpu-agent-docker/docker.sock
scripts/chain.sh start >/dev/null
agent=
ne=
# Containers and networks of sessions, left by this run or an earlier one (each session has its own
# network, and Docker's default pools hold about 31).
remove_sessions() {
    local d=(docker -H "unix://$docker_sock")
    "${d[@]}" ps -aq --filter label=io.gpuagent.session | xargs -r "${d[@]}" rm -f >/dev/null 2>&1 || true
    "${d[@]}" network ls -q --filter label=io.gpuagent.session | xargs -r "${d[@]}" network rm >/dev/null 2>&1 || true
}
cleanup() {
    [[ -n $agent ]] && kill -TERM "$agent" 2>/dev/null && wait "$agent" 2>/dev/null || true
    [[ -n $ne ]] && kill "$ne" 2>/dev/null || true
    remove_sessions
    scripts/chain.sh stop >/dev/null || true
    [[ -n $docker_started ]] && scripts/docker-test-env.sh stop >/dev/null || true
}
trap cleanup EXIT
remove_sessions

java -jar "$jar" demo setup --rpc "http://127.0.0.1:$GPU_AGENT_CHAIN_PORT" --dir "$dir/demo" --state-dir "$dir/state" \
    --listen "$listen" >"$dir/setup.log"
config=$dir/demo/agent.toml
args=(run --config "$config" --set "agent.state_dir=$dir/state" --set "gpu.nvml_library=$sim"
      --set "docker.socket=$docker_sock" --set sessions.gpu_attach=none --set "metrics.listen=$metrics"
      --set "escrow.poll_interval_ms=${POLL_MS:-2000}") # the shipped default (the demo's config polls every 500 ms)

# Starts the agent through the unit's launcher (sets $agent) and waits for READY=1; $ready_ms is
# the time from exec to READY=1. Not in $(...): the pid must reach this shell.
start_agent() {
    local sock=$dir/notify.sock
    rm -f "$sock"
    python3 - "$sock" >"$dir/ready.txt" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(120)
while True:
    if b"READY=1" in s.recv(4096):
        print(time.time_ns()); break
PY
    local waiter=$!
    for _ in $(seq 50); do [[ -S $sock ]] && break; sleep 0.1; done
    local t0
    t0=$(date +%s%N)
    mkdir -p "${CDS_DIR:-$dir/cds}"
    NOTIFY_SOCKET=$sock GPU_AGENT_JAR=$jar GPU_AGENT_HOME=$root/agent/target GPU_AGENT_JAVA_OPTS="${EXTRA_JAVA_OPTS:-}" \
        GPU_AGENT_CDS_DIR=${CDS_DIR:-$dir/cds} GPU_AGENT_CDS=${CDS:-1} \
        scripts/gpu-agent.sh "${args[@]}" >>"$dir/agent.log" 2>&1 &
    agent=$!
    wait $waiter || { tail -20 "$dir/agent.log" >&2; echo "bench-load: no READY=1 within 120 s" >&2; exit 1; }
    ready_ms=$((($(cat "$dir/ready.txt") - t0) / 1000000))
}

# Per-thread CPU ticks from /proc (tid, ticks, comm); names come later from one thread dump.
threads() {
    for t in /proc/"$1"/task/*; do
        awk -v tid="${t##*/}" '{match($0, /\(.*\)/); comm = substr($0, RSTART + 1, RLENGTH - 2);
            $0 = substr($0, RSTART + RLENGTH + 1); print tid, $12 + $13, comm}' "$t/stat" 2>/dev/null || true # ended meanwhile
    done
}

# tid -> full Java thread name, from a thread dump (nid is the tid in hex); retried, as attach can be slow.
thread_names() {
    for _ in 1 2 3; do
        jcmd "$1" Thread.print 2>/dev/null | python3 -c '
import re, sys
for line in sys.stdin:
    m = re.match(r"^\"(.+?)\".* nid=(0x[0-9a-f]+)", line)
    if m:
        print(int(m.group(2), 16), m.group(1))' && return 0
        sleep 2
    done
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# /metrics latency: sequential, then 16 scrapers at once (each its own keep-alive connection).
scrape() {
    python3 - "$1" <<'PY'
import http.client, sys, threading, time
host, port = sys.argv[1].split(":")
def run(n, out):
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    for _ in range(n):
        t = time.perf_counter_ns(); c.request("GET", "/metrics"); r = c.getresponse(); r.read()
        assert r.status == 200, r.status
        out.append((time.perf_counter_ns() - t) / 1e6)
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, max(0, int(round(p * len(v) + 0.5)) - 1))]
seq = []; run(20, []); run(300, seq)
par = []; ts = [threading.Thread(target=run, args=(40, par)) for _ in range(16)]
[t.start() for t in ts]; [t.join() for t in ts]
print("sequential 300: p50 %.2f ms, p99 %.2f ms, max %.2f ms | 16 x 40 concurrent: p50 %.2f ms, p99 %.2f ms, max %.2f ms"
      % (pct(seq, .5), pct(seq, .99), max(seq), pct(par, .5), pct(par, .99), max(par)))
PY
}

start_agent
echo "== agent start (no sessions yet): READY in $ready_ms ms"
java -jar "$jar" demo load --config "$config" --sessions "$sessions" --seconds $((window + ${SETTLE:-20} + 25)) \
    --voucher-every "$voucher_every" --keep --csv "$dir/usage.csv" >"$dir/load.log" 2>&1 &
load=$!
for _ in $(seq 240); do grep -q "following for" "$dir/load.log" && break; sleep 0.5; done
grep -q "following for" "$dir/load.log" || { cat "$dir/load.log"; exit 1; }
settle=${SETTLE:-20}
say "$sessions sessions running and paid; settling $settle s"
sleep "$settle"

prometheus-node-exporter --web.listen-address="$exporter" >"$dir/node-exporter.log" 2>&1 &
ne=$!
sleep 2
clk=$(getconf CLK_TCK)
threads "$agent" >"$dir/threads0.txt"
a0=$(cpu_ticks "$agent"); n0=$(cpu_ticks "$ne")
sleep "$window"
a1=$(cpu_ticks "$agent"); n1=$(cpu_ticks "$ne")
others=$(ss -tn state established "( sport = :${metrics##*:} )" 2>/dev/null | tail -n +2 | wc -l)
threads "$agent" >"$dir/threads1.txt"
thread_names "$agent" >"$dir/names.txt" || true
echo "== $window s window, $sessions sessions, vouchers every $voucher_every s"
awk -v d=$((a1 - a0)) -v hz="$clk" -v t="$window" 'BEGIN {printf "agent CPU: %.3f %% of one core\n", 100 * d / hz / t}'
awk -v d=$((n1 - n0)) -v hz="$clk" -v t="$window" 'BEGIN {printf "node-exporter CPU (not scraped): %.3f %% of one core\n", 100 * d / hz / t}'
[[ $others -gt 0 ]] && echo "WARNING: $others other connection(s) to the agent's metrics port at the end of the window"
echo "agent threads, CPU ms in the window (top 15):"
python3 - "$dir/threads0.txt" "$dir/threads1.txt" "$dir/names.txt" "$window" "$clk" <<'PY'
import collections, re, sys
def load(p):
    d = {}
    for line in open(p):
        tid, ticks, comm = line.rstrip("\n").split(" ", 2)
        d[tid] = (int(ticks), comm)
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
names = dict(l.rstrip("\n").split(" ", 1) for l in open(sys.argv[3]) if " " in l)
window, hz = float(sys.argv[4]), float(sys.argv[5])
groups = collections.Counter()
for tid, (ticks, comm) in b.items():
    name = names.get(tid, comm + " (comm)")
    groups[re.sub(r"-\d+$", "-N", name)] += ticks - a.get(tid, (0, comm))[0]
for name, t in groups.most_common(15):
    print("  %7.0f ms  %6.3f %%  %s" % (1000 * t / hz, 100 * t / hz / window, name))
print("  threads: %d (the CPU of threads that ended in the window is in the total only)" % len(b))
PY
grep -E "VmRSS|VmHWM|Threads" "/proc/$agent/status" | sed 's/^/agent /'
jcmd "$agent" GC.heap_info 2>/dev/null | sed -n '2,6p' | sed 's/^/agent heap: /'
if [[ ${HISTO:-0} == 1 ]]; then # after the window: the histogram's full collection would be in it
    echo "agent live heap (GC.class_histogram, after a full collection), top 20:"
    jcmd "$agent" GC.class_histogram 2>/dev/null | sed -n '2,23p;$p' | sed 's/^/  /'
    jcmd "$agent" GC.heap_info 2>/dev/null | sed -n '2,6p' | sed 's/^/agent heap after it: /'
    grep -E "VmRSS" "/proc/$agent/status" | sed 's/^/agent after it: /'
fi
grep -E "VmRSS" "/proc/$ne/status" | sed 's/^/node-exporter /'
echo "agent /metrics: $(scrape "$metrics")"
echo "node-exporter /metrics: $(scrape "$exporter")"
echo "scrape sizes: agent $(curl -s "http://$metrics/metrics" | wc -c) B, node-exporter $(curl -s "http://$exporter/metrics" | wc -c) B"

wait $load || true
echo "== the live meter (every session.usage event the scheduler received)"
grep -E "^load: .*(steps|usage events)" "$dir/load.log" | tail -n $((sessions + 1))

kill -TERM "$agent"; wait "$agent" || true
agent=
start_agent
echo "== restart with $sessions sessions running: READY in $ready_ms ms"
grep -oE "reconciled .*" "$dir/agent.log" | tail -1
if [[ ${NMT:-0} == 1 ]]; then
    kill -TERM "$agent"; wait "$agent" || true
    EXTRA_JAVA_OPTS="-XX:NativeMemoryTracking=summary" start_agent
    sleep 20
    echo "== native memory (a start with -XX:NativeMemoryTracking=summary, $sessions sessions adopted)"
    jcmd "$agent" VM.native_memory summary 2>/dev/null | grep -E "^-|Total:|committed=" | grep -E "Total|Java Heap|Class|Thread|Code|GC|Internal|Other|Symbol|Native Memory Tracking|Arena|Metaspace" | head -20
    grep VmRSS "/proc/$agent/status"
fi
