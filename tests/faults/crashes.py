"""Crashing a container the way a crash happens, and waiting for its restart policy.

WHY not ``container.kill()``: the engine's kill API (``docker kill`` / ``podman kill``) marks
the container as stopped by the user, and restart policies ignore containers a user stopped
(Podman 4.3 and Docker alike), so the container would simply stay down. A real crash, an
OOM kill or a segfault, is the main process dying: that is what the kubelet restarts under
``restartPolicy: Always`` and what the local runner's restart policy ``always`` restarts. So the
role's main process (the child of tini, PID 1) gets SIGKILL from inside the container; tini
then exits 137 and the whole container goes down with it, every process of it killed.
"""

from __future__ import annotations

import time

#: Run inside the container: SIGKILL every child of PID 1 (tini), i.e. the role's main process.
#: An ``exec``'d process has a parent outside the container (PPid 0), so it never kills itself.
KILL_MAIN_PROCESS = """
import os, signal
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{pid}/status") as status:
            ppid = next(line.split()[1] for line in status if line.startswith("PPid:"))
    except (OSError, StopIteration):
        continue
    if ppid == "1":
        os.kill(int(pid), signal.SIGKILL)
"""

RESTART_SECONDS = 60


def restart_count(container) -> int:
    container.reload()
    return int(container.attrs.get("RestartCount") or 0)


def crash(container) -> int:
    """SIGKILL the container's main process; return its restart count from before."""
    before = restart_count(container)
    assert container.status == "running", f"{container.name} is {container.status}, not running"
    # The exec dies with the container; its result does not matter.
    container.exec_run(["python", "-c", KILL_MAIN_PROCESS], detach=True)
    return before


def wait_restarted(container, restarts_before: int, timeout: float = RESTART_SECONDS) -> float:
    """Seconds until the restart policy ran the container again (restart count went up)."""
    started = time.monotonic()
    while True:
        if restart_count(container) > restarts_before and container.status == "running":
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(
                f"{container.name} was not restarted within {timeout} s (status {container.status}, "
                f"restart count {restart_count(container)}, before {restarts_before})"
            )
        time.sleep(0.2)
