#!/usr/bin/env bash
# Make sure a Docker engine answers and a local Python base image exists, without a registry.
#
# Used by .ci/run and by developers on a fresh machine. Where `docker info` already answers
# and the image exists, it does nothing. Otherwise it installs Debian's docker.io and
# debootstrap, starts dockerd in the background, and builds a minimal Debian bookworm image
# with python3 (debootstrap + `docker import`), because no container registry can be reached
# here. Prints the image name on its last line.
set -euo pipefail

IMAGE="${AMLOCAL_LOCAL_BASE_IMAGE:-amlocal/python-base:bookworm}"
ROOTFS_DIR="${AMLOCAL_ROOTFS_DIR:-/var/tmp/amlocal-rootfs}"
LOG=/var/log/dockerd.log

say() { echo "ensure-docker: $*" >&2; }

engine_answers() { docker info >/dev/null 2>&1; }

if ! engine_answers; then
    if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
        say "installing docker.io and debootstrap from Debian"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq docker.io debootstrap >/dev/null
    fi
    say "starting dockerd (log: $LOG)"
    # its own session: the engine outlives the shell (or agent session) that started it
    setsid nohup dockerd >"$LOG" 2>&1 </dev/null &
    for _ in $(seq 1 60); do
        engine_answers && break
        sleep 1
    done
    engine_answers || { say "dockerd did not answer within 60 s; see $LOG"; exit 1; }
fi

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
    command -v debootstrap >/dev/null 2>&1 || {
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null
    }
    say "building $IMAGE with debootstrap (about a minute)"
    rm -rf "$ROOTFS_DIR"
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip \
        bookworm "$ROOTFS_DIR" >/dev/null
    # A plain `python` as in the python:3.x images, and pip allowed to install system-wide.
    ln -sf python3 "$ROOTFS_DIR/usr/bin/python"
    rm -f "$ROOTFS_DIR"/usr/lib/python3*/EXTERNALLY-MANAGED
    tar -C "$ROOTFS_DIR" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["python3"]' - "$IMAGE" >/dev/null
    rm -rf "$ROOTFS_DIR"
fi
say "engine answers; base image $IMAGE ready"
echo "$IMAGE"
