#!/usr/bin/env bash
# Installs (or removes) gpu-agent as a systemd service. Idempotent: run it again to upgrade.
#
#   sudo scripts/install.sh                    # the jar from agent/target/gpu-agent.jar
#   sudo scripts/install.sh path/to/gpu-agent.jar [--runtime DIR]
#   sudo scripts/install.sh --uninstall [--purge]
#   scripts/install.sh --root /tmp/stage ...   # into a staging root; the machine is not touched
#
# What goes where (paths below the root, / by default):
#   /usr/lib/gpu-agent/gpu-agent.jar         the shaded jar
#   /usr/lib/gpu-agent/runtime/              a bundled Java runtime (only with --runtime)
#   /usr/bin/gpu-agent                       the launcher (scripts/gpu-agent.sh)
#   /etc/systemd/system/gpu-agent.service    the unit (systemd/gpu-agent.service)
#   /etc/sysusers.d/gpu-agent.conf           the service user (systemd/gpu-agent.sysusers)
#   /etc/tmpfiles.d/gpu-agent.conf           its directories (systemd/gpu-agent.tmpfiles)
#   /etc/gpu-agent/agent.toml                config/agent.toml, only if there is none yet
#   /usr/share/doc/gpu-agent/                docs/operations.md, docs/real-gpu-check.md
# Never written: an existing /etc/gpu-agent/agent.toml, /etc/gpu-agent/wallet-password, and
# /var/lib/gpu-agent (the journal of billed seconds and pending claims).
set -euo pipefail

readonly SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly UNIT=gpu-agent.service
readonly MIN_JAVA=17

ROOT=""
JAR=""
RUNTIME=""
UNINSTALL=0
PURGE=0

usage() {
    cat <<EOF
Usage: $0 [JAR] [--jar FILE] [--runtime DIR] [--root DIR]
       $0 --uninstall [--purge] [--root DIR]

  JAR, --jar FILE   the agent jar (default: $SRC/agent/target/gpu-agent.jar)
  --runtime DIR     a Java runtime (a jlink image) to bundle as /usr/lib/gpu-agent/runtime
  --root DIR        install below DIR instead of /: no systemctl, no checks of the running
                    system's Docker or NVIDIA driver (used by the tests and for packaging)
  --uninstall       remove the program, unit, launcher and sysusers/tmpfiles entries; keeps
                    /etc/gpu-agent and /var/lib/gpu-agent (config, wallet, journal)
  --purge           with --uninstall: also delete /etc/gpu-agent, /var/lib/gpu-agent and
                    /var/cache/gpu-agent (loses unclaimed earnings recorded in the journal)
EOF
}

die() { echo "install.sh: error: $*" >&2; exit 1; }
warn() { echo "install.sh: warning: $*" >&2; }
say() { echo "  $*"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift 2 ;;
        --root=*) ROOT=${1#--root=}; shift ;;
        --jar) [ $# -ge 2 ] || die "--jar needs a file"; JAR=$2; shift 2 ;;
        --jar=*) JAR=${1#--jar=}; shift ;;
        --runtime) [ $# -ge 2 ] || die "--runtime needs a directory"; RUNTIME=$2; shift 2 ;;
        --runtime=*) RUNTIME=${1#--runtime=}; shift ;;
        --uninstall) UNINSTALL=1; shift ;;
        --purge) PURGE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) usage >&2; die "unknown option $1" ;;
        *) [ -z "$JAR" ] || die "more than one jar given: $JAR and $1"; JAR=$1; shift ;;
    esac
done

if [ -n "$ROOT" ]; then
    mkdir -p "$ROOT"
    ROOT=$(cd "$ROOT" && pwd)
    [ "$ROOT" != / ] || ROOT=""
fi
[ "$PURGE" = 0 ] || [ "$UNINSTALL" = 1 ] || die "--purge only goes with --uninstall"

IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1
if [ "$IS_ROOT" = 0 ]; then
    [ -n "$ROOT" ] || die "run as root (sudo $0 ...), or stage into a directory with --root DIR"
    warn "not running as root: files are staged without their owners (root:gpu-agent, gpu-agent)"
fi

# systemctl only acts on the running system, never on a staging root.
systemd_running() { [ -z "$ROOT" ] && [ -d /run/systemd/system ]; }

# --- uninstall -------------------------------------------------------------------------------

uninstall() {
    echo "Removing gpu-agent from ${ROOT:-/}"
    if systemd_running; then
        if systemctl is-enabled --quiet "$UNIT" 2>/dev/null || systemctl is-active --quiet "$UNIT" 2>/dev/null; then
            # Stopping drains the agent; renters' containers keep running under dockerd.
            systemctl disable --now "$UNIT"
            say "stopped and disabled $UNIT (running rentals were left to Docker)"
        fi
    fi
    local p
    for p in /usr/bin/gpu-agent /etc/systemd/system/$UNIT /etc/sysusers.d/gpu-agent.conf \
             /etc/tmpfiles.d/gpu-agent.conf; do
        if [ -e "$ROOT$p" ] || [ -L "$ROOT$p" ]; then rm -f "$ROOT$p"; say "removed $p"; fi
    done
    for p in /usr/lib/gpu-agent /usr/share/doc/gpu-agent; do
        if [ -e "$ROOT$p" ]; then rm -rf "$ROOT$p"; say "removed $p/"; fi
    done
    if [ "$PURGE" = 1 ]; then
        for p in /etc/gpu-agent /var/lib/gpu-agent /var/cache/gpu-agent; do
            if [ -e "$ROOT$p" ]; then rm -rf "$ROOT$p"; say "purged $p/"; fi
        done
    else
        for p in /etc/gpu-agent /var/lib/gpu-agent; do
            [ -e "$ROOT$p" ] && say "kept $p/ (remove it with --uninstall --purge)"
        done
    fi
    if systemd_running; then systemctl daemon-reload; say "reloaded systemd"; fi
    say "kept the system user gpu-agent (ids are never recycled for another service; userdel gpu-agent removes it)"
    echo "gpu-agent is uninstalled."
}

if [ "$UNINSTALL" = 1 ]; then
    uninstall
    exit 0
fi

# --- prerequisites ---------------------------------------------------------------------------

[ -n "$JAR" ] || JAR=$SRC/agent/target/gpu-agent.jar
[ -f "$JAR" ] || die "no agent jar at $JAR: build it with 'mvn -DskipTests package' in $SRC, or pass its path"

java_major() { # prints the feature version of the java binary $1
    local v
    v=$("$1" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
    case "$v" in
        1.*) v=${v#1.}; echo "${v%%.*}" ;;
        *) v=${v%%[.+-]*}; echo "$v" ;;
    esac
}

if [ -n "$RUNTIME" ]; then
    [ -x "$RUNTIME/bin/java" ] || die "--runtime $RUNTIME has no bin/java"
    java_cmd=$RUNTIME/bin/java
elif [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    java_cmd=$JAVA_HOME/bin/java
elif command -v java >/dev/null 2>&1; then
    java_cmd=$(command -v java)
else
    die "Java $MIN_JAVA or later is required: apt-get install openjdk-17-jre-headless (or pass --runtime DIR)"
fi
jv=$(java_major "$java_cmd")
[[ "$jv" =~ ^[0-9]+$ ]] || die "cannot tell the version of $java_cmd"
[ "$jv" -ge "$MIN_JAVA" ] || die "$java_cmd is Java $jv; Java $MIN_JAVA or later is required (apt-get install openjdk-17-jre-headless)"

if [ -z "$ROOT" ]; then
    getent group docker >/dev/null \
        || die "no 'docker' group: install Docker Engine first (https://docs.docker.com/engine/install/); the agent starts renters' containers through it"
    [ -S /run/docker.sock ] || [ -S /var/run/docker.sock ] \
        || warn "no /run/docker.sock: is dockerd running? (systemctl enable --now docker)"
    if ! { [ -e /dev/nvidiactl ] || ldconfig -p 2>/dev/null | grep -q 'libnvidia-ml\.so\.1'; }; then
        warn "no NVIDIA driver found (/dev/nvidiactl, libnvidia-ml.so.1): the agent will offer no GPUs until one is installed"
    fi
    if command -v systemctl >/dev/null 2>&1; then
        sv=$(systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')
        if [ -n "$sv" ] && [ "$sv" -lt 250 ]; then
            warn "systemd $sv is older than 250: some hardening settings of $UNIT are ignored (see docs/operations.md)"
        fi
    else
        warn "systemctl not found: the files are installed, but the service needs systemd to run"
    fi
fi

# --- install ---------------------------------------------------------------------------------

echo "Installing gpu-agent into ${ROOT:-/}"

# numeric_owner USER:GROUP: the ids in the target's user database (a staging root has its own).
numeric_owner() {
    local user=${1%%:*} group=${1#*:} uid gid
    if [ -z "$ROOT" ]; then echo "$1"; return; fi
    uid=$(awk -F: -v n="$user" '$1 == n { print $3 }' "$ROOT/etc/passwd" 2>/dev/null)
    gid=$(awk -F: -v n="$group" '$1 == n { print $3 }' "$ROOT/etc/group" 2>/dev/null)
    [ "$user" != root ] || uid=0
    [ "$group" != root ] || gid=0
    [ -n "$uid" ] && [ -n "$gid" ] || die "no $1 in $ROOT/etc/passwd or $ROOT/etc/group"
    echo "$uid:$gid"
}

# put SRC DEST MODE [OWNER:GROUP]: copies atomically, says whether anything changed.
put() {
    local src=$1 dest=$ROOT$2 mode=$3 owner=${4:-}
    [ -z "$owner" ] || [ "$IS_ROOT" = 0 ] || owner=$(numeric_owner "$owner")
    mkdir -p "$(dirname "$dest")"
    if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
        chmod "$mode" "$dest"
        [ -z "$owner" ] || [ "$IS_ROOT" = 0 ] || chown "$owner" "$dest"
        say "unchanged $2"
        return
    fi
    local tmp
    tmp=$(mktemp "$dest.XXXXXX")
    if ! { cat "$src" >"$tmp" && chmod "$mode" "$tmp" \
            && { [ -z "$owner" ] || [ "$IS_ROOT" = 0 ] || chown "$owner" "$tmp"; } \
            && mv -f "$tmp" "$dest"; }; then
        rm -f "$tmp"
        die "could not install $2"
    fi
    say "installed $2"
}

put "$JAR" /usr/lib/gpu-agent/gpu-agent.jar 0644
put "$SRC/scripts/gpu-agent.sh" /usr/bin/gpu-agent 0755
put "$SRC/systemd/gpu-agent.service" /etc/systemd/system/$UNIT 0644
put "$SRC/systemd/gpu-agent.sysusers" /etc/sysusers.d/gpu-agent.conf 0644
put "$SRC/systemd/gpu-agent.tmpfiles" /etc/tmpfiles.d/gpu-agent.conf 0644
for doc in operations.md real-gpu-check.md; do
    [ -f "$SRC/docs/$doc" ] && put "$SRC/docs/$doc" /usr/share/doc/gpu-agent/$doc 0644
done

if [ -n "$RUNTIME" ]; then
    rm -rf "$ROOT/usr/lib/gpu-agent/runtime.new"
    cp -a "$RUNTIME" "$ROOT/usr/lib/gpu-agent/runtime.new"
    rm -rf "$ROOT/usr/lib/gpu-agent/runtime"
    mv "$ROOT/usr/lib/gpu-agent/runtime.new" "$ROOT/usr/lib/gpu-agent/runtime"
    say "installed /usr/lib/gpu-agent/runtime/ (from $RUNTIME)"
fi

# The service user and its directories. systemd-sysusers/-tmpfiles work on a staging root too
# (--root); where they are missing (a container without systemd), shadow's tools stand in.
root_opt=()
[ -z "$ROOT" ] || root_opt=(--root="$ROOT")
if [ "$IS_ROOT" = 1 ]; then
    if command -v systemd-sysusers >/dev/null 2>&1; then
        systemd-sysusers "${root_opt[@]}" gpu-agent.conf
    else
        useradd_root=()
        [ -z "$ROOT" ] || useradd_root=(--root "$ROOT")
        if ! grep -q '^gpu-agent:' "$ROOT/etc/passwd" 2>/dev/null; then
            useradd "${useradd_root[@]}" --system --user-group --home-dir /var/lib/gpu-agent \
                --no-create-home --shell /usr/sbin/nologin --comment "gpu-agent GPU rental host agent" gpu-agent
        fi
        grep -q '^docker:' "$ROOT/etc/group" 2>/dev/null || groupadd "${useradd_root[@]}" --system docker
        usermod "${useradd_root[@]}" --append --groups docker gpu-agent
    fi
    say "user gpu-agent (system, no login shell, member of docker)"
    if command -v systemd-tmpfiles >/dev/null 2>&1; then
        systemd-tmpfiles --create "${root_opt[@]}" gpu-agent.conf
    else
        ids=$(numeric_owner gpu-agent:gpu-agent)
        install -d -m 0750 -o 0 -g "${ids#*:}" "$ROOT/etc/gpu-agent"
        install -d -m 0700 -o "${ids%%:*}" -g "${ids#*:}" "$ROOT/var/lib/gpu-agent" "$ROOT/var/cache/gpu-agent"
    fi
else
    mkdir -p "$ROOT/etc/gpu-agent" "$ROOT/var/lib/gpu-agent" "$ROOT/var/cache/gpu-agent"
    chmod 0750 "$ROOT/etc/gpu-agent"
    chmod 0700 "$ROOT/var/lib/gpu-agent" "$ROOT/var/cache/gpu-agent"
fi
say "directories /etc/gpu-agent (0750), /var/lib/gpu-agent (0700), /var/cache/gpu-agent (0700)"

if [ -e "$ROOT/etc/gpu-agent/agent.toml" ]; then
    say "kept /etc/gpu-agent/agent.toml (yours; compare with $SRC/config/agent.toml after upgrades)"
elif [ -f "$SRC/config/agent.toml" ]; then
    put "$SRC/config/agent.toml" /etc/gpu-agent/agent.toml 0640 root:gpu-agent
else
    warn "no example config at $SRC/config/agent.toml: write /etc/gpu-agent/agent.toml yourself"
fi
if [ -e "$ROOT/etc/gpu-agent/wallet-password" ]; then
    say "kept /etc/gpu-agent/wallet-password"
else
    # The unit's LoadCredential= fails the start when the file is missing (systemd 252 has no
    # optional credentials), so an empty placeholder lets the agent start before a wallet exists.
    (umask 077; : > "$ROOT/etc/gpu-agent/wallet-password")
    chmod 0600 "$ROOT/etc/gpu-agent/wallet-password"
    say "created an empty /etc/gpu-agent/wallet-password (0600): set it when you create the wallet"
fi

if systemd_running; then
    systemctl daemon-reload
    say "reloaded systemd"
fi

cat <<EOF
gpu-agent is installed. Next steps:
  1. Edit /etc/gpu-agent/agent.toml (every key is documented in it).
  2. Give the wallet keystore password to systemd (handed to the agent as a credential):
       sudo sh -c 'umask 077; systemd-ask-password "Wallet password:" > /etc/gpu-agent/wallet-password'
  3. Check the GPUs the agent sees:    gpu-agent probe
  4. Start it now and at boot:          sudo systemctl enable --now gpu-agent
  5. Follow its log:                    journalctl -u gpu-agent -f
EOF
if systemd_running && systemctl is-active --quiet "$UNIT"; then
    echo "  gpu-agent is running the previous version: sudo systemctl restart gpu-agent (rentals keep running)"
fi
