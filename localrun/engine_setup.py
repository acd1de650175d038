"""Finding the container engine, or making one: what ``local up`` and ``pipenv run test`` use.

WHY here and not in the README: a newcomer runs two commands, so those commands find the
engine a machine has, and set one up where they can, rather than asking for steps first:

1. ``DOCKER_HOST`` when it is set: it must answer, nothing else is tried (the user chose);
2. else the first of these sockets that answers: Docker's default, rootless Podman's
   (``$XDG_RUNTIME_DIR/podman/podman.sock``), rootful Podman's, and the one this project's
   set-up serves (:data:`PROJECT_PODMAN_SOCKET`);
3. else, as root on Debian, Podman is set up by ``.ci/podman.sh`` (apt-get, a debootstrap base
   image, a self-check), as the tests' set-up does;
4. else one line saying what to install.

Whether a socket answers is asked with a plain ``GET /_ping`` over the socket, so the reason it
does not is the operating system's (no such socket, permission denied, connection refused) put
in words, not an SDK's exception class.

``python -m localrun.engine_setup`` prints ``export DOCKER_HOST=...`` (and ``BASE_IMAGE=...``
when the engine holds this project's base image) for ``eval`` in tests/run.sh; its messages go
to stderr; exit status 1 when there is no engine.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import LocalRunError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SETUP_SCRIPT = PROJECT_ROOT / ".ci" / "podman.sh"
#: The socket .ci/podman.sh serves Podman's Docker API on (PODMAN_SOCKET there).
PROJECT_PODMAN_SOCKET = Path("/run/ipython-podman/podman.sock")
DOCKER_SOCKET = Path("/var/run/docker.sock")
ROOTFUL_PODMAN_SOCKET = Path("/run/podman/podman.sock")
#: The label .ci/podman.sh puts on the base image it makes (no registry here to pull one from).
BASE_RECIPE_LABEL = "io.ipython-k8s.base-recipe"
PING_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Engine:
    """Where the Docker API answers (a DOCKER_HOST value) and how it was found."""

    docker_host: str
    how: str


def default_sockets(environ: Mapping[str, str]) -> list[Path]:
    sockets = [DOCKER_SOCKET]
    if environ.get("XDG_RUNTIME_DIR"):
        sockets.append(Path(environ["XDG_RUNTIME_DIR"]) / "podman" / "podman.sock")
    return sockets + [ROOTFUL_PODMAN_SOCKET, PROJECT_PODMAN_SOCKET]


def _reason(error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return "no such socket"
    if isinstance(error, PermissionError):
        return "permission denied (is your user allowed to use it, e.g. in the docker group?)"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused (the service is not running)"
    if isinstance(error, socket.timeout):
        return f"no answer within {PING_TIMEOUT_SECONDS:.0f} s"
    return os.strerror(error.errno) if error.errno else str(error)


def ping(docker_host: str, timeout: float = PING_TIMEOUT_SECONDS) -> str | None:
    """None when a Docker API answers at ``docker_host`` (unix:// or tcp://), else why not."""
    parts = urlsplit(docker_host)
    try:
        if parts.scheme == "unix":
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            connection.settimeout(timeout)
            connection.connect(parts.path)
        elif parts.scheme in ("tcp", "http"):
            connection = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 2375), timeout=timeout)
        else:
            return f"unsupported scheme {parts.scheme or '(none)'}: unix:// or tcp:// is needed"
        with connection:
            connection.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            answer = connection.recv(64)
    except OSError as error:
        return _reason(error)
    if answer.startswith(b"HTTP/") and answer.split(b" ", 2)[1:2] == [b"200"]:
        return None
    first = answer.split(b"\r\n", 1)[0].decode("ascii", "replace")
    return f"it answered something else than the Docker API ({first or 'nothing'})"


#: The API version the ping is asked in: old enough for every engine to answer.
_PING_API_VERSION = "1.24"


def docker_client(docker_host: str, *, timeout: float | None = None):
    """A docker SDK client of the engine at ``docker_host``, in the API version its ping names.

    WHY the version from the ping: without one, the SDK asks ``GET /version`` first, which
    Podman answers in 0.5-3 s (it gathers its components' versions; measured on the CI machine
    under load), for every client. ``GET /_ping`` answers in milliseconds, and both engines name
    their API version in its ``Api-Version`` header; an engine that does not falls back to the
    SDK's way. Raises the SDK's and requests' errors (``docker.errors.DockerException``,
    ``requests.RequestException``)."""
    import docker  # the SDK costs ~0.3 s to import: only when a client is made

    probe = docker.APIClient(base_url=docker_host, version=_PING_API_VERSION)
    try:
        answer = probe.get(f"{probe.base_url}/_ping", timeout=PING_TIMEOUT_SECONDS)
        answer.raise_for_status()
        version = answer.headers.get("Api-Version") or None
    finally:
        probe.close()
    extra = {} if timeout is None else {"timeout": timeout}
    client = docker.DockerClient(base_url=docker_host, version=version, **extra)
    if version is None:
        client.ping()
    return client


def can_set_up() -> bool:
    """This project's set-up is for root on Debian (apt-get)."""
    return os.geteuid() == 0 and Path("/etc/debian_version").exists() and bool(_which("apt-get"))


def _which(program: str) -> str | None:
    from shutil import which

    return which(program)


def set_up_podman(say: Callable[[str], None]) -> None:
    """Run .ci/podman.sh --setup, passing its progress lines on; one line when it fails."""
    say("no container engine answers; setting up Podman as root with .ci/podman.sh "
        "(apt-get and a debootstrap base image: a few minutes, once)")
    started = time.monotonic()
    process = subprocess.Popen(["bash", str(SETUP_SCRIPT), "--setup"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    last = ""
    assert process.stderr is not None
    for line in process.stderr:
        line = line.rstrip()
        if line:
            last = line
            say(f"  {line.removeprefix('podman.sh: ')}")
    if process.wait() != 0:
        raise LocalRunError(f"setting up Podman failed: {last.removeprefix('podman.sh: ') or 'see .ci/podman.sh'}")
    say(f"Podman set up in {time.monotonic() - started:.0f} s")


def find_engine(environ: Mapping[str, str], say: Callable[[str], None], *, set_up: bool = True,
                sockets: list[Path] | None = None) -> Engine:
    """The engine to use (see the module's docstring), setting Podman up when allowed and possible.

    ``sockets``: where to look when DOCKER_HOST is unset (default: :func:`default_sockets`)."""
    chosen = environ.get("DOCKER_HOST")
    if chosen:
        reason = ping(chosen)
        if reason is not None:
            raise LocalRunError(f"no container engine answers at DOCKER_HOST={chosen}: {reason}; "
                                "start it, or unset DOCKER_HOST to use the default socket")
        return Engine(chosen, "DOCKER_HOST")
    tried = []
    for path in default_sockets(environ) if sockets is None else sockets:
        reason = ping(f"unix://{path}")
        if reason is None:
            return Engine(f"unix://{path}", f"the socket {path}")
        tried.append(f"{path}: {reason}")
    if set_up and can_set_up():
        set_up_podman(say)
        reason = ping(f"unix://{PROJECT_PODMAN_SOCKET}")
        if reason is not None:
            raise LocalRunError(f"Podman was set up but its socket {PROJECT_PODMAN_SOCKET} does not answer: {reason}")
        return Engine(f"unix://{PROJECT_PODMAN_SOCKET}", "Podman set up by .ci/podman.sh")
    raise LocalRunError(
        "no container engine answers (" + "; ".join(tried) + "): install Docker or Podman and start its API "
        "service (rootless Podman: `systemctl --user enable --now podman.socket`), or set DOCKER_HOST; "
        "as root on Debian, `local up` and `pipenv run test` set Podman up themselves"
    )


def project_base_image(client) -> str | None:
    """The base image .ci/podman.sh made, when the engine holds it (where no registry is reached)."""
    for image in client.images.list(filters={"label": BASE_RECIPE_LABEL}):
        if image.tags:
            return sorted(image.tags)[0]
    return None


def main(argv: list[str] | None = None) -> int:
    """Print the shell exports for the engine found (or made); messages on stderr."""
    args = sys.argv[1:] if argv is None else argv
    set_up = "--no-setup" not in args

    def say(message: str) -> None:
        print(f"engine: {message}", file=sys.stderr, flush=True)

    try:
        found = find_engine(os.environ, say, set_up=set_up)
    except LocalRunError as error:
        say(f"error: {error}")
        return 1
    say(f"using {found.docker_host} ({found.how})")
    print(f"export DOCKER_HOST={shlex.quote(found.docker_host)}")
    if not os.environ.get("BASE_IMAGE"):
        client = docker_client(found.docker_host)
        base = project_base_image(client)
        client.close()
        if base:
            print(f"export BASE_IMAGE={shlex.quote(base)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

