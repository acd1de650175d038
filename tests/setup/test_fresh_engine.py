""".ci/podman.sh on a fresh Debian 12: the light fresh-machine check every test run makes.

WHY here: CI runs on a machine where earlier runs installed things by hand, which hid a
missing install step (iptables) once. So every run also sets the engine up from nothing, in a
bare Debian container (the project's debootstrap minbase base image: python3 and nothing of
the engine), privileged so that it runs its own Podman, with its own storage volume:

1. before the set-up, the self-check names the first missing piece and fails;
2. the set-up (apt-get, debootstrap, the service) passes its self-check: a network, a
   container on it, its alias resolved, a port published on 127.0.0.1 answering; and prints
   the exports. This container is itself on a Podman network (10.88.0.0/16, Podman's default,
   on this machine): the default network inside must take another subnet, or its bridge
   would shadow the container's own route and published ports would not answer (what the
   whole-README run found);
3. a second run is idempotent and quick.

The whole README run from nothing is ../shared/fresh-machine/run.sh (minutes more: pipenv,
the image, the stacks); this is its engine part, in about two minutes.
"""

from __future__ import annotations

import glob
import io
import os
import tarfile
import uuid
from pathlib import Path

import ipaddress

import pytest
from docker.types import Mount

from localrun import engine_setup

pytestmark = pytest.mark.container

REPO = Path(__file__).resolve().parents[2]
SETUP_SCRIPT = REPO / ".ci" / "podman.sh"
TIMEOUT_SECONDS = 900


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bare_debian():
    """A running privileged bare Debian 12 container with the set-up script in /root."""
    host = engine_setup.find_engine(os.environ, print, set_up=False).docker_host
    client = engine_setup.docker_client(host, timeout=TIMEOUT_SECONDS)
    base = os.environ.get("BASE_IMAGE") or engine_setup.project_base_image(client)
    assert base, "no Debian base image: tests/run.sh exports BASE_IMAGE"
    container = client.containers.create(
        base, command=["sleep", "infinity"], privileged=True, name=f"fresh-engine-{uuid.uuid4().hex[:8]}",
        labels={"io.ipython-k8s.test": "setup"}, environment={"DEBIAN_FRONTEND": "noninteractive"},
        mounts=[Mount("/var/lib/containers", None, type="volume")],  # storage of its own, not overlay-on-overlay
    )
    try:
        container.start()
        # The host's extra CA certificates (a TLS-inspecting proxy in front of the registries).
        certificates = {f"usr/local/share/ca-certificates/{Path(p).name}": Path(p).read_bytes()
                        for p in glob.glob("/usr/local/share/ca-certificates/*.crt")}
        container.put_archive("/", _tar({"root/podman.sh": SETUP_SCRIPT.read_bytes(), **certificates}))
        if certificates:
            assert container.exec_run(["update-ca-certificates"]).exit_code == 0
        yield container
    finally:
        container.remove(force=True, v=True)
        client.close()


def run(container, *command: str) -> tuple[int, str, str]:
    result = container.exec_run(list(command), demux=True)
    out, err = result.output
    return result.exit_code, (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace")


def test_before_the_set_up_the_self_check_names_what_is_missing(bare_debian):
    status, out, err = run(bare_debian, "bash", "/root/podman.sh", "--selfcheck")
    assert (status, out) == (1, "")
    assert err.splitlines() == ["podman.sh: self-check: podman is missing (apt-get install podman)"]


def test_the_set_up_from_nothing_passes_its_self_check(bare_debian):
    status, out, err = run(bare_debian, "bash", "-c", "cd /root && bash podman.sh --setup")  # as from a checkout
    assert status == 0, err
    assert out.splitlines() == [
        "export DOCKER_HOST=unix:///run/ipython-podman/podman.sock",
        "export BASE_IMAGE=localhost/bookworm-python:latest",
    ]
    assert ("podman.sh: self-check passed: a network, a container on it, its alias resolved, a published port "
            "answered") in err.splitlines()
    # Podman's default network inside does not overlap the routes this container already has.
    status, conf, _ = run(bare_debian, "cat", "/etc/containers/containers.conf")
    [subnet] = [line.split('"')[1] for line in conf.splitlines() if line.startswith("default_subnet")]
    status, table, _ = run(bare_debian, "cat", "/proc/net/route")
    own = [ipaddress.IPv4Network((int(f[1], 16).to_bytes(4, "little"), bin(int(f[7], 16)).count("1")))
           for f in (line.split() for line in table.splitlines()[1:]) if f[0] != "podman0" and int(f[7], 16)]
    assert own and not any(ipaddress.IPv4Network(subnet).overlaps(route) for route in own), (subnet, own)
    # The engine answers the Docker API, as the local runner and the tests ask it.
    status, out, err = run(bare_debian, "python3", "-c", (
        "import socket; s = socket.socket(socket.AF_UNIX); s.connect('/run/ipython-podman/podman.sock'); "
        "s.sendall(b'GET /_ping HTTP/1.0\\r\\n\\r\\n'); print(s.recv(64).split()[1].decode())"))
    assert (status, out.strip()) == (0, "200"), err
    # The service runs from /, not from the caller's folder (conmon leaves files in its working directory).
    status, out, err = run(bare_debian, "bash", "-c", "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline "
                                                      "| grep -q '^podman system service' && readlink $p/cwd; done")
    assert (status, out.strip()) == (0, "/"), err


def test_a_second_set_up_only_checks(bare_debian):
    status, out, err = run(bare_debian, "bash", "-c", "time bash /root/podman.sh --setup")
    assert status == 0, err
    assert "installing" not in err and "debootstrap" not in err, err


#: Runs first on PATH in front of podman: notes each podman command that holds the set-up's lock.
LOCK_SPY = """#!/bin/sh
if ls -l /proc/$$/fd 2>/dev/null | grep -q base-image.lock; then echo "$*" >> /root/lock-holders; fi
exec /usr/bin/podman "$@"
"""


def test_nothing_the_self_check_starts_inherits_the_set_up_lock(bare_debian):
    """A daemon that Podman starts during the self-check (aardvark-dns, for the first network with
    DNS) used to inherit the lock's descriptor and hold it for as long as it ran: every later
    set-up then waited at its flock for good (found on this project's own CI machine)."""
    bare_debian.put_archive("/", _tar({"root/spy/podman": LOCK_SPY.encode()}))
    status, out, err = run(bare_debian, "bash", "-c", "rm -f /root/lock-holders; PATH=/root/spy:$PATH "
                                                      "bash /root/podman.sh --setup && cat /root/lock-holders")
    assert status == 0, err
    holders = out.splitlines()[2:]  # after the two export lines
    # the base image's checks run under the lock; nothing that starts a network or a container does
    assert holders and all(line.startswith("image ") for line in holders), holders
