"""The engine role: a small supervisor that keeps one ipengine registered with the controller.

ipengine alone gives up after 5 s (``IPEngine.timeout``) when no controller answers, and it
never notices a restarted controller (see controller_watch). Pods start in any order and
controllers get rescheduled, so the entrypoint does not exec ipengine but supervises it:

1. wait until the controller's registration port accepts TCP connections (DNS name not yet
   resolvable and connection refused both count as "not yet"), logging once;
2. start ipengine with the connection file computed from the environment;
3. if ipengine exits, start it again (after 1, 2, 4, 8 s; at once after a controller restart);
4. if the controller's heartbeat clock goes back (a new controller), stop ipengine (SIGTERM,
   SIGKILL after 10 s) and start a new one, which registers with the new controller. Engines
   are back in the cluster within about 15 s of the new controller's start.

SIGTERM and SIGINT are forwarded to ipengine as SIGTERM (ipengine ignores SIGINT), then the
supervisor exits 0. The supervisor records the running ipengine's pid in a private state file
of the Jupyter runtime directory; ``entrypoint.py healthcheck`` reports the engine healthy
while that process is alive.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from .controller_watch import ControllerRestartWatch
from .logs import command_line, log
from .runtime_paths import write_private_json

STATE_FILE = "ipython-roles-engine.json"
STOP_GRACE_SECONDS = 10
BACKOFF_SECONDS = (1, 2, 4, 8)
STABLE_RUN_SECONDS = 30
CONNECT_TIMEOUT_SECONDS = 2


def engine_command(engine_file: Path) -> list[str]:
    return [sys.executable, "-m", "ipyparallel.engine", f"--IPEngine.url_file={engine_file}"]


def controller_reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_SECONDS):
            return True
    except OSError:
        return False


class EngineSupervisor:
    def __init__(
        self,
        command: Sequence[str],
        *,
        controller_host: str,
        registration_port: int,
        ping_url: str,
        state_file: Path,
        cwd: Path,
        environ: Mapping[str, str],
    ):
        self.command = list(command)
        self.controller_host = controller_host
        self.registration_port = registration_port
        self.ping_url = ping_url
        self.state_file = state_file
        self.cwd = cwd
        self.environ = dict(environ)
        self._child: subprocess.Popen | None = None
        self._stopping = False
        self._restart_requested = False
        self._kill_deadline: float | None = None
        self._wake = threading.Event()

    # -- signals and requests (called from the signal handler or the watch thread) --
    def _terminate_child(self) -> None:
        child = self._child
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)
            self._kill_deadline = time.monotonic() + STOP_GRACE_SECONDS

    def _on_signal(self, signum: int, _frame) -> None:
        self._stopping = True
        self._terminate_child()
        self._wake.set()

    def _on_controller_restart(self, previous: float, clock: float) -> None:
        log(
            f"controller at {self.controller_host} restarted (heartbeat clock went back from "
            f"{previous:.0f} s to {clock:.0f} s); restarting ipengine to register with it"
        )
        self._restart_requested = True
        self._terminate_child()
        self._wake.set()

    # -- the loop --
    def _wait_for_controller(self) -> bool:
        announced = False
        while not self._stopping:
            if controller_reachable(self.controller_host, self.registration_port):
                return True
            if not announced:
                log(f"waiting for the controller at {self.controller_host}:{self.registration_port}")
                announced = True
            self._wake.wait(1)
            self._wake.clear()
        return False

    def _write_state(self, pid: int) -> None:
        write_private_json(self.state_file, {"supervisor_pid": os.getpid(), "engine_pid": pid})

    def _run_child(self) -> int:
        log(f"starting ipengine: {command_line(self.command)}")
        self._kill_deadline = None
        self._restart_requested = False  # whatever restarted before now, this one registers anew
        self._child = subprocess.Popen(self.command, cwd=self.cwd, env=self.environ)
        self._write_state(self._child.pid)
        if self._stopping:  # a signal arrived while starting
            self._terminate_child()
        try:
            while True:
                try:
                    return self._child.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    if self._kill_deadline is not None and time.monotonic() > self._kill_deadline:
                        log(f"ipengine (pid {self._child.pid}) ignored SIGTERM for {STOP_GRACE_SECONDS} s; killing it")
                        self._child.kill()
                        self._kill_deadline = None
        finally:
            self.state_file.unlink(missing_ok=True)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        watch = ControllerRestartWatch(self.ping_url, self._on_controller_restart)
        watch.start()
        failures = 0
        try:
            while self._wait_for_controller():
                started = time.monotonic()
                status = self._run_child()
                if self._stopping:
                    break
                if self._restart_requested:
                    self._restart_requested = False
                    failures = 0
                    continue
                failures = 0 if time.monotonic() - started > STABLE_RUN_SECONDS else failures + 1
                delay = BACKOFF_SECONDS[min(max(failures - 1, 0), len(BACKOFF_SECONDS) - 1)]
                hint = (
                    " (registration failed: does IPYTHON_CLUSTER_KEY match the controller's?)" if status == 255 else ""
                )
                log(f"ipengine exited with status {status}{hint}; starting it again in {delay} s")
                self._wake.wait(delay)
                self._wake.clear()
        finally:
            watch.stop()
            self.state_file.unlink(missing_ok=True)
        log("engine supervisor stopped")
        return 0
