#!/bin/bash
# Start to READY=1 of the daemon through the launcher (the unit's flags, class-data sharing from
# /tmp/cds-final when it holds an archive of this jar), sessions on with an empty journal, escrow and
# market off, on the simulated 8x H100: N starts (default 6) with the daemon's JIT flag and N without,
# interleaved, timed from exec to READY=1 on a real notify socket. Needs the private Docker engine
# (scripts/docker-test-env.sh start). Usage: [N=6] [CDS_DIR=dir] scripts/bench-ready.sh
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export GPU_AGENT_SIM_CONFIG=$root/config/sim/server-8x-h100.conf
lib=$root/native/build/libnvidia-ml.so.1
noscale=$(scripts/jvm-flags.sh)
base=$(scripts/jvm-flags.sh daemon)
ts=$(mktemp /tmp/gpu-agent-ready.XXXXXX)
trap 'rm -f "$ts"' EXIT
one() { # flags -> ms
  local sock; sock=$(mktemp -u /tmp/ready.XXXXXX.sock)
  python3 - "$sock" > "$ts" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(60)
while True:
    m = s.recv(4096)
    if b"READY=1" in m:
        print(time.time_ns()); break
PY
  local py=$!
  for _ in $(seq 50); do [[ -S $sock ]] && break; sleep 0.05; done
  local t0; t0=$(date +%s%N)
  NOTIFY_SOCKET=$sock JAVA_OPTS="$1" GPU_AGENT_JAR=$root/agent/target/gpu-agent.jar GPU_AGENT_HOME=$root/agent/target GPU_AGENT_CDS_DIR=${CDS_DIR:-/tmp/cds-final} \
    scripts/gpu-agent.sh run --set "gpu.nvml_library=$lib" --set "agent.state_dir=${TMPDIR:-/tmp}/gpu-agent-bench-ready" --set log.level=warn \
    --set sessions.enabled=true --set "docker.socket=/var/tmp/gpu-agent-docker/docker.sock" >/dev/null 2>&1 &
  local pid=$!
  wait $py || true
  echo $((($(cat "$ts") - t0) / 1000000))
  kill -TERM $pid; wait $pid 2>/dev/null || true
  rm -f "$sock"
}
a=(); b=()
for i in $(seq ${N:-6}); do a+=($(one "$base")); b+=($(one "$noscale")); done
echo "with scaling:    ${a[*]}  median $(printf '%s\n' "${a[@]}" | sort -n | awk '{x[NR]=$1} END {print x[int((NR+1)/2)]}')"
echo "without scaling: ${b[*]}  median $(printf '%s\n' "${b[@]}" | sort -n | awk '{x[NR]=$1} END {print x[int((NR+1)/2)]}')"
