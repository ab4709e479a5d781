#!/usr/bin/env bash
# /metrics under load, builds compared in turns (docs/benchmarks.md, "issue 13").
# Usage: scripts/bench-metrics.sh [rounds] [DIR...]
#   Each DIR holds a gpu-agent.jar and a benchmarks.jar (copies of agent/target/ and
#   benchmarks/target/ of one commit, e.g. the commit before a change); without DIRs, this
#   checkout's jars, built first. Every round runs every DIR in turn (A B A B ...), so that the
#   machine's load falls on all of them alike:
#   - the daemon on the simulated 8x H100 server, sessions off, with the systemd unit's JVM flags
#     (GPU_AGENT_JAVA_OPTS_DEFAULT in scripts/gpu-agent.sh) and -Xlog:gc to a file; a 5 s warm-up
#     (C1 compiles), then wrk from a second process, 1 thread, 1 and then 16 connections, 10 s each:
#     p50, p99, requests, the daemon's CPU per request (/proc/PID/stat) and its GC pauses;
#     then the issue's own protocol from Python (http.client, keep-alive): 300 sequential scrapes on
#     one connection, and 16 concurrent scrapers of 40 scrapes each, one connection each;
#     With COLD=1 only the Python scrapes, at once after READY (no warm-up: the JIT's first minute);
#   - with JMH=1, also JMH MetricsScrapeBenchmark with the unit's heap, GC and C1 flags, -prof gc.
#   At the end, the medians over the rounds per DIR and connection count.
# Environment: PORT (default: a free one, never the 9464 a running agent may hold), SECONDS_EACH.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rounds=${1:-3}
shift || true
port=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
secs=${SECONDS_EACH:-10}
export GPU_AGENT_SIM_CONFIG=$root/config/sim/server-8x-h100.conf
export GPU_AGENT_NVML_LIBRARY=$root/native/build/libnvidia-ml.so.1
command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk"; exit 1; }
dirs=("$@")
if [ ${#dirs[@]} -eq 0 ]; then
    mvn -B -ntp -q -DskipTests package -pl native,agent,benchmarks
    dirs=("$root/agent/target")
    cp benchmarks/target/benchmarks.jar agent/target/benchmarks.jar
fi
opts=$(scripts/jvm-flags.sh)
echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(java -version 2>&1 | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- agent benchmarks || echo ' (modified)')"
echo "== JVM flags: $opts"
out=$(mktemp /tmp/bench-metrics.XXXXXX)
clk=$(getconf CLK_TCK)

one() { # DIR: one daemon, wrk at 1 and 16 connections
    local dir=$1 state gclog pid
    state=$(mktemp -d /tmp/bench-metrics-state.XXXXXX)
    gclog=$state/gc.log
    # shellcheck disable=SC2086
    java $opts -Xlog:gc:file=$gclog -jar "$dir/gpu-agent.jar" run --set "gpu.nvml_library=$GPU_AGENT_NVML_LIBRARY" \
        --set "metrics.listen=127.0.0.1:$port" --set "agent.state_dir=$state" --set log.level=warn \
        --set sessions.enabled=false >"$state/daemon.log" 2>&1 &
    pid=$!
    for _ in $(seq 150); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
    if ! kill -0 $pid 2>/dev/null; then
        echo "the daemon of $dir did not start:"; tail -5 "$state/daemon.log"; exit 1
    fi
    local conns="1 16"
    if [ "${COLD:-0}" = 1 ]; then
        conns=""  # the Python scrapes only, at once after READY: the JIT has not compiled the scrape yet
    else
        wrk -t1 -c4 -d5s "http://127.0.0.1:$port/metrics" >/dev/null
    fi
    for c in $conns; do
        local u0 s0 u1 s1 g0 g1 r
        read -r u0 s0 < <(awk '{print $14, $15}' /proc/$pid/stat)
        g0=$(grep -c Pause "$gclog" || true)
        r=$(wrk -t1 -c$c -d${secs}s --latency "http://127.0.0.1:$port/metrics")
        read -r u1 s1 < <(awk '{print $14, $15}' /proc/$pid/stat)
        g1=$(grep -c Pause "$gclog" || true)
        echo "$r" | awk -v dir="$dir" -v c=$c -v d=$((u1 + s1 - u0 - s0)) -v hz="$clk" -v g=$((g1 - g0)) \
            -v load="$(cut -d' ' -f1 /proc/loadavg)" '
            function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
            $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) } /requests in/ { n = $1 }
            /Socket errors|Non-2xx/ { err = err " " $0 }
            END { printf "%s c=%d p50_ms=%.2f p99_ms=%.2f requests=%d cpu_us_per_request=%.0f gc_pauses=%d load=%s%s\n",
                         dir, c, p50, p99, n, d / hz / n * 1e6, g, load, err }' | tee -a "$out"
    done
    python3 - "$port" "$dir" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY' | tee -a "$out"
import http.client, statistics, sys, threading, time
port, label, load = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def scrapes(n, into):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(n):
        t = time.perf_counter()
        c.request("GET", "/metrics")
        r = c.getresponse()
        r.read()
        into.append((time.perf_counter() - t) * 1000)
        assert r.status == 200, r.status
    c.close()
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]
seq = []
scrapes(300, seq)
conc = []
ts = [threading.Thread(target=scrapes, args=(40, conc)) for _ in range(16)]
[t.start() for t in ts]
[t.join() for t in ts]
print(f"{label} py300 p50_ms={pct(seq, .5):.2f} p99_ms={pct(seq, .99):.2f} load={load}")
print(f"{label} py16x40 p50_ms={pct(conc, .5):.2f} p99_ms={pct(conc, .99):.2f} load={load}")
PY
    kill -TERM $pid
    wait $pid || true
    rm -rf "$state"
}

for round in $(seq "$rounds"); do
    for dir in "${dirs[@]}"; do
        echo "-- round $round: $dir"
        if [ "${JMH:-0}" = 1 ]; then
            java -jar "$dir/benchmarks.jar" MetricsScrapeBenchmark -prof gc \
                -jvmArgs "-XX:+UseSerialGC -Xms16m -Xmx64m -XX:TieredStopAtLevel=1" -rf text -rff /tmp/jmh-metrics.txt >/dev/null
            grep -E "MetricsScrape" /tmp/jmh-metrics.txt | grep -E "avgt" | grep -vE "gc.alloc.rate +|gc.count|gc.time"
        fi
        one "$dir"
    done
done

echo "== medians over $rounds rounds"
python3 - "$out" "$secs" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    rows.setdefault((line.split()[0], f.get("c") or line.split()[1]), []).append(f)
for (d, c), fs in rows.items():
    med = lambda k: statistics.median(float(f[k]) for f in fs)
    if c.startswith("py"):
        print(f"{d} {c}: p50 {med('p50_ms'):.2f} ms, p99 {med('p99_ms'):.2f} ms, load {med('load'):.2f}")
        continue
    print(f"{d} c={c}: p50 {med('p50_ms'):.2f} ms, p99 {med('p99_ms'):.2f} ms, "
          f"{med('requests') / float(sys.argv[2]):.0f} requests/s, CPU {med('cpu_us_per_request'):.0f} us per request, "
          f"{med('gc_pauses'):.0f} GC pauses, load {med('load'):.2f}")
PY
rm -f "$out"
