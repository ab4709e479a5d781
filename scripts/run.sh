#!/usr/bin/env bash
# README's first command: the agent's main job, end to end, on this machine.
#
#  1. the GPUs: the real ones when an NVIDIA driver is here, else gpu-agent's simulated NVML and a
#     simulated 8x H100 server (SIM_MACHINE=config/sim/<file>.conf picks another; simulated GPUs
#     are flagged and never sold as real);
#  2. a container engine: the system's Docker, else the private test engine
#     (scripts/docker-test-env.sh, as root); without one the agent runs without renting;
#  3. a local EVM chain (scripts/chain.sh: ganache, chain id 1337) with the test token and the
#     escrow deployed, the provider's wallet and development TLS certificates (gpu-agent demo setup);
#  4. the agent (probe, then the daemon) with its scheduler link on mutual TLS and escrow enabled;
#  5. a whole rental played by the Java scheduler client (gpu-agent demo rent): the renter opens a
#     rental with a deposit, a container runs for a few seconds while vouchers flow, the session
#     ends, the agent claims, and the payout, the platform fee and the refund are read back from
#     the chain;
#  6. the agent keeps running (Ctrl-C stops it) with its metrics URL shown.
#
# The agent runs through scripts/gpu-agent.sh, the launcher the systemd unit uses, so with the
# unit's JVM flags. The jar is rebuilt when a source is newer than it.
#
#   scripts/run.sh [gpu-agent run options]   all of the above
#   scripts/run.sh stop                      stop what an earlier run started: the agent, the local
#                                            chain and (when that run started it) the Docker test engine
#
# Extra arguments go to `gpu-agent run` (e.g. --set log.level=debug). Environment:
#   GPU_AGENT_RUN_DIR     where state, logs and the demo's files go (default: run/ in the repo)
#   GPU_AGENT_CHAIN_PORT  the local chain's port (default 8545); GPU_AGENT_CHAIN_DIR its files
#   GPU_AGENT_LISTEN      the agent's scheduler address (default 127.0.0.1:7443; port 0: one the
#                         kernel picks, read back from the agent's log, as the tests run it)
#   NO_DEMO=1             start the agent without playing the rental
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jar=$root/agent/target/gpu-agent.jar
sim_lib=$root/native/build/libnvidia-ml.so.1
run_dir=${GPU_AGENT_RUN_DIR:-$root/run}
chain_port=${GPU_AGENT_CHAIN_PORT:-8545}
export GPU_AGENT_CHAIN_PORT=$chain_port
export GPU_AGENT_CHAIN_DIR=${GPU_AGENT_CHAIN_DIR:-$run_dir/chain}
listen=${GPU_AGENT_LISTEN:-127.0.0.1:7443}

say() { echo "run.sh: $*"; }

# What an earlier run started: the agent (its pid file), the chain (in the run directory), and the
# Docker test engine when that run started it (a marker file says so; an engine that was already
# running is left alone).
stop_all() {
    local pid
    if [[ -f $run_dir/agent.pid ]] && pid=$(<"$run_dir/agent.pid") && kill -0 "$pid" 2>/dev/null; then
        say "stopping the agent (pid $pid; SIGTERM: it drains, renters' containers keep running)"
        kill -TERM "$pid"
        for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$pid" 2>/dev/null && { say "the agent did not stop in 30 s: SIGKILL"; kill -KILL "$pid"; }
    else
        say "the agent is not running"
    fi
    rm -f "$run_dir/agent.pid"
    scripts/chain.sh stop
    if [[ -f $run_dir/docker-test-env.started ]]; then
        scripts/docker-test-env.sh stop
        rm -f "$run_dir/docker-test-env.started"
    fi
}
if [[ ${1:-} == stop ]]; then
    stop_all
    exit 0
fi

# A build is due when the jar or the simulated NVML is missing, or a source is newer than the jar.
stale_build() {
    [[ ! -f $jar || ! -f $sim_lib ]] && return 0
    [[ -n $(find pom.xml agent/pom.xml agent/src/main native -path native/build -prune -o -type f -newer "$jar" -print \
        2>/dev/null | head -n 1) ]]
}
if stale_build || [[ ! -x contracts/node_modules/.bin/ganache ]]; then
    say "building (sources newer than the jar, or a first run; scripts/test.sh runs the tests)"
    command -v mvn >/dev/null || { echo "run.sh: Maven is missing: apt-get install maven openjdk-17-jdk-headless gcc make" >&2; exit 1; }
    command -v npm >/dev/null || { echo "run.sh: Node.js and npm are missing (the local chain): apt-get install nodejs npm" >&2; exit 1; }
    mvn -B -ntp -q -DskipTests package
    touch "$jar" # the shade plugin keeps an unchanged jar's old time
fi
mkdir -p "$run_dir/state"
touch "$run_dir/sim-control"

args=(--set "agent.state_dir=$run_dir/state")
if [[ -z ${SIM_MACHINE:-} ]] && ldconfig -p 2>/dev/null | grep -q 'libnvidia-ml.so.1 ' && [[ -e /dev/nvidiactl ]]; then
    say "NVIDIA driver found: using the real GPUs"
else
    machine=${SIM_MACHINE:-config/sim/server-8x-h100.conf}
    say "no NVIDIA driver here: simulated GPUs from $machine"
    export GPU_AGENT_SIM_CONFIG=$root/$machine
    export GPU_AGENT_SIM_CONTROL=$run_dir/sim-control
    args+=(--set "gpu.nvml_library=$sim_lib")
    say "inject faults with e.g.: echo 'xid 3 79' >> $run_dir/sim-control   (see native/README.md)"
fi

# Renting needs Docker: the system's engine, the private test engine when it runs, or (as root)
# the private test engine started now; without one the agent runs without sessions.
docker_host=${DOCKER_HOST:-}
docker_sock=${docker_host#unix://}
[[ -n ${DOCKER_HOST:-} && -S $docker_sock ]] || docker_sock=/run/docker.sock
[[ -S $docker_sock ]] || docker_sock=/var/tmp/gpu-agent-docker/docker.sock
if [[ ! -S $docker_sock && $(id -u) -eq 0 && -z ${NO_DEMO:-} ]]; then
    say "no Docker engine found: starting the private test engine (scripts/run.sh stop ends it)"
    scripts/docker-test-env.sh start
    mkdir -p "$run_dir"
    touch "$run_dir/docker-test-env.started"
fi
renting=1
if [[ -S $docker_sock ]]; then
    say "Docker at $docker_sock: renting enabled (GPUs attached: ${GPU_ATTACH:-none} on simulated GPUs)"
    args+=(--set "docker.socket=$docker_sock")
    [[ -n ${GPU_AGENT_SIM_CONFIG:-} ]] && args+=(--set "sessions.gpu_attach=${GPU_ATTACH:-none}")
else
    say "no Docker engine (run as root to start the private one): running without sessions"
    args+=(--set sessions.enabled=false)
    renting=
fi

# The local chain, the escrow on it, the wallet and the TLS files; the agent's config comes from them.
scripts/chain.sh start
java -jar "$jar" demo setup --rpc "http://127.0.0.1:$chain_port" --dir "$run_dir/demo" --state-dir "$run_dir/state" \
    --listen "$listen"
config=$run_dir/demo/agent.toml

java -jar "$jar" probe "${args[@]}"
echo
log=$run_dir/agent.log
say "starting the agent (its log: $log)"
# the launcher the systemd unit runs (its JVM flags); it execs java, so $! is the agent's JVM
mkdir -p "$run_dir/cds"
GPU_AGENT_JAR=$jar GPU_AGENT_HOME=$root/agent/target GPU_AGENT_CDS_DIR=$run_dir/cds scripts/gpu-agent.sh run --config "$config" "${args[@]}" "$@" \
    >"$log" 2>&1 &
agent=$!
echo $agent >"$run_dir/agent.pid"
# whoever ends this script (Ctrl-C, SIGTERM, a closed terminal or pipe) ends the agent too
trap 'kill -TERM $agent 2>/dev/null; wait $agent 2>/dev/null; exit 0' INT TERM HUP PIPE
for _ in $(seq 1 120); do
    grep -q "ready in" "$log" && break
    if ! kill -0 $agent 2>/dev/null; then
        cat "$log" >&2
        echo "run.sh: the agent exited (above: its log)" >&2
        exit 1
    fi
    sleep 0.5
done
grep -E "SIMULATED|payouts go to|serving schedulers|metrics endpoint|ready in" "$log" || true
metrics=$(grep -oE 'metrics endpoint on http://[^ ]+/metrics' "$log" | head -1 | sed 's/metrics endpoint on //')
# where the agent listens for schedulers: the address asked for, or the port the kernel picked for port 0
bound=$(grep -oE 'serving schedulers on /?[^ ]+' "$log" | head -1 | sed -E 's#^serving schedulers on /?##' || true)
listen=${bound:-$listen}

if [[ -n $renting && -z ${NO_DEMO:-} ]]; then
    echo
    say "playing a whole rental against the agent (gpu-agent demo rent)"
    java -jar "$jar" demo rent --config "$config" --set "market.listen=$listen" \
        || say "the demo rental failed (above); the agent keeps running"
fi
echo
say "the agent keeps running: metrics ${metrics:-disabled}; state: java -jar agent/target/gpu-agent.jar status"
say "follow it as a scheduler: java -jar agent/target/gpu-agent.jar scheduler follow --connect $listen --tls-dir $run_dir/demo/tls"
say "Ctrl-C stops the agent; scripts/run.sh stop also stops the local chain (and the Docker test engine if this run started it)"
tail -n 0 -f "$log" --pid=$agent &
wait $agent
