"""What `local up` asks the engine: a second `up` with nothing changed only reads, and a first
`up` starts every pod once, at once, without looking for leftovers one pod at a time.

The engine is the real one, reached through a recording proxy: a Unix socket in front of the
engine's that passes every byte on and notes each request line (``GET /v1.41/containers/json``).
`local` is pointed at it with DOCKER_HOST, as a user points it at any engine.

Small stacks of the project's image (tiny_apps.py): a published web server whose pod has an init
container and an emptyDir, and two sleepers, in a workspace and namespace of this session.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from .deployment import IMAGE, owned
from .tiny_apps import SERVE, SLEEP, deployment, stack, write_app

pytestmark = pytest.mark.container

WORKSPACE = f"calls-{uuid.uuid4().hex[:6]}"
NOTHING = {"containers": [], "volumes": [], "networks": []}
REQUEST_LINE = re.compile(rb"(?:^|\r\n)(GET|POST|PUT|DELETE|HEAD) (\S+) HTTP/1\.[01]\r\n")


class RecordingProxy:
    """A Unix socket passing each connection on to ``target`` (another Unix socket), noting
    the request lines the clients send."""

    def __init__(self, path: Path, target: str):
        self.path = path
        self.target = target
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(64)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.target)
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, record: bool) -> None:
        pending = b""  # what may hold the start of a request line not yet complete
        try:
            while data := source.recv(65536):
                if record:
                    pending += data
                    end = 0
                    with self._lock:
                        for match in REQUEST_LINE.finditer(pending):
                            self.requests.append((match.group(1).decode(), unquote(match.group(2).decode())))
                            end = match.end() - 2  # keep the CRLF: it starts the next line's match
                    pending = pending[end:][-4096:]
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end_point in (source, sink):
                try:
                    end_point.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def take(self) -> list[tuple[str, str]]:
        with self._lock:
            taken, self.requests = self.requests, []
        return taken

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def proxy(tmp_path, engine_client) -> Iterator[RecordingProxy]:
    host = os.environ.get("DOCKER_HOST") or engine_client.api.base_url
    parts = urlsplit(host)
    if parts.scheme != "unix":
        pytest.skip(f"the engine is not on a Unix socket here ({host})")
    recording = RecordingProxy(tmp_path / "engine.sock", parts.path)
    yield recording
    recording.close()


@contextmanager
def _down_at_the_end(local, engine_client):
    try:
        yield
    finally:
        local("down", "--workspace", WORKSPACE)
        assert owned(engine_client, workspace=WORKSPACE) == NOTHING


def _app(tmp_path: Path) -> Path:
    web = deployment("web", WORKSPACE, SERVE, port=8000, scratch=True, init=["true"])
    return write_app(tmp_path / "app", {"calls-stack": stack(WORKSPACE, {
        "web": web,
        "sleeper-a": deployment("sleeper-a", WORKSPACE, SLEEP),
        "sleeper-b": deployment("sleeper-b", WORKSPACE, SLEEP),
    }, published="web")})


def _path(target: str) -> str:
    """The request's path without the API version and the query: ``/containers/json``."""
    return re.sub(r"^/v[0-9.]+", "", target.split("?", 1)[0])


def test_a_second_up_with_nothing_changed_only_reads(local, engine_client, proxy, tmp_path):
    app = _app(tmp_path)
    via_proxy = {"DOCKER_HOST": f"unix://{proxy.path}"}
    with _down_at_the_end(local, engine_client):
        first = local.ok("up", "--workspace", WORKSPACE, "--from", str(app), "--json", **via_proxy)
        started = proxy.take()
        second = local.ok("up", "--workspace", WORKSPACE, "--from", str(app), "--json", **via_proxy)
        again = proxy.take()

    assert json.loads(second.stdout) == json.loads(first.stdout)
    assert "local: all 3 containers are up to date" in second.stderr.splitlines()

    # the first up: each pod's containers made and started once (the web pod's init container too)
    creates = [t for m, t in started if m == "POST" and _path(t) == "/containers/create"]
    assert len(creates) == 4, started  # 3 containers and 1 init container
    assert len([1 for m, t in started if m == "POST" and _path(t).endswith("/start")]) == 4, started
    # nothing was there, so no pod was searched for leftovers one by one
    assert not [t for m, t in started if m == "GET" and _path(t) == "/containers/json" and "pod" in unquote(t)], started

    # the second up: only reads: the ping, the image, the containers' list (twice: what runs,
    # and the last check), the published container (its port)
    assert {m for m, _ in again} == {"GET"}, again
    paths = [_path(t) for _, t in again]
    assert paths.count("/containers/json") == 2, again
    inspected = [p for p in paths if re.fullmatch(r"/containers/[^/]+/json", p) and p != "/containers/json"]
    assert len(inspected) <= 1, again
    assert set(paths) - {"/_ping", "/containers/json", f"/images/{IMAGE}/json", *inspected} == set(), again
