#!/usr/bin/env bash
# Puts the browser libraries of the reference web terminal (docs/web-terminal.md) where the agent's
# jar picks them up: xterm.js and its fit addon, as npm ships them (@xterm/xterm, @xterm/addon-fit,
# pinned by agent/src/main/web-terminal/package-lock.json), copied with their licences into
# agent/target/web-terminal-assets/io/gpuagent/devtools/web/vendor/. The agent's Maven build runs
# this in generate-resources and adds that directory to the jar; the page is then served from the
# jar alone, no CDN. A no-op when the files are newer than the lock file.
#
# Without npm, or when npm cannot reach the registry (and has no cache), it warns and exits 0: the
# agent builds and runs as before, and `gpu-agent web-terminal` says that xterm.js is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

src=agent/src/main/web-terminal
work=agent/target/web-terminal-npm
out=agent/target/web-terminal-assets/io/gpuagent/devtools/web/vendor

if [[ -f $out/xterm.js && $out/xterm.js -nt $src/package-lock.json ]]; then
    exit 0
fi
warn() { echo "web-terminal-assets: warning: $*; the jar has no web terminal (gpu-agent web-terminal)" >&2; }
if ! command -v npm >/dev/null; then
    warn "npm not found"
    exit 0
fi
mkdir -p "$work"
cp "$src/package.json" "$src/package-lock.json" "$work/"
# --ignore-scripts: the packages are plain files; nothing of theirs runs at build time
if ! npm ci --prefix "$work" --no-audit --no-fund --ignore-scripts --loglevel=error >&2; then
    warn "npm ci failed"
    exit 0
fi
m=$work/node_modules/@xterm
mkdir -p "$out"
cp "$m/xterm/lib/xterm.js" "$m/xterm/css/xterm.css" "$m/addon-fit/lib/addon-fit.js" "$out/"
cp "$m/xterm/LICENSE" "$out/xterm-LICENSE.txt"
cp "$m/addon-fit/LICENSE" "$out/addon-fit-LICENSE.txt"
echo "web-terminal-assets: xterm.js $(node -p "require('./$m/xterm/package.json').version" 2>/dev/null || echo '?') into $out" >&2
