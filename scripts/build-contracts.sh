#!/usr/bin/env bash
# Compiles the escrow contract (agent/src/main/solidity) with solc-js and rewrites the committed
# artifacts under agent/src/main/resources/io/gpuagent/escrow. Installs contracts/node_modules from
# the lock file first when it is missing. Usage: scripts/build-contracts.sh [--check]
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -d contracts/node_modules ]]; then
    npm ci --prefix contracts --no-audit --no-fund
fi
npm run build --prefix contracts -- "$@"
