"""Starting ``image/entrypoint.py`` as real processes for the role tests.

Each process gets its own HOME (and IPYTHONDIR under it), its own log file and its own process
group, so that processes share no file (nothing is copied between them: that is the point of
the connection info being computed) and a test can stop or kill a role with everything it
started, as a container runtime would.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO_ROOT / "image" / "entrypoint.py"
PYTHON = sys.executable
CONTROLLER_PORTS = 16


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


class PortAllocator:
    """Free ports for one test session; never hands out the same port twice."""

    def __init__(self) -> None:
        self.used: set[int] = set()
        self.random = random.Random(os.getpid())

    def port(self) -> int:
        while True:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            if port not in self.used and _bindable(port):
                self.used.add(port)
                return port

    def controller_base(self) -> int:
        """A first port P with P..P+15 all free (outside the kernel's ephemeral range)."""
        for _ in range(200):
            base = self.random.randrange(20000, 32000 - CONTROLLER_PORTS)
            block = range(base, base + CONTROLLER_PORTS)
            if not self.used.intersection(block) and all(_bindable(p) for p in block):
                self.used.update(block)
                return base
        raise RuntimeError("no block of 16 free ports found")


def base_environment(home: Path, **variables: str) -> dict[str, str]:
    """A clean environment: PATH (with the venv's bin first), locale, HOME/IPYTHONDIR, variables."""
    environ = {
        "PATH": os.pathsep.join([str(Path(PYTHON).parent), os.environ.get("PATH", "/usr/bin:/bin")]),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "IPYTHONDIR": str(home / ".ipython"),
        "PYTHONUNBUFFERED": "1",
    }
    environ.update(variables)
    return environ


class RoleProcess:
    """``python image/entrypoint.py`` with a given environment, in its own process group."""

    def __init__(self, name: str, root: Path, variables: Mapping[str, str], *, home: Path | None = None):
        self.name = name
        self.root = root
        self.home = home or root / name / "home"
        self.variables = dict(variables)
        self.log_path = root / name / "log.txt"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> RoleProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with open(self.log_path, "a") as log:
            log.write(f"\n===== start {self.starts} =====\n")
            log.flush()
            self.process = subprocess.Popen(
                [PYTHON, str(ENTRYPOINT)],
                env=base_environment(self.home, **self.variables),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.root,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the main process only, as `docker stop` does through tini; after it exited
        (or after ``timeout``) SIGKILL whatever is left in its process group."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def kill(self) -> None:
        """SIGKILL the whole process group: a crashed container."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _group_exists(self.pid):
            time.sleep(0.05)


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(
    predicate: Callable[[], object],
    timeout: float,
    what: str,
    interval: float = 0.2,
    process: RoleProcess | None = None,
):
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` (and a log tail)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # noqa: BLE001 - we retry until the deadline
            last_error = error
        if process is not None and not process.alive():
            break
        time.sleep(interval)
    tail = "\n".join(process.log().splitlines()[-30:]) if process is not None else ""
    raise AssertionError(f"timed out waiting for {what} (last error: {last_error!r})\n{tail}")


def wait_for_viewer(process: RoleProcess, port: int, timeout: float = 60) -> None:
    def ready() -> bool:
        return requests.get(f"http://127.0.0.1:{port}/api", timeout=2).status_code == 200

    wait_until(ready, timeout, f"viewer {process.name} on port {port}", process=process)


def wait_for_port(process: RoleProcess, port: int, timeout: float = 30) -> None:
    def accepting() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    wait_until(accepting, timeout, f"{process.name} listening on {port}", process=process)
