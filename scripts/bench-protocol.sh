#!/usr/bin/env bash
# The scheduler protocol's figures for docs/benchmarks.md ("Scheduler protocol").
# Usage: [BENCH_CPUS=1] scripts/bench-protocol.sh [seconds-per-server] [unit|default] [ProtocolRoundTrip options]
#  1. JMH ProtocolCodecBenchmark: the JSON codec alone (status, its answer, launch), -prof gc.
#  2. ProtocolRoundTrip: the agent's scheduler link (MarketLink, mutual TLS 1.3 and plaintext) and a bare
#     Netty echo server with the same framing and TLS, in one JVM, on loopback: round-trip percentiles
#     (1 connection, 1 outstanding), then status requests per second, closed loop (1x1, 1x16, 64x1:
#     connections x outstanding each), with server CPU and allocation per request.
# With "unit" as the second argument, both steps run with the systemd unit's JVM flags
# (GPU_AGENT_JAVA_OPTS_DEFAULT in scripts/gpu-agent.sh, C1 only, SerialGC) instead of the JVM's defaults.
# BENCH_CPUS=1 runs both steps on that CPU list (taskset): on a small shared VM the client and the
# servers otherwise land on one vCPU in one run and on two in the next, and a wake-up across vCPUs
# adds tens of microseconds to whichever server drew it (docs/benchmarks.md, issue 13).
# Extra ProtocolRoundTrip options may follow (e.g. --echo-answer-bytes 676).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
jar=benchmarks/target/benchmarks.jar

# contracts/ (npm) is not needed here
mvn -B -ntp -q -DskipTests package -pl native,agent,benchmarks
echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(java -version 2>&1 | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- agent benchmarks || echo ' (modified)')"

pin=()
if [ -n "${BENCH_CPUS:-}" ]; then
    pin=(taskset -c "$BENCH_CPUS")
    echo "== pinned to CPU(s) $BENCH_CPUS"
fi
jmh_opts=()
if [ "${2:-}" = unit ]; then
    opts=$(scripts/jvm-flags.sh)
    # the load client and the echo server share the agent's 64 MiB heap in this mode
    jmh_opts=(-jvmArgs "$opts")
else
    opts="-Xms1g -Xmx1g"
fi
extra=("${@:3}")

echo "== 1. JMH ProtocolCodecBenchmark, JVM flags: ${jmh_opts[1]:-the JVM defaults (JMH)}"
"${pin[@]}" java -jar $jar ProtocolCodecBenchmark "${jmh_opts[@]}" -prof gc -rf text -rff /tmp/jmh-protocol-codec.txt >/dev/null
grep -E "^Benchmark|ProtocolCodec" /tmp/jmh-protocol-codec.txt | grep -E "Benchmark |avgt|gc.alloc.rate.norm" \
    | grep -vE "gc.alloc.rate +avgt"

echo "== 2. ProtocolRoundTrip, JVM flags: $opts"
# shellcheck disable=SC2086
"${pin[@]}" java $opts -cp $jar io.gpuagent.bench.ProtocolRoundTrip --seconds "$seconds" "${extra[@]}" 2>/dev/null
