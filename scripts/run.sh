#!/usr/bin/env bash
# Runs the agent's main job on this machine: probe the GPUs, then run the daemon (Ctrl-C stops it).
# On a machine without an NVIDIA driver it uses gpu-agent's simulated NVML and a simulated
# 8x H100 server (pick another with SIM_MACHINE=config/sim/<file>.conf); simulated GPUs are flagged
# and never sold as real. Extra arguments go to `gpu-agent run` (e.g. --set log.level=debug).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jar=agent/target/gpu-agent.jar
sim_lib=native/build/libnvidia-ml.so.1

if [[ ! -f $jar || ! -f $sim_lib ]]; then
    echo "run.sh: building (first run only; scripts/test.sh runs the tests)"
    command -v mvn >/dev/null || { echo "run.sh: Maven is missing: apt-get install maven openjdk-17-jdk-headless gcc make" >&2; exit 1; }
    mvn -B -ntp -q -DskipTests package
fi

args=(--set "agent.state_dir=$root/run/state")
if [[ -z ${SIM_MACHINE:-} ]] && ldconfig -p 2>/dev/null | grep -q 'libnvidia-ml.so.1 ' && [[ -e /dev/nvidiactl ]]; then
    echo "run.sh: NVIDIA driver found: using the real GPUs"
else
    machine=${SIM_MACHINE:-config/sim/server-8x-h100.conf}
    echo "run.sh: no NVIDIA driver here: simulated GPUs from $machine"
    export GPU_AGENT_SIM_CONFIG=$root/$machine
    export GPU_AGENT_SIM_CONTROL=$root/run/sim-control
    args+=(--set "gpu.nvml_library=$root/$sim_lib")
    echo "run.sh: inject faults with e.g.: echo 'xid 3 79' >> run/sim-control   (see native/README.md)"
fi
# Renting needs Docker: use the system's engine, or the private test engine of scripts/docker-test-env.sh
# when it runs; without one the agent runs without sessions (probe, telemetry, metrics).
docker_host=${DOCKER_HOST:-}
docker_sock=${docker_host#unix://}
[[ -n ${DOCKER_HOST:-} && -S $docker_sock ]] || docker_sock=/run/docker.sock
[[ -S $docker_sock ]] || docker_sock=/var/tmp/gpu-agent-docker/docker.sock
if [[ -S $docker_sock ]]; then
    echo "run.sh: Docker at $docker_sock: renting enabled (GPUs attached: ${GPU_ATTACH:-none} on simulated GPUs)"
    args+=(--set "docker.socket=$docker_sock")
    [[ -n ${GPU_AGENT_SIM_CONFIG:-} ]] && args+=(--set "sessions.gpu_attach=${GPU_ATTACH:-none}")
else
    echo "run.sh: no Docker engine found: running without sessions (scripts/docker-test-env.sh start gives one)"
    args+=(--set sessions.enabled=false)
fi
mkdir -p run/state
touch run/sim-control

java -jar "$jar" probe "${args[@]}"
echo
exec java -XX:+UseSerialGC -Xss512k -jar "$jar" run "${args[@]}" "$@"
