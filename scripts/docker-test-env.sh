#!/usr/bin/env bash
# A private Docker engine for gpu-agent's Docker integration tests (DockerContainerRuntimeIT).
#
#   scripts/docker-test-env.sh start          install what is missing, start the engine, build the test image
#   scripts/docker-test-env.sh stop [--purge] stop the engine, unmount; --purge also deletes the disk image
#   scripts/docker-test-env.sh env            print the export line for DOCKER_HOST
#   scripts/docker-test-env.sh status         say whether the engine answers
#
# Everything lives under $GPU_AGENT_DOCKER_DIR (default /var/tmp/gpu-agent-docker):
#   btrfs.img   sparse 3 GiB file holding a btrfs filesystem with quotas on, so that Docker's btrfs
#               storage driver enforces --storage-opt size= (overlay2 needs XFS project quotas)
#   mnt/        that filesystem, mounted; mnt/root is the engine's data root (images survive stop)
#   exec/       exec root; docker.sock, docker.pid, dockerd.log, containerd.* beside it
#   bin/        the stand-in nvidia-container-runtime-hook, on dockerd's PATH (GPU attach mode nvidia)
#
# Isolation from a system Docker, if the machine has one: own socket, own containerd (own socket,
# root and state; a system containerd is never shared), own daemon.json, no default bridge
# (--bridge=none: every test container gets its own network, as sessions do), and no changes to
# the host's iptables or ip_forward. Needs root. Idempotent: start on a running engine, or stop on
# a stopped one, does nothing.
set -euo pipefail

DIR=${GPU_AGENT_DOCKER_DIR:-/var/tmp/gpu-agent-docker}
IMG_FILE=$DIR/btrfs.img
IMG_SIZE=${GPU_AGENT_DOCKER_DISK:-3G}
MNT=$DIR/mnt
EXEC=$DIR/exec
SOCK=$DIR/docker.sock
PIDFILE=$DIR/docker.pid
CTR_SOCK=$DIR/containerd.sock
CTR_PIDFILE=$DIR/containerd.pid
LOG=$DIR/dockerd.log
CTR_LOG=$DIR/containerd.log
LOOPFILE=$DIR/loopdev
TEST_IMAGE=gpu-agent-test/busybox:1
START_TIMEOUT_S=${GPU_AGENT_DOCKER_START_TIMEOUT:-60}

say() { echo "docker-test-env: $*"; }
die() { echo "docker-test-env: $*" >&2; exit 1; }

docker_cli() { docker -H "unix://$SOCK" "$@"; }

engine_answers() { [[ -S $SOCK ]] && docker_cli info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

pid_alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_missing() {
    local need=()
    command -v dockerd >/dev/null || need+=(docker.io)
    command -v containerd >/dev/null || need+=(containerd)
    command -v mkfs.btrfs >/dev/null || need+=(btrfs-progs)
    [[ -x /bin/busybox ]] || need+=(busybox-static)
    command -v losetup >/dev/null || need+=(mount)
    # with AppArmor on in the kernel, dockerd loads its docker-default profile through apparmor_parser
    if [[ $(cat /sys/module/apparmor/parameters/enabled 2>/dev/null) == Y ]]; then
        command -v apparmor_parser >/dev/null || need+=(apparmor)
    fi
    ((${#need[@]})) || return 0
    [[ $(id -u) -eq 0 ]] || die "need root to install ${need[*]}"
    say "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

mount_fs() {
    mkdir -p "$DIR" "$MNT" "$EXEC"
    if mountpoint -q "$MNT"; then
        return 0
    fi
    local fresh=0
    if [[ ! -f $IMG_FILE ]]; then
        truncate -s "$IMG_SIZE" "$IMG_FILE"
        mkfs.btrfs -q "$IMG_FILE" >/dev/null
        fresh=1
    fi
    local dev
    dev=$(losetup --find --show "$IMG_FILE")
    echo "$dev" >"$LOOPFILE"
    if ! mount -t btrfs "$dev" "$MNT"; then
        losetup -d "$dev" || true
        die "could not mount $IMG_FILE ($dev) on $MNT: does this kernel have btrfs?"
    fi
    # idempotent; Docker's btrfs driver needs qgroups to enforce --storage-opt size=
    btrfs quota enable "$MNT"
    ((fresh)) && say "created btrfs filesystem $IMG_FILE ($IMG_SIZE, sparse) on $dev" || true
}

start_containerd() {
    pid_alive "$CTR_PIDFILE" && [[ -S $CTR_SOCK ]] && return 0
    cat >"$DIR/containerd.toml" <<EOF
version = 2
root = "$MNT/containerd"
state = "$EXEC/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTR_SOCK"
[ttrpc]
  address = "$CTR_SOCK.ttrpc"
[debug]
  address = "$CTR_SOCK.debug"
EOF
    rm -f "$CTR_SOCK" "$CTR_SOCK.ttrpc" "$CTR_SOCK.debug"
    # setsid: the engine outlives this script and the shell that ran it
    setsid containerd --config "$DIR/containerd.toml" >>"$CTR_LOG" 2>&1 </dev/null &
    echo $! >"$CTR_PIDFILE"
    local i
    for ((i = 0; i < START_TIMEOUT_S * 10; i++)); do
        [[ -S $CTR_SOCK ]] && return 0
        pid_alive "$CTR_PIDFILE" || break
        sleep 0.1
    done
    echo "---- last lines of $CTR_LOG" >&2
    tail -n 30 "$CTR_LOG" >&2 || true
    die "containerd did not come up on $CTR_SOCK"
}

start_dockerd() {
    echo '{}' >"$DIR/daemon.json"
    rm -f "$SOCK"
    # a stand-in for NVIDIA's runtime hook on the engine's PATH: Docker then serves DeviceRequests
    # with driver "nvidia" (sessions.gpu_attach = "nvidia") and the hook writes the GPUs it was
    # given into the container (scripts/sim/nvidia-container-runtime-hook)
    mkdir -p "$DIR/bin"
    install -m 0755 "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sim/nvidia-container-runtime-hook" "$DIR/bin/"
    PATH="$DIR/bin:$PATH" setsid dockerd \
        --host "unix://$SOCK" \
        --containerd "$CTR_SOCK" \
        --config-file "$DIR/daemon.json" \
        --data-root "$MNT/root" \
        --exec-root "$EXEC" \
        --pidfile "$PIDFILE" \
        --storage-driver btrfs \
        --bridge none \
        --iptables=false \
        --ip-forward=false \
        --ip-masq=false \
        --log-driver json-file \
        >>"$LOG" 2>&1 </dev/null &
    local i
    for ((i = 0; i < START_TIMEOUT_S * 5; i++)); do
        engine_answers && return 0
        sleep 0.2
    done
    echo "---- last lines of $LOG" >&2
    tail -n 40 "$LOG" >&2 || true
    die "dockerd did not answer on unix://$SOCK within ${START_TIMEOUT_S}s"
}

build_test_image() {
    if docker_cli image inspect "$TEST_IMAGE" >/dev/null 2>&1; then
        return 0
    fi
    local rootfs
    rootfs=$(mktemp -d)
    mkdir -p "$rootfs"/{bin,etc,tmp,root,proc,sys,dev,var/www}
    chmod 1777 "$rootfs/tmp"
    chmod 700 "$rootfs/root"
    cp /bin/busybox "$rootfs/bin/busybox"
    local applet
    for applet in $(/bin/busybox --list); do
        [[ $applet == busybox ]] || ln -sf busybox "$rootfs/bin/$applet"
    done
    for applet in sh sleep cat id ps wc dd; do
        [[ -e $rootfs/bin/$applet ]] || die "busybox at /bin/busybox lacks '$applet'"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
    echo 'gpu-agent test page' >"$rootfs/var/www/index.html"
    tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -cf - . |
        docker_cli import --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' - "$TEST_IMAGE" >/dev/null
    rm -rf "$rootfs"
    say "built $TEST_IMAGE from $(/bin/busybox | head -n 1 | cut -d' ' -f1-2)"
}

cmd_start() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (loop devices, mounts, dockerd)"
    if engine_answers; then
        build_test_image
        say "engine already running on unix://$SOCK"
        return 0
    fi
    install_missing
    command -v docker >/dev/null || die "no docker CLI after install"
    # a crashed earlier run may have left a daemon without a socket
    stop_processes
    mount_fs
    start_containerd
    start_dockerd
    build_test_image
    say "engine $(docker_cli info --format '{{.ServerVersion}} ({{.Driver}})') on unix://$SOCK"
    say "export DOCKER_HOST=unix://$SOCK"
}

stop_pidfile() {
    local pidfile=$1 name=$2 pid i
    [[ -f $pidfile ]] || return 0
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 150; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "$name ($pid) still running after 15s; SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
        fi
    fi
    rm -f "$pidfile"
}

stop_processes() {
    stop_pidfile "$PIDFILE" dockerd
    # containers' shims belong to our containerd; they die with their containers when dockerd stops
    stop_pidfile "$CTR_PIDFILE" containerd
    rm -f "$SOCK" "$CTR_SOCK" "$CTR_SOCK.ttrpc" "$CTR_SOCK.debug"
}

cmd_stop() {
    local purge=0
    [[ ${1:-} == --purge ]] && purge=1
    stop_processes
    # dockerd leaves mounts under its roots (netns, shm); release them before the filesystem
    local m
    for m in $(awk -v d="$DIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
        [[ $m == "$MNT" ]] || umount -l "$m" 2>/dev/null || true
    done
    if mountpoint -q "$MNT"; then
        umount "$MNT" || umount -l "$MNT"
    fi
    if [[ -f $LOOPFILE ]]; then
        losetup -d "$(cat "$LOOPFILE")" 2>/dev/null || true
        rm -f "$LOOPFILE"
    fi
    # also any loop device still backed by our image (e.g. a lost $LOOPFILE)
    local dev
    for dev in $(losetup -j "$IMG_FILE" 2>/dev/null | cut -d: -f1); do
        losetup -d "$dev" || true
    done
    if ((purge)); then
        rm -rf "$DIR"
        say "stopped and purged $DIR"
    else
        say "stopped (disk image kept: $IMG_FILE)"
    fi
}

case ${1:-} in
    start) cmd_start ;;
    stop) shift; cmd_stop "$@" ;;
    env) echo "export DOCKER_HOST=unix://$SOCK" ;;
    status)
        if engine_answers; then
            say "running: $(docker_cli info --format '{{.ServerVersion}} ({{.Driver}})') on unix://$SOCK"
        else
            say "not running"; exit 1
        fi
        ;;
    *) echo "usage: $0 start | stop [--purge] | env | status" >&2; exit 2 ;;
esac
