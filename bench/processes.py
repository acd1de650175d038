"""Starting and stopping the processes a benchmark measures, each in its own process group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.roles.processes import PortAllocator

#: How often a timed wait polls: short, since the poll interval is part of what is measured.
POLL_SECONDS = 0.02

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "image" / "entrypoint.py"
BIN = Path(sys.executable).parent


_PORTS = PortAllocator()


def free_port() -> int:
    return _PORTS.port()


def free_port_block() -> int:
    """A first port P with P..P+15 free: the controller's fixed ports."""
    return _PORTS.controller_base()


def clean_environment(home: Path, **variables: str) -> dict[str, str]:
    """The environment both sides of a comparison get: same PATH, locale and a fresh HOME."""
    home.mkdir(parents=True, exist_ok=True)
    environ = {
        "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "/usr/bin:/bin")]),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "IPYTHONDIR": str(home / ".ipython"),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "PYTHONUNBUFFERED": "1",
    }
    environ.update(variables)
    return environ


def start(command: list[str], environ: dict[str, str], log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as sink:
        return subprocess.Popen(
            command,
            env=environ,
            cwd=environ["HOME"],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(*processes: subprocess.Popen) -> None:
    """SIGTERM each process group, then SIGKILL what is left after a grace period."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def running(*processes: subprocess.Popen) -> Iterator[tuple[subprocess.Popen, ...]]:
    try:
        yield processes
    finally:
        stop(*processes)
