#!/usr/bin/env bash
# A local EVM chain for the escrow's integration tests and the demo: ganache 7.9.2 from
# contracts/node_modules, chain id 1337, shanghai, 10 deterministic accounts with 1000 ETH each,
# a block every second (like a real chain, so chain time moves on while nobody transacts: the
# escrow checks voucher seconds against it), listening on 127.0.0.1 only.
#
#   scripts/chain.sh start    start it in the background (a no-op when it already runs)
#   scripts/chain.sh stop     stop it and wait until it is gone
#   scripts/chain.sh status   exit 0 and print the URL when it runs, exit 1 when not
#
# GPU_AGENT_CHAIN_PORT  port (default 8545)
# GPU_AGENT_CHAIN_DIR   state dir: chain database (data/), log (ganache.log), pid file (default
#                       /var/tmp/gpu-agent-chain). The database survives stop/start; remove the
#                       dir for a fresh chain.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${GPU_AGENT_CHAIN_PORT:-8545}"
DIR="${GPU_AGENT_CHAIN_DIR:-/var/tmp/gpu-agent-chain}"
PID_FILE="$DIR/ganache.pid"
LOG="$DIR/ganache.log"
URL="http://127.0.0.1:$PORT"
CHAIN_ID=1337
GANACHE=contracts/node_modules/.bin/ganache

die() { echo "chain: $*" >&2; exit 1; }

running_pid() {
    [[ -f $PID_FILE ]] || return 1
    local pid
    pid=$(<"$PID_FILE")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

# prints the chain id in decimal when the node answers eth_chainId
chain_id() {
    local answer
    answer=$(curl -s --max-time 2 -H 'Content-Type: application/json' \
        -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$URL" 2>/dev/null) || return 1
    [[ $answer =~ \"result\":\"(0x[0-9a-fA-F]+)\" ]] || return 1
    echo $((BASH_REMATCH[1]))
}

start() {
    if pid=$(running_pid); then
        echo "chain: $URL (chain id $CHAIN_ID), already running (pid $pid)"
        return 0
    fi
    command -v curl >/dev/null || die "curl is needed to wait for the node"
    if [[ ! -x $GANACHE ]]; then
        command -v npm >/dev/null || die "npm is needed to install ganache (contracts/package-lock.json)"
        npm ci --prefix contracts --no-audit --no-fund >&2
    fi
    mkdir -p "$DIR/data"
    # setsid: its own session, so the caller's Ctrl-C or exit does not take it down
    setsid "$GANACHE" \
        --server.host 127.0.0.1 --server.port "$PORT" \
        --chain.chainId "$CHAIN_ID" --chain.hardfork shanghai \
        --wallet.deterministic --wallet.totalAccounts 10 --wallet.defaultBalance 1000 \
        --miner.blockTime 1 \
        --database.dbPath "$DIR/data" \
        >>"$LOG" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$PID_FILE"
    local id
    for _ in $(seq 1 120); do
        if id=$(chain_id); then
            [[ $id == "$CHAIN_ID" ]] || { stop >/dev/null; die "$URL answers chain id $id, expected $CHAIN_ID"; }
            echo "chain: $URL (chain id $CHAIN_ID)"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PID_FILE"
            echo "chain: ganache exited during start; last lines of $LOG:" >&2
            tail -n 20 "$LOG" >&2
            exit 1
        fi
        sleep 0.5
    done
    echo "chain: no answer to eth_chainId on $URL within 60 s; last lines of $LOG:" >&2
    tail -n 20 "$LOG" >&2
    stop >/dev/null
    exit 1
}

stop() {
    local pid
    if ! pid=$(running_pid); then
        rm -f "$PID_FILE"
        echo "chain: not running"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "chain: pid $pid ignored SIGTERM for 10 s, sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$PID_FILE"
    echo "chain: stopped (pid $pid)"
}

status() {
    local pid id
    if pid=$(running_pid) && id=$(chain_id); then
        echo "chain: $URL (chain id $id), pid $pid"
        return 0
    fi
    echo "chain: not running on $URL"
    return 1
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
