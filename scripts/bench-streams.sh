#!/usr/bin/env bash
# Issue 10's stream figures for docs/benchmarks.md ("Streams"): the agent with the systemd unit's JVM
# flags (scripts/jvm-flags.sh daemon) on the simulated gaming PC, sessions on the private test engine
# (scripts/docker-test-env.sh), the scheduler link over mutual TLS 1.3 on loopback, and
# io.gpuagent.bench.StreamBench as the scheduler: tunnel throughput vs a direct TCP read of the same
# container port, keystroke round trips through an exec with a PTY, heartbeats idle and beside four
# saturated streams, the agent's heap with 16 saturated and 16 stalled streams.
# Usage: [BENCH_PLAINTEXT=1] [BENCH_TLS_PROVIDER=auto|openssl|jdk] [BENCH_AGENT_FLAGS="..."] scripts/bench-streams.sh
# (the TLS implementation of both ends: the agent's default, auto, is BoringSSL where it loads)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -ntp -q -o -DskipTests package -pl native,agent,benchmarks || mvn -B -ntp -q -DskipTests package -pl native,agent,benchmarks
echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(java -version 2>&1 | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- agent benchmarks || echo ' (modified)')"
work=$(mktemp -d /tmp/gpu-agent-bench-streams.XXXXXX)
agent_pid=
cleanup() {
    [[ -n $agent_pid ]] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null || true
    scripts/docker-test-env.sh stop >/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
scripts/docker-test-env.sh start >/dev/null
eval "$(scripts/docker-test-env.sh env)"
jar=agent/target/gpu-agent.jar
# BENCH_PLAINTEXT=1: the link without TLS, to tell the relay's cost from the encryption's
if [[ -n ${BENCH_PLAINTEXT:-} ]]; then
    link=(--set market.plaintext=true); tlsarg=-
else
    link=(--set market.tls_cert="$work/tls/agent.pem" --set market.tls_key="$work/tls/agent-key.pem"
          --set market.tls_ca="$work/tls/ca.pem"); tlsarg=$work/tls
fi
java -jar $jar tls init --dir "$work/tls" --set agent.state_dir="$work/state" >/dev/null
provider=(-Dgpuagent.tls.provider="${BENCH_TLS_PROVIDER:-auto}")
flags="${BENCH_AGENT_FLAGS:-$(scripts/jvm-flags.sh daemon)} -XX:NativeMemoryTracking=summary ${provider[*]}"
echo "== agent JVM flags: $flags"
# shellcheck disable=SC2086
GPU_AGENT_SIM_CONFIG=config/sim/gaming-pc-rtx4090.conf java $flags -jar $jar run \
    --set agent.state_dir="$work/state" --set gpu.nvml_library="$PWD/native/build/libnvidia-ml.so.1" \
    --set metrics.listen=127.0.0.1:0 --set sessions.enabled=true --set docker.socket="${DOCKER_HOST#unix://}" \
    --set sessions.cpus_per_gpu=1 --set sessions.memory_per_gpu_mb=1024 --set sessions.disk_per_gpu_gb=1 \
    --set market.listen=127.0.0.1:17443 "${link[@]}" \
    --set market.stream_limit_per_session=32 --set market.stream_limit_per_connection=32 \
    --set market.messages_per_second=100000 2>"$work/agent.log" &
agent_pid=$!
for _ in $(seq 100); do grep -q "ready in" "$work/agent.log" && break; sleep 0.2; done
grep -q "ready in" "$work/agent.log" || { cat "$work/agent.log"; exit 1; }
grep -m1 "TLS provider" "$work/agent.log" || true
java "${provider[@]}" -cp benchmarks/target/benchmarks.jar io.gpuagent.bench.StreamBench 127.0.0.1:17443 "$tlsarg" "$agent_pid" 2>/dev/null
