#!/usr/bin/env bash
# Start a Docker-API-compatible engine on this machine: Podman as root, with runc, serving the
# Docker API on a unix socket, plus a Debian bookworm base image made with debootstrap (no image
# registry is reachable here). Debian (or a derivative with apt-get) and root are required.
#
# Usage: source .ci/podman.sh          exports DOCKER_HOST and BASE_IMAGE into the caller's shell
#        bash .ci/podman.sh --setup    the same work; prints the two `export` lines on stdout
#        bash .ci/podman.sh --selfcheck  only the self-check below
# Progress goes to stderr. Idempotent: a second run reuses the running service and the existing
# base image. Sourcing it leaves the caller's shell options alone (the work runs in a subshell
# with set -euo pipefail) and returns 1 with a message when something fails.
# `pipenv run local up` and `pipenv run test` run it themselves (as root, when no engine answers).
#
# What the engine needs, and why (each is checked by the self-check at the end):
# - podman and runc: the engine and its OCI runtime;
# - netavark (the network backend), aardvark-dns (names and aliases on user-defined networks:
#   the tests and the local runner reach the controller as ipcluster-<label>) and iptables
#   (netavark sets up every network's NAT and port forwarding with it: without it no container
#   starts on a network, "netavark: No such file or directory");
# - uidmap, debootstrap (the base image), curl (to ask the API socket whether it answers).
#
# The self-check, run after every set-up: create a network, start a container on it under a
# network alias, resolve that alias from a second container. A missing piece fails there with
# one line naming it.
#
# The base image (BASE_IMAGE=localhost/bookworm-python:latest) stands in for python:3.12-slim:
# a minbase bookworm with python3 3.11, python3-venv and ca-certificates, stripped like the slim
# images of what no container needs (apt lists and caches, docs, man pages, translations, the
# standard library's byte-code). Its recipe version is a label (io.ipython-k8s.base-recipe, which
# the local runner looks for to pick its base); an image made by an older recipe is rebuilt.

ipython_podman_setup() {
  local socket=$1 base_image=$2 recipe=$3
  local packages=(podman runc debootstrap uidmap netavark aardvark-dns iptables curl)
  command -v apt-get >/dev/null \
    || { echo "podman.sh: apt-get is missing: this set-up is for Debian; install Docker or Podman yourself and set DOCKER_HOST" >&2; return 1; }
  [ "$(id -u)" = 0 ] || { echo "podman.sh: must run as root (it installs packages and writes /etc/containers)" >&2; return 1; }
  local missing=()
  local package
  for package in "${packages[@]}"; do
    dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "podman.sh: installing ${missing[*]} (apt-get)" >&2
    apt-get update -q >/tmp/podman-apt.log 2>&1 \
      || { echo "podman.sh: apt-get update failed: $(tail -n 1 /tmp/podman-apt.log)" >&2; return 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>/tmp/podman-apt.log 2>&1 \
      || { echo "podman.sh: apt-get install ${missing[*]} failed: $(tail -n 1 /tmp/podman-apt.log)" >&2; return 1; }
  fi

  local nofile subnet
  nofile=$(ulimit -Hn)
  subnet=$(ipython_podman_default_subnet) || return 1
  mkdir -p /etc/containers
  cat > /etc/containers/containers.conf <<CONF
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=32768:32768"]

[network]
network_backend = "netavark"
default_subnet = "${subnet}"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF

  mkdir -p "$(dirname "$socket")"
  if ! curl -sf --unix-socket "$socket" http://d/_ping >/dev/null 2>&1; then
    rm -f "$socket"
    # from /: conmon writes files (an empty `oom` after an OOM kill) into the service's working
    # directory, which would otherwise be the caller's, e.g. the project's checkout
    (cd / && exec nohup podman system service --time=0 "unix://$socket" >/tmp/podman-service.log 2>&1) &
    for _ in $(seq 1 50); do
      curl -sf --unix-socket "$socket" http://d/_ping >/dev/null 2>&1 && break
      sleep 0.2
    done
  fi
  curl -sf --unix-socket "$socket" http://d/_ping >/dev/null \
    || { echo "podman.sh: the podman service did not start; see /tmp/podman-service.log" >&2; return 1; }

  # One builder at a time: tests, helpers and CI may source this concurrently. The lock's
  # descriptor is closed before the self-check: a daemon Podman starts there (aardvark-dns, for
  # the first network with DNS) would inherit it and hold the lock for as long as it runs, and
  # the next set-up would wait for good. A lock held that long anyway is one line, not a hang.
  local lock
  lock="$(dirname "$socket")/base-image.lock"
  exec 9>"$lock"
  flock -w 900 9 || { echo "podman.sh: another set-up has held $lock for 15 minutes (who: fuser -v $lock)" >&2; exec 9>&-; return 1; }
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
      || { rm -rf "$rootfs"; exec 9>&-; echo "podman.sh: debootstrap failed; see /tmp/debootstrap.log" >&2; return 1; }
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
  exec 9>&-
  ipython_podman_selfcheck "$base_image"
}

# The subnet of Podman's default network: 10.88.0.0/16 (Podman's own default) unless a route of
# this machine already covers part of it, e.g. when this machine is itself a container on a
# Podman network, or a VPN uses it: the bridge would then shadow that route and published ports
# would not answer. Podman picks the subnets of the other networks itself, around the routes.
ipython_podman_default_subnet() {
  python3 - <<'PY' || { echo "podman.sh: no free subnet for Podman's default network (10.88, 10.87, 10.86 or 172.30.0.0/16): routes of this machine cover them all" >&2; return 1; }
import ipaddress
routes = []
with open("/proc/net/route") as table:
    next(table)
    for line in table:
        iface, dest, _gw, _flags, _ref, _use, _metric, mask = line.split()[:8]
        if iface in ("podman0", "cni-podman0") or int(mask, 16) == 0:
            continue  # Podman's own bridge, and the default route
        address = ipaddress.IPv4Address(int(dest, 16).to_bytes(4, "little"))
        routes.append(ipaddress.IPv4Network(f"{address}/{bin(int(mask, 16)).count('1')}", strict=False))
# Podman's own default first; then subnets outside Podman's pools for other networks (10.89+).
for candidate in map(ipaddress.IPv4Network, ("10.88.0.0/16", "10.87.0.0/16", "10.86.0.0/16", "172.30.0.0/16")):
    if not any(candidate.overlaps(route) for route in routes):
        print(candidate)
        break
else:
    raise SystemExit(1)
PY
}

# Prints one line naming what is missing and returns 1, or returns 0.
ipython_podman_selfcheck() {
  local base_image=$1 tool
  for tool in podman runc iptables curl; do
    command -v "$tool" >/dev/null || { echo "podman.sh: self-check: $tool is missing (apt-get install $tool)" >&2; return 1; }
  done
  for tool in netavark aardvark-dns; do
    [ -x "/usr/lib/podman/$tool" ] || command -v "$tool" >/dev/null \
      || { echo "podman.sh: self-check: $tool is missing (apt-get install $tool)" >&2; return 1; }
  done
  local tag="ipython-selfcheck-$$" errors
  errors=$(mktemp)
  # shellcheck disable=SC2064 # expand now: the names are fixed
  trap "podman rm -f -t 0 $tag-target $tag-web >/dev/null 2>&1; podman network rm -f $tag >/dev/null 2>&1; rm -f $errors" RETURN
  podman network create "$tag" >/dev/null 2>"$errors" \
    || { echo "podman.sh: self-check: cannot create a network: $(tail -n 1 "$errors")" >&2; return 1; }
  podman run -d --name "$tag-target" --network "$tag" --network-alias selfcheck-target "$base_image" sleep 120 >/dev/null 2>"$errors" \
    || { echo "podman.sh: self-check: cannot start a container on a network (netavark, iptables, runc): $(tail -n 1 "$errors")" >&2; return 1; }
  podman run --rm --network "$tag" "$base_image" python3 -c "import socket; socket.gethostbyname('selfcheck-target')" >/dev/null 2>"$errors" \
    || { echo "podman.sh: self-check: a network alias does not resolve (aardvark-dns): $(tail -n 1 "$errors")" >&2; return 1; }
  # A port published on 127.0.0.1 from the default network, as the container tests and the
  # viewer use it: the route to the network's bridge and the DNAT rules (iptables) must both hold.
  podman run -d --name "$tag-web" -p 127.0.0.1::8000 "$base_image" python3 -m http.server 8000 >/dev/null 2>"$errors" \
    || { echo "podman.sh: self-check: cannot publish a port: $(tail -n 1 "$errors")" >&2; return 1; }
  local port answered=""
  port=$(podman port "$tag-web" 8000/tcp | head -n 1 | sed 's/.*://')
  for _ in $(seq 1 40); do
    curl -sf -m 2 "http://127.0.0.1:$port/" >/dev/null 2>&1 && { answered=1; break; }
    sleep 0.25
  done
  [ -n "$answered" ] || { echo "podman.sh: self-check: a port published on 127.0.0.1 does not reach its container (does the default network's subnet, $(podman network inspect podman --format '{{range .Subnets}}{{.Subnet}}{{end}}' 2>/dev/null), overlap a route of this machine? ip route)" >&2; return 1; }
  echo "podman.sh: self-check passed: a network, a container on it, its alias resolved, a published port answered" >&2
}

PODMAN_SOCKET=${PODMAN_SOCKET:-/run/ipython-podman/podman.sock}
BASE_IMAGE=${BASE_IMAGE:-localhost/bookworm-python:latest}
BASE_IMAGE_RECIPE=2

if [ "${1:-}" = "--selfcheck" ]; then
  # Only the check of an engine set up earlier (or not at all: it names the first missing piece).
  set -uo pipefail
  ipython_podman_selfcheck "$BASE_IMAGE"
  exit $?
fi
if [ "${1:-}" = "--setup" ]; then
  # The work, in its own process: `set -e` holds there (in a function tested by `if` or `||`
  # bash would ignore it).
  set -euo pipefail
  ipython_podman_setup "$PODMAN_SOCKET" "$BASE_IMAGE" "$BASE_IMAGE_RECIPE"
  echo "export DOCKER_HOST=unix://$PODMAN_SOCKET"
  echo "export BASE_IMAGE=$BASE_IMAGE"
  exit 0
fi

unset -f ipython_podman_setup ipython_podman_selfcheck
if PODMAN_SOCKET="$PODMAN_SOCKET" BASE_IMAGE="$BASE_IMAGE" bash "${BASH_SOURCE[0]}" --setup >/dev/null; then
  export DOCKER_HOST="unix://$PODMAN_SOCKET"
  export BASE_IMAGE
else
  echo "podman.sh: set-up failed" >&2
  # `return` when sourced, `exit` when run as a script.
  return 1 2>/dev/null || exit 1
fi
