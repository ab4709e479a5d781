#!/usr/bin/env bash
# The scheduler protocol's figures for docs/benchmarks.md ("Scheduler protocol").
# Usage: scripts/bench-protocol.sh [seconds-per-server] [unit]
#  1. JMH ProtocolCodecBenchmark: the JSON codec alone (status, its answer, launch), -prof gc.
#  2. ProtocolRoundTrip: the agent's scheduler link (MarketLink, mutual TLS 1.3 and plaintext) and a bare
#     Netty echo server with the same framing and TLS, in one JVM, on loopback: round-trip percentiles
#     (1 connection, 1 outstanding), then status requests per second, closed loop (1x1, 1x16, 64x1:
#     connections x outstanding each), with server CPU and allocation per request.
# With "unit" as the second argument, step 2 runs with the systemd unit's JVM flags
# (GPU_AGENT_JAVA_OPTS_DEFAULT in scripts/gpu-agent.sh, C1 only, SerialGC) instead of the JVM's defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
jar=benchmarks/target/benchmarks.jar

# contracts/ (npm) is not needed here
mvn -B -ntp -q -DskipTests package -pl native,agent,benchmarks
echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(java -version 2>&1 | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- agent benchmarks || echo ' (modified)')"

if [ "${2:-}" = unit ]; then
    opts=$(sed -n '/^GPU_AGENT_JAVA_OPTS_DEFAULT=/,/"$/p' scripts/gpu-agent.sh | tr -d '\\\n' | sed 's/^GPU_AGENT_JAVA_OPTS_DEFAULT="//; s/"$//')
    # the load client and the echo server share the agent's 64 MiB heap in this mode
else
    opts="-Xms1g -Xmx1g"
    echo "== 1. JMH ProtocolCodecBenchmark"
    java -jar $jar ProtocolCodecBenchmark -prof gc -rf text -rff /tmp/jmh-protocol-codec.txt >/dev/null
    grep -E "^Benchmark|ProtocolCodec" /tmp/jmh-protocol-codec.txt | grep -E "Benchmark |avgt|gc.alloc.rate.norm" \
        | grep -vE "gc.alloc.rate +avgt"
fi

echo "== 2. ProtocolRoundTrip, JVM flags: $opts"
# shellcheck disable=SC2086
java $opts -cp $jar io.gpuagent.bench.ProtocolRoundTrip --seconds "$seconds" 2>/dev/null
