"""Real git servers on 127.0.0.1 for the repository tests: a static file server that asks for
HTTP Basic credentials (git's "dumb" HTTP, as behind a private Git host), and ``git daemon``.

The accepted credentials reach the server on its stdin, not on its command line or in its
environment, so that a test scanning every process for the secret finds only what the roles
leaked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from .artifacts import git
from .processes import wait_until

_AUTH_SERVER = r"""
import base64, functools, http.server, json, sys
root, port = sys.argv[1], int(sys.argv[2])
accepted = {"Basic " + base64.b64encode(f"{user}:{password}".encode()).decode() for user, password in json.loads(sys.stdin.readline())}

class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.headers.get("Authorization") not in accepted:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="notebooks"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *arguments):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Handler, directory=root)).serve_forever()
"""


def bare_copy(repository: Path, root: Path, name: str = "notebooks.git") -> Path:
    """A bare clone of ``repository`` under ``root``, with the info files dumb HTTP needs."""
    root.mkdir(parents=True, exist_ok=True)
    bare = root / name
    subprocess.run(["git", "clone", "-q", "--bare", str(repository), str(bare)], check=True)
    git(bare, "update-server-info")
    return bare


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@contextmanager
def basic_auth_http_server(root: Path, port: int, credentials: list[tuple[str, str]]) -> Iterator[str]:
    """Serve ``root`` on ``http://127.0.0.1:<port>`` to requests with one of ``credentials``
    (user name, password; both decoded); others get 401. Yields the base URL."""
    server = subprocess.Popen(
        [sys.executable, "-c", _AUTH_SERVER, str(root), str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        server.stdin.write(json.dumps(credentials) + "\n")
        server.stdin.close()
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: requests.get(f"{base}/", timeout=2).status_code == 401, 15, "the Basic-auth server")
        yield base
    finally:
        _stop(server)


@contextmanager
def git_daemon(root: Path, port: int) -> Iterator[str]:
    """``git daemon`` exporting every repository under ``root``; yields ``git://127.0.0.1:<port>``."""
    daemon = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={root}", "--listen=127.0.0.1",
         f"--port={port}", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"git://127.0.0.1:{port}"
        probe = root / "probe.git"
        subprocess.run(["git", "init", "-q", "--bare", str(probe)], check=True)

        def answers() -> bool:
            return subprocess.run(["git", "ls-remote", f"{url}/probe.git"], capture_output=True, timeout=10).returncode == 0

        wait_until(answers, 15, "git daemon")
        yield url
    finally:
        _stop(daemon)
