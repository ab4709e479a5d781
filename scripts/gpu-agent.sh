#!/bin/sh
# gpu-agent launcher, installed as /usr/bin/gpu-agent by scripts/install.sh.
#
# Finds a Java 17+ runtime and execs the agent's jar with the JVM flags below.
# Runtime search order:
#   1. $GPU_AGENT_HOME/runtime/bin/java   (a bundled jlink runtime, if installed)
#   2. $JAVA_HOME/bin/java
#   3. `java` on PATH
# Environment:
#   GPU_AGENT_HOME       install directory (default /usr/lib/gpu-agent)
#   GPU_AGENT_JAR        the jar (default $GPU_AGENT_HOME/gpu-agent.jar)
#   JAVA_OPTS            replaces the default JVM flags entirely (the daemon's extra one too)
#   GPU_AGENT_JAVA_OPTS  appended to the JVM flags (e.g. -Xlog:gc for a diagnosis)
#   GPU_AGENT_CDS_DIR    where the class-data sharing archive lives (below); GPU_AGENT_CDS=0: none
#
# The script must `exec` java: under systemd (Type=notify, NotifyAccess=main) the JVM has to be
# the unit's main process for its READY=1 / WATCHDOG=1 messages to be accepted.
set -eu

# The JVM flags, in one place. Why each one is here: docs/operations.md ("JVM flags and memory").
GPU_AGENT_JAVA_OPTS_DEFAULT="-XX:+UseSerialGC -Xms16m -Xmx64m -XX:MaxMetaspaceSize=96m \
-XX:ReservedCodeCacheSize=32m -XX:TieredStopAtLevel=1 -Xss512k -XX:MaxDirectMemorySize=32m \
-XX:-UsePerfData -XX:+ExitOnOutOfMemoryError -Dfile.encoding=UTF-8"

# Added for the daemon (`run`) only: its once-a-second work is compiled within minutes instead of
# staying interpreted for half an hour (CPU at full load 0.82 -> 0.53 % of a core), at the price of
# more compiling during its start; CLI commands are short and skip it. JAVA_OPTS replaces both.
GPU_AGENT_DAEMON_JAVA_OPTS_DEFAULT="-XX:CompileThresholdScaling=0.05"
GPU_AGENT_HOME=${GPU_AGENT_HOME:-/usr/lib/gpu-agent}
GPU_AGENT_JAR=${GPU_AGENT_JAR:-$GPU_AGENT_HOME/gpu-agent.jar}

if [ -x "$GPU_AGENT_HOME/runtime/bin/java" ]; then
    java_cmd=$GPU_AGENT_HOME/runtime/bin/java
elif [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    java_cmd=$JAVA_HOME/bin/java
elif command -v java >/dev/null 2>&1; then
    java_cmd=$(command -v java)
else
    echo "gpu-agent: no Java runtime found: install Java 17 or later (e.g. apt-get install openjdk-17-jre-headless)," >&2
    echo "gpu-agent: set JAVA_HOME, or install the bundled runtime in $GPU_AGENT_HOME/runtime" >&2
    exit 127
fi

if [ ! -r "$GPU_AGENT_JAR" ]; then
    echo "gpu-agent: cannot read $GPU_AGENT_JAR: reinstall with scripts/install.sh" >&2
    exit 127
fi

# JNA unpacks its native stub into a directory it can write: under systemd that is the unit's
# CacheDirectory (/var/cache/gpu-agent), not the state directory that is the user's "home".
jna_opts=""
if [ -n "${CACHE_DIRECTORY:-}" ]; then
    jna_opts="-Djna.tmpdir=${CACHE_DIRECTORY%%:*}"
fi

# Class-data sharing for the agent's own classes (AppCDS, docs/operations.md): the daemon writes
# an archive of every class it loaded when it exits (SIGTERM included; about a second and ~20 MB,
# once per jar), and every later start, the daemon's and the CLI's, maps it instead of parsing
# and verifying those classes again. The archive's name carries the jar's size and time, so an
# upgraded jar never meets an old archive; a JVM that cannot use one just starts without it.
# Where: GPU_AGENT_CDS_DIR, else the unit's CacheDirectory, else /var/cache/gpu-agent when this
# user can read it. GPU_AGENT_CDS=0 turns it off.
cds_opts=""
cds_dir=${GPU_AGENT_CDS_DIR:-${CACHE_DIRECTORY:-}}
cds_dir=${cds_dir%%:*}
if [ -z "$cds_dir" ] && [ -r /var/cache/gpu-agent ] && [ -x /var/cache/gpu-agent ]; then
    cds_dir=/var/cache/gpu-agent
fi
if [ "${GPU_AGENT_CDS:-1}" != 0 ] && [ -n "$cds_dir" ] && [ -d "$cds_dir" ]; then
    jar_key=$(stat -c '%s-%Y' "$GPU_AGENT_JAR" 2>/dev/null || echo unknown)
    archive=$cds_dir/gpu-agent-$jar_key.jsa
    if [ -r "$archive" ]; then
        cds_opts="-XX:SharedArchiveFile=$archive -Xlog:cds*=off"
    elif [ "${1:-}" = run ] && [ -w "$cds_dir" ]; then
        # archives of earlier jars go; this run's is written at its exit
        find "$cds_dir" -maxdepth 1 -name 'gpu-agent-*.jsa' ! -name "gpu-agent-$jar_key.jsa" -delete 2>/dev/null || true
        cds_opts="-XX:ArchiveClassesAtExit=$archive -Xlog:cds*=off"
    fi
fi

daemon_opts=""
if [ "${1:-}" = run ] && [ -z "${JAVA_OPTS:-}" ]; then
    daemon_opts=$GPU_AGENT_DAEMON_JAVA_OPTS_DEFAULT
fi
# Word splitting of the option strings is intended: they are lists of flags without spaces inside.
# shellcheck disable=SC2086
exec "$java_cmd" ${JAVA_OPTS:-$GPU_AGENT_JAVA_OPTS_DEFAULT} $daemon_opts ${GPU_AGENT_JAVA_OPTS:-} $jna_opts $cds_opts \
    -jar "$GPU_AGENT_JAR" "$@"
