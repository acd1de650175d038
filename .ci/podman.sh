#!/usr/bin/env bash
# Start a Docker-API-compatible engine on this machine: Podman as root, with runc, serving the
# Docker API on a unix socket, plus a Debian bookworm base image made with debootstrap (no image
# registry is reachable here).
#
# Usage: source .ci/podman.sh   (exports DOCKER_HOST and BASE_IMAGE)
# Idempotent: a second run reuses the running service and the existing base image. Sourcing it
# leaves the caller's shell options alone (the work runs in a subshell with set -euo pipefail)
# and returns 1 with a message when something fails.
#
# Container DNS: the tests put containers on a user-defined network and reach the controller by a
# network alias (ipcluster-<label>). Podman 4.3 on Debian resolves names and aliases on such
# networks with the netavark backend plus aardvark-dns (Debian packages `netavark`,
# `aardvark-dns`); the older CNI backend would need the dnsname plugin, which bookworm does not
# package. So both are installed here and netavark is the configured backend.
#
# The base image (BASE_IMAGE=localhost/bookworm-python:latest) stands in for python:3.12-slim:
# a minbase bookworm with python3 3.11, python3-venv and ca-certificates, stripped like the slim
# images of what no container needs (apt lists and caches, docs, man pages, translations, the
# standard library's byte-code). Its recipe version is a label; an image made by an older recipe
# is rebuilt.

ipython_podman_setup() {
  local socket=$1 base_image=$2 recipe=$3
  local packages=(podman runc debootstrap uidmap netavark aardvark-dns)
  local missing=()
  local package
  for package in "${packages[@]}"; do
    dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "podman.sh: installing ${missing[*]}" >&2
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  fi

  local nofile
  nofile=$(ulimit -Hn)
  mkdir -p /etc/containers
  cat > /etc/containers/containers.conf <<CONF
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=32768:32768"]

[network]
network_backend = "netavark"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF

  mkdir -p "$(dirname "$socket")"
  if ! curl -sf --unix-socket "$socket" http://d/_ping >/dev/null 2>&1; then
    rm -f "$socket"
    nohup podman system service --time=0 "unix://$socket" >/tmp/podman-service.log 2>&1 &
    for _ in $(seq 1 50); do
      curl -sf --unix-socket "$socket" http://d/_ping >/dev/null 2>&1 && break
      sleep 0.2
    done
  fi
  curl -sf --unix-socket "$socket" http://d/_ping >/dev/null \
    || { echo "podman.sh: the podman service did not start; see /tmp/podman-service.log" >&2; return 1; }

  # One builder at a time: tests, helpers and CI may source this concurrently.
  exec 9>"$(dirname "$socket")/base-image.lock"
  flock 9
  local have=""
  if podman image exists "$base_image"; then
    have=$(podman image inspect --format '{{ index .Labels "io.ipython-k8s.base-recipe" }}' "$base_image" 2>/dev/null || true)
    if [ "$base_image" != "localhost/bookworm-python:latest" ]; then
      have=$recipe  # someone else's image: use it as it is
    fi
  fi
  if [ "$have" != "$recipe" ]; then
    echo "podman.sh: making $base_image with debootstrap (a few minutes, once)" >&2
    local rootfs
    rootfs=$(mktemp -d /var/tmp/bookworm-rootfs.XXXXXX)
    debootstrap --variant=minbase --include=ca-certificates,python3,python3-venv bookworm "$rootfs" >/tmp/debootstrap.log 2>&1 \
      || { rm -rf "$rootfs"; echo "podman.sh: debootstrap failed; see /tmp/debootstrap.log" >&2; return 1; }
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
           "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
           "$rootfs"/var/log/*.log "$rootfs"/var/cache/debconf/*-old
    find "$rootfs"/usr/lib/python3* -depth -type d -name __pycache__ -exec rm -rf {} +
    tar -C "$rootfs" -c . | podman import --quiet \
      --change "LABEL io.ipython-k8s.base-recipe=$recipe" \
      --change 'ENV LANG=C.UTF-8' \
      --change 'CMD ["/bin/bash"]' \
      - "$base_image" >/dev/null
    rm -rf "$rootfs"
  fi
}

PODMAN_SOCKET=${PODMAN_SOCKET:-/run/ipython-podman/podman.sock}
BASE_IMAGE=${BASE_IMAGE:-localhost/bookworm-python:latest}
BASE_IMAGE_RECIPE=2

if [ "${1:-}" = "--setup" ]; then
  # The work, in its own process: `set -e` holds there (in a function tested by `if` or `||`
  # bash would ignore it).
  set -euo pipefail
  ipython_podman_setup "$PODMAN_SOCKET" "$BASE_IMAGE" "$BASE_IMAGE_RECIPE"
  exit 0
fi

unset -f ipython_podman_setup
if PODMAN_SOCKET="$PODMAN_SOCKET" BASE_IMAGE="$BASE_IMAGE" bash "${BASH_SOURCE[0]}" --setup; then
  export DOCKER_HOST="unix://$PODMAN_SOCKET"
  export BASE_IMAGE
else
  echo "podman.sh: set-up failed" >&2
  # `return` when sourced, `exit` when run as a script.
  return 1 2>/dev/null || exit 1
fi
