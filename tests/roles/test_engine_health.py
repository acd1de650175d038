"""``entrypoint.py healthcheck`` for an engine, as Kubernetes' exec probe runs it: a separate
process with the container's environment, judging from the supervisor's state file.

A wedged engine is unhealthy (so the kubelet restarts it) and recovers by itself where it can:
the controller dropping a paused ipengine is noticed through the controller's notifications and
the supervisor registers a new ipengine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from ipython_roles.healthcheck import REREGISTER_SECONDS, STALE_SECONDS, engine_health

from .conftest import cluster_variables, wait_for_log
from .processes import ENTRYPOINT, PYTHON, RoleProcess, base_environment, wait_for_port, wait_until

STATE = "ipython-roles-engine.json"


def healthcheck(process: RoleProcess) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, str(ENTRYPOINT), "healthcheck"],
        env=base_environment(process.home, **process.variables),
        capture_output=True,
        text=True,
        timeout=30,
    )


def state_of(process: RoleProcess) -> dict:
    path = process.home / ".local" / "share" / "jupyter" / "runtime" / STATE
    return json.loads(path.read_text())


@pytest.fixture
def processes():
    """A stopped, a dead and a zombie process to point the state at; cleaned up afterwards."""
    stopped = subprocess.Popen(["sleep", "60"])
    os.kill(stopped.pid, signal.SIGSTOP)
    wait_until(lambda: open(f"/proc/{stopped.pid}/stat").read().rsplit(")", 1)[1].split()[0] == "T", 5, "stop")
    dead = subprocess.Popen(["true"])
    dead.wait()
    zombie = subprocess.Popen(["true"])
    wait_until(lambda: open(f"/proc/{zombie.pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z", 5, "zombie")
    yield {"stopped": stopped.pid, "dead": dead.pid, "zombie": zombie.pid, "alive": os.getpid()}
    os.kill(stopped.pid, signal.SIGKILL)
    stopped.wait()
    zombie.wait()


NOW = 10_000.0
FRESH = {"updated": NOW - 1, "failures": 0, "unregistered_at": None}

# (state, healthy, start of the detail)
CASES = [
    ({"phase": "waiting", "supervisor_pid": "alive"}, True, "waiting for the controller"),
    ({"phase": "running", "supervisor_pid": "alive", "engine_pid": "alive", "registered": True, "engine_id": 3},
     True, "ipengine pid"),
    ({"phase": "restarting", "supervisor_pid": "alive", "failures": 2}, True, "restarting: ipengine is being started"),
    ({"phase": "running", "supervisor_pid": "dead"}, False, "the engine supervisor (pid"),
    ({"phase": "running", "supervisor_pid": "zombie"}, False, "the engine supervisor (pid"),
    ({"phase": "waiting", "supervisor_pid": "alive", "updated": NOW - STALE_SECONDS - 1}, False,
     "the engine supervisor (pid"),
    ({"phase": "running", "supervisor_pid": "alive", "engine_pid": "dead"}, False, "ipengine pid"),
    ({"phase": "running", "supervisor_pid": "alive", "engine_pid": "stopped"}, False, "ipengine pid"),
    ({"phase": "running", "supervisor_pid": "alive", "engine_pid": "zombie"}, False, "ipengine pid"),
    ({"phase": "restarting", "supervisor_pid": "alive", "failures": 5}, False, "ipengine failed 5 times in a row"),
    ({"phase": "running", "supervisor_pid": "alive", "engine_pid": "alive",
      "unregistered_at": NOW - REREGISTER_SECONDS - 1}, False, "the controller unregistered this engine"),
]


@pytest.mark.parametrize("state, healthy, detail", CASES, ids=[f"{i}-{c[2][:24]}" for i, c in enumerate(CASES)])
def test_engine_verdict(processes, state, healthy, detail):
    resolved = {**FRESH, **{k: processes.get(v, v) if isinstance(v, str) and k.endswith("pid") else v
                            for k, v in state.items()}}
    verdict, text = engine_health(resolved, NOW)
    assert verdict is healthy, text
    assert text.startswith(detail), text


def test_probe_is_cheap(tmp_path):
    """One probe: a short Python process, well within the probe's 5 s timeout."""
    variables = {"IPYTHON_CONTAINER_TYPE": "engine", "IPYTHON_CLUSTER_LABEL": "c", "IPYTHON_CLUSTER_KEY": "k"}
    started = time.monotonic()
    usage_before = os.times()
    done = subprocess.run([PYTHON, str(ENTRYPOINT), "healthcheck"], env=base_environment(tmp_path, **variables),
                          capture_output=True, text=True, timeout=30)
    usage = os.times()
    cpu = (usage.children_user - usage_before.children_user) + (usage.children_system - usage_before.children_system)
    elapsed = time.monotonic() - started
    assert done.returncode == 1 and done.stdout.startswith("unhealthy: engine: no engine supervisor state in ")
    assert elapsed < 3 and cpu < 1.5, (elapsed, cpu)
    print(f"engine healthcheck: {elapsed * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU")


FAST_HEARTBEAT = "c.HeartMonitor.period = 1000\nc.HeartMonitor.max_heartmonitor_misses = 3\n"


def test_engine_dropped_by_the_controller_registers_again(tmp_path, ports):
    """A paused ipengine (SIGSTOP: a frozen process, a partition) is unhealthy at once; the
    controller drops it after a few missed heartbeats; once it runs again it still answers pings
    but is no longer in the cluster, which is what the supervisor notices and repairs."""
    port = ports.controller_base()
    controller = RoleProcess("controller", tmp_path, cluster_variables(port, IPYTHON_CONTAINER_TYPE="controller"))
    profile = controller.home / ".ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipcontroller_config.py").write_text(FAST_HEARTBEAT)
    engine = RoleProcess("engine", tmp_path, cluster_variables(port, IPYTHON_CONTAINER_TYPE="engine",
                                                               IPYTHON_NOTEBOOK_DIR=str(tmp_path / "work")))
    controller.start()
    engine.start()
    try:
        wait_for_port(controller, port)
        wait_until(lambda: "registered as engine 0" in healthcheck(engine).stdout, 60, "engine 0 healthy",
                   process=engine)
        first = state_of(engine)
        os.kill(first["engine_pid"], signal.SIGSTOP)
        paused = time.monotonic()
        try:
            result = healthcheck(engine)
            assert result.returncode == 1 and "is stopped (state T)" in result.stdout, result.stdout
            wait_until(lambda: "unregister_engine(0)" in controller.log(), 30, "the controller dropping engine 0",
                       process=controller)
        finally:
            os.kill(first["engine_pid"], signal.SIGCONT)
        wait_for_log(engine, "the controller unregistered engine 0", 15)
        wait_until(lambda: "registered as engine 1" in healthcheck(engine).stdout, 60, "engine 1 healthy",
                   process=engine)
        recovered = time.monotonic() - paused
        second = state_of(engine)
        assert second["engine_pid"] != first["engine_pid"] and second["engine_uuid"] != first["engine_uuid"]
        print(f"paused engine back in the cluster {recovered:.1f} s after the pause")
    finally:
        engine.stop()
        controller.stop()
