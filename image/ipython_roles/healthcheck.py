"""``entrypoint.py healthcheck``: is the role of this container doing its job? (exit 0 / 1)

Run as a separate process with the container's environment: by Kubernetes' exec probes (the
engine's readiness and liveness; viewer and controller have HTTP / TCP probes) and by the
image's HEALTHCHECK. It costs one short Python process (about 0.15 s of CPU and 20 MB, measured) and
never talks to another pod:

* viewer: ``GET http://127.0.0.1:<IPYTHON_VIEWER_PORT>/api`` answers 200 (no login needed);
* controller: a TCP connection to the registration port (IPYTHON_CONTROLLER_PORT) succeeds;
* engine: judged from the supervisor's state file (see engine), which the supervisor rewrites
  every few seconds. Unhealthy, so that Kubernetes restarts the container, when the engine is
  wedged:

  - no state file, or its supervisor process is gone;
  - the state file is older than ``STALE_SECONDS``: the supervisor stopped making progress;
  - ipengine is recorded as running but its process is gone, stopped (``T``) or a zombie;
  - the controller unregistered ipengine and no new one registered within ``REREGISTER_SECONDS``;
  - ipengine failed ``FAILURES_UNHEALTHY`` times in a row (a wrong key, a broken workspace):
    the restarts then show in ``kubectl get pods``.

  Waiting for an unreachable controller is healthy: restarting the engine would not bring the
  controller back, and a restart loop (CrashLoopBackOff) would delay the engines' return.

It prints one line, ``healthy: ...`` or ``unhealthy: ...``, and exits 0 or 1 (Docker reserves
2, so a bad configuration is reported as unhealthy too).
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from . import connection_info
from .engine import RUNNING, STATE_FILE, TICK_SECONDS, WAITING
from .runtime_paths import runtime_dir
from .settings import Settings

TIMEOUT_SECONDS = 5
STALE_SECONDS = 6 * TICK_SECONDS
REREGISTER_SECONDS = 60
FAILURES_UNHEALTHY = 5


def _viewer(settings: Settings) -> tuple[bool, str]:
    import urllib.error
    import urllib.request

    url = f"http://127.0.0.1:{settings.viewer_port}/api"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            return response.status == 200, f"GET {url} -> {response.status}"
    except (urllib.error.URLError, OSError) as error:
        return False, f"GET {url} failed: {error}"


def _controller(settings: Settings) -> tuple[bool, str]:
    port = connection_info.registration_port(settings.controller_port)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_SECONDS):
            return True, f"controller registration port {port} accepts connections"
    except OSError as error:
        return False, f"controller registration port {port}: {error}"


def process_state(pid: int) -> str | None:
    """The one-letter state of a process (R, S, D, T, Z, ...), None when there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return "?"
        return "?"  # alive, but no /proc here (not Linux)
    return stat.rsplit(")", 1)[1].split()[0]


def engine_health(state: dict, now: float) -> tuple[bool, str]:
    """The verdict on one reading of the supervisor's state file (``now``: time.monotonic())."""
    supervisor = state.get("supervisor_pid")
    if not isinstance(supervisor, int) or process_state(supervisor) in (None, "Z"):
        return False, f"the engine supervisor (pid {supervisor}) is gone"
    age = now - float(state.get("updated", 0))
    if age > STALE_SECONDS:
        return False, f"the engine supervisor (pid {supervisor}) made no progress for {age:.0f} s"
    phase = state.get("phase")
    if phase == WAITING:
        return True, "waiting for the controller (restarting the engine would not help)"
    failures = int(state.get("failures") or 0)
    if failures >= FAILURES_UNHEALTHY:
        return False, f"ipengine failed {failures} times in a row"
    unregistered_at = state.get("unregistered_at")
    if unregistered_at is not None and now - float(unregistered_at) > REREGISTER_SECONDS:
        return False, f"the controller unregistered this engine {now - float(unregistered_at):.0f} s ago"
    if phase != RUNNING:
        return True, f"{phase}: ipengine is being started again"
    pid = state.get("engine_pid")
    process = process_state(pid) if isinstance(pid, int) else None
    if process is None:
        return False, f"ipengine pid {pid} is gone"
    if process in ("T", "t", "Z", "X"):
        return False, f"ipengine pid {pid} is {'stopped' if process in ('T', 't') else 'dead'} (state {process})"
    registration = f"registered as engine {state.get('engine_id')}" if state.get("registered") else "registering"
    return True, f"ipengine pid {pid} is alive, {registration}"


def _engine(_settings: Settings) -> tuple[bool, str]:
    state_file = runtime_dir() / STATE_FILE
    try:
        state = json.loads(state_file.read_text())
        if not isinstance(state, dict):
            raise ValueError(state)
    except (OSError, ValueError):
        return False, f"no engine supervisor state in {state_file}"
    return engine_health(state, time.monotonic())


CHECKS = {"viewer": _viewer, "controller": _controller, "engine": _engine}


def check(settings: Settings) -> tuple[bool, str]:
    return CHECKS[settings.role](settings)
