"""``entrypoint.py healthcheck``: is the role of this container doing its job? (exit 0 / 1)

Run by the image's HEALTHCHECK (``docker exec``-like, with the container's environment):

* viewer: ``GET http://127.0.0.1:<IPYTHON_VIEWER_PORT>/api`` answers 200 (no login needed);
* controller: a TCP connection to the registration port (IPYTHON_CONTROLLER_PORT) succeeds;
* engine: the ipengine process the supervisor last started is alive (pid from the
  supervisor's state file in the Jupyter runtime directory).

It prints one line, ``healthy: ...`` or ``unhealthy: ...``, and exits 0 or 1 (Docker reserves
2, so a bad configuration is reported as unhealthy too).
"""

from __future__ import annotations

import json
import os
import socket

from . import connection_info
from .engine import STATE_FILE
from .runtime_paths import runtime_dir
from .settings import Settings

TIMEOUT_SECONDS = 5


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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _engine(_settings: Settings) -> tuple[bool, str]:
    state_file = runtime_dir() / STATE_FILE
    try:
        pid = int(json.loads(state_file.read_text())["engine_pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False, f"no running ipengine recorded in {state_file}"
    if _pid_alive(pid):
        return True, f"ipengine pid {pid} is alive"
    return False, f"ipengine pid {pid} is gone"


CHECKS = {"viewer": _viewer, "controller": _controller, "engine": _engine}


def check(settings: Settings) -> tuple[bool, str]:
    return CHECKS[settings.role](settings)
