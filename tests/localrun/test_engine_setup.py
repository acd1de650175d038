"""Finding the container engine (localrun/engine_setup.py) with real sockets and servers.

Each reason a socket does not answer is the operating system's, put in words; the order of the
candidates, DOCKER_HOST's precedence and the last line when nothing answers are the contract
`local up` and tests/run.sh rely on. The engine of this machine is asked in the container tests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from localrun.engine_setup import find_engine, ping
from localrun.errors import LocalRunError

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def unix_server(path: Path, answer: bytes) -> Iterator[Path]:
    """A unix socket that answers every connection with ``answer``, as a Docker API would."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()
    server.settimeout(0.05)  # so that the loop sees `stop` soon after the test ends
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                connection.recv(1024)
                connection.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


DOCKER_PING = b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK"


def test_an_answering_docker_api_is_none(tmp_path):
    with unix_server(tmp_path / "docker.sock", DOCKER_PING) as path:
        assert ping(f"unix://{path}") is None


def test_reasons_in_words(tmp_path):
    assert ping(f"unix://{tmp_path / 'missing.sock'}") == "no such socket"
    stale = tmp_path / "stale.sock"
    bound = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bound.bind(str(stale))  # a socket file nobody listens on: what a crashed service leaves
    bound.close()
    assert ping(f"unix://{stale}") == "connection refused (the service is not running)"
    with unix_server(tmp_path / "web.sock", b"HTTP/1.1 404 Not Found\r\n\r\n") as path:
        assert ping(f"unix://{path}") == "it answered something else than the Docker API (HTTP/1.1 404 Not Found)"
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert ping(f"tcp://127.0.0.1:{port}") == "connection refused (the service is not running)"
    assert ping("ssh://host") == "unsupported scheme ssh: unix:// or tcp:// is needed"


def test_docker_host_is_the_only_one_tried(tmp_path):
    with unix_server(tmp_path / "docker.sock", DOCKER_PING) as answering:
        with pytest.raises(LocalRunError) as raised:
            find_engine({"DOCKER_HOST": f"unix://{tmp_path}/gone.sock"}, print, set_up=False, sockets=[answering])
    assert str(raised.value) == (
        f"no container engine answers at DOCKER_HOST=unix://{tmp_path}/gone.sock: no such socket; "
        "start it, or unset DOCKER_HOST to use the default socket"
    )


def test_the_first_answering_socket_wins(tmp_path):
    with unix_server(tmp_path / "a.sock", b"HTTP/1.1 500 x\r\n\r\n"), \
            unix_server(tmp_path / "b.sock", DOCKER_PING), unix_server(tmp_path / "c.sock", DOCKER_PING):
        found = find_engine({}, print, set_up=False,
                            sockets=[tmp_path / "none.sock", tmp_path / "a.sock", tmp_path / "b.sock", tmp_path / "c.sock"])
    assert (found.docker_host, found.how) == (f"unix://{tmp_path}/b.sock", f"the socket {tmp_path}/b.sock")


def test_nothing_answers_is_one_line_saying_what_to_install(tmp_path):
    with pytest.raises(LocalRunError) as raised:
        find_engine({}, print, set_up=False, sockets=[tmp_path / "docker.sock", tmp_path / "podman.sock"])
    message = str(raised.value)
    assert "\n" not in message
    assert message == (
        f"no container engine answers ({tmp_path}/docker.sock: no such socket; {tmp_path}/podman.sock: no such socket): "
        "install Docker or Podman and start its API service (rootless Podman: `systemctl --user enable --now "
        "podman.socket`), or set DOCKER_HOST; as root on Debian, `local up` and `pipenv run test` set Podman up themselves"
    )


def test_the_command_prints_nothing_on_stdout_when_there_is_no_engine(tmp_path):
    run = subprocess.run([sys.executable, "-m", "localrun.engine_setup", "--no-setup"], cwd=REPO,
                         env={**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/gone.sock"},
                         capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr.splitlines() == [
        f"engine: error: no container engine answers at DOCKER_HOST=unix://{tmp_path}/gone.sock: no such socket; "
        "start it, or unset DOCKER_HOST to use the default socket"
    ]
