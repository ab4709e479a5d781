#!/bin/sh
# Prints the launcher's JVM flags (scripts/gpu-agent.sh, the one place they are kept) for the
# benchmark scripts: the flags every command gets, and with "daemon" also those the launcher adds
# for `gpu-agent run`. Usage: scripts/jvm-flags.sh [daemon]
set -eu
launcher="$(dirname "$0")/gpu-agent.sh"
flags=$(sed -n '/^GPU_AGENT_JAVA_OPTS_DEFAULT=/,/"$/p' "$launcher" | tr -d '\\\n' | sed 's/^GPU_AGENT_JAVA_OPTS_DEFAULT="//; s/"$//')
if [ "${1:-}" = daemon ]; then
    flags="$flags $(sed -n 's/^GPU_AGENT_DAEMON_JAVA_OPTS_DEFAULT="\(.*\)"$/\1/p' "$launcher")"
fi
echo "$flags"
