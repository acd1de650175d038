#!/usr/bin/env bash
# Start a Docker-API-compatible engine on this machine: Podman as root, with runc,
# serving the Docker API on a unix socket, plus a Debian bookworm base image made
# with debootstrap (no image registry is reachable here).
#
# Usage: source .ci/podman.sh   (exports DOCKER_HOST and BASE_IMAGE)
# Idempotent: a second run reuses the running service and the existing base image.
set -euo pipefail

PODMAN_SOCKET=${PODMAN_SOCKET:-/run/ipython-podman/podman.sock}
BASE_IMAGE=${BASE_IMAGE:-localhost/bookworm-python:latest}

if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
  echo "podman.sh: installing podman, runc and debootstrap" >&2
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc debootstrap uidmap >/dev/null
fi

nofile=$(ulimit -Hn)
mkdir -p /etc/containers
cat > /etc/containers/containers.conf <<CONF
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF

mkdir -p "$(dirname "$PODMAN_SOCKET")"
if ! curl -sf --unix-socket "$PODMAN_SOCKET" http://d/_ping >/dev/null 2>&1; then
  rm -f "$PODMAN_SOCKET"
  nohup podman system service --time=0 "unix://$PODMAN_SOCKET" >/tmp/podman-service.log 2>&1 &
  for _ in $(seq 1 50); do
    curl -sf --unix-socket "$PODMAN_SOCKET" http://d/_ping >/dev/null 2>&1 && break
    sleep 0.2
  done
fi
curl -sf --unix-socket "$PODMAN_SOCKET" http://d/_ping >/dev/null || { echo "podman.sh: the podman service did not start; see /tmp/podman-service.log" >&2; exit 1; }

if ! podman image exists "$BASE_IMAGE"; then
  echo "podman.sh: making $BASE_IMAGE with debootstrap (a few minutes, once)" >&2
  rootfs=$(mktemp -d /var/tmp/bookworm-rootfs.XXXXXX)
  debootstrap --variant=minbase --include=ca-certificates,python3,python3-venv bookworm "$rootfs" >/tmp/debootstrap.log 2>&1 \
    || { echo "podman.sh: debootstrap failed; see /tmp/debootstrap.log" >&2; exit 1; }
  tar -C "$rootfs" -c . | podman import - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
fi

export DOCKER_HOST="unix://$PODMAN_SOCKET"
export BASE_IMAGE
