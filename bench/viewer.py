"""2. Viewer ready: our entrypoint's viewer against a bare ``jupyter server``, start to ``/api`` 200."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import requests

from tests.roles.processes import wait_until

from .processes import BIN, ENTRYPOINT, POLL_SECONDS, clean_environment, free_port, running, start
from .timing import Comparison, alternate, seconds

PASSWORD = "bench-password-1"


def _ready(port: int) -> bool:
    return requests.get(f"http://127.0.0.1:{port}/api", timeout=2).status_code == 200


def _time_to_ready(command: list[str], environ: dict[str, str], port: int, log: Path) -> float:
    process = start(command, environ, log)
    with running(process):
        return seconds(lambda: wait_until(lambda: _ready(port), 120, f"{command[0]} on {port}", POLL_SECONDS))


def _ours(work: Path) -> float:
    port = free_port()
    home = Path(tempfile.mkdtemp(dir=work))
    environ = clean_environment(
        home, IPYTHON_CONTAINER_TYPE="viewer", IPYTHON_USER_PASSWORD=PASSWORD, IPYTHON_VIEWER_PORT=str(port)
    )
    return _time_to_ready([str(BIN / "python"), str(ENTRYPOINT)], environ, port, home / "log.txt")


def _bare(work: Path) -> float:
    port = free_port()
    home = Path(tempfile.mkdtemp(dir=work))
    (home / "work").mkdir()
    command = [
        str(BIN / "jupyter"), "server", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
        "--ServerApp.port_retries=0", f"--ServerApp.root_dir={home / 'work'}",
    ]
    if os.geteuid() == 0:  # as our entrypoint does: Jupyter refuses root unless told
        command.append("--allow-root")
    return _time_to_ready(command, clean_environment(home), port, home / "log.txt")


def run(runs: int, work: Path) -> Comparison:
    comparison = Comparison(
        name="viewer_ready",
        what="viewer: process start to /api answering",
        unit="s",
        baseline_name="bare `jupyter server`, same environment",
        goal="<= 1.15",
    )
    return alternate(comparison, lambda: _ours(work), lambda: _bare(work), runs)
