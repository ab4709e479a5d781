#!/usr/bin/env bash
# Runs every test of gpu-agent: the simulated NVML's C tests, the unit tests and the integration
# tests (real JNA -> C boundary, real processes, real systemd-analyze, promtool and a real
# Prometheus server started and stopped by its test, a real Docker engine started and stopped
# here by scripts/docker-test-env.sh, real EVM nodes (ganache from npm) started and stopped by the
# contract and escrow tests). Installs what a fresh
# Debian 12 machine lacks first. Usage: scripts/test.sh [extra mvn args]
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v gcc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
command -v python3 >/dev/null || need+=(python3)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v mvn >/dev/null || need+=(maven)
command -v javac >/dev/null || need+=(openjdk-17-jdk-headless)
command -v nm >/dev/null || need+=(binutils)
# the NAT test (NatStreamsIT) makes a network namespace, a veth pair and a firewall in the namespace
command -v ip >/dev/null || need+=(iproute2)
command -v iptables >/dev/null || need+=(iptables)
# The Rust NVML client (native/test/rust_client) builds offline from Debian's packaged crates;
# the package brings libloading, cfg-if and winapi with it. rustup's cargo, where present, is used.
command -v cargo >/dev/null || need+=(cargo)
[[ -f /usr/share/cargo/registry/nvml-wrapper-sys-0.7.0/Cargo.toml ]] || need+=(librust-nvml-wrapper-sys-dev)
# Node.js and npm: the escrow contract's tests (solc-js, ganache) and the local chain of the escrow
# integration tests. Node 20 is on the CI machines; Debian 12's own nodejs (18) also works.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    need+=(nodejs npm)
elif (( $(node -p 'process.versions.node.split(".")[0]') < 18 )); then
    echo "test.sh: Node.js $(node --version) is too old: the contract tests need Node 18 or later" >&2
    exit 1
fi
# promtool and the Prometheus server for the metrics endpoint's tests
{ command -v promtool >/dev/null && [[ -x /usr/bin/prometheus ]]; } || need+=(prometheus)
# Debian's chromium for the web terminal's browser test (WebTerminalIT drives it with playwright-core
# from npm, which downloads no browser of its own), and a monospace font for its terminal
command -v chromium >/dev/null || need+=(chromium)
[[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ]] || need+=(fonts-dejavu-core)
if ((${#need[@]})); then
    echo "test.sh: installing ${need[*]}"
    if [[ $(id -u) -ne 0 ]]; then
        echo "test.sh: need root to install ${need[*]} (or install them yourself)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# A private Docker engine (own socket, data root on a loop-mounted btrfs so disk limits work) and
# the test image, for the container and session integration tests; stopped again on exit.
scripts/docker-test-env.sh start
trap 'scripts/docker-test-env.sh stop' EXIT
eval "$(scripts/docker-test-env.sh env)"

mvn -B -ntp verify "$@"
