"""The engine supervisor on its own: waits for an absent controller, reports itself healthy
meanwhile (a restart would not help), stops cleanly on SIGTERM; and the restart detection it is
built on."""

from __future__ import annotations

import signal
import subprocess

from ipython_roles.controller_watch import ControllerRestartWatch

from .processes import ENTRYPOINT, PYTHON, RoleProcess, base_environment, wait_until


def test_clock_going_back_means_a_new_controller():
    restarts = []
    watch = ControllerRestartWatch("tcp://127.0.0.1:9", lambda before, now: restarts.append((before, now)))
    for clock in (3.0, 6.0, 9.0, 12.0, 3.0, 6.0, 3.1):
        watch.observe(clock)
    assert restarts == [(12.0, 3.0), (6.0, 3.1)]


def test_engine_waits_for_absent_controller_and_stops_on_sigterm(tmp_path, ports):
    variables = {
        "IPYTHON_CONTAINER_TYPE": "engine",
        "IPYTHON_CLUSTER_LABEL": "absent",
        "IPYTHON_CLUSTER_KEY": "k",
        "IPYTHON_CONTROLLER_HOST": "127.0.0.1",
        "IPYTHON_CONTROLLER_PORT": str(ports.controller_base()),
    }
    engine = RoleProcess("engine", tmp_path, variables).start()
    try:
        wait_until(lambda: "waiting for the controller at 127.0.0.1:" in engine.log(), 30, "waiting", process=engine)
        health = subprocess.run(
            [PYTHON, str(ENTRYPOINT), "healthcheck"],
            env=base_environment(engine.home, **variables),
            capture_output=True,
            text=True,
        )
        # Waiting for an absent controller is healthy: a restart would not bring it back.
        assert health.returncode == 0, health.stdout
        assert health.stdout == "healthy: engine: waiting for the controller (restarting the engine would not help)\n"
        engine.process.send_signal(signal.SIGTERM)
        assert engine.process.wait(10) == 0
        assert "engine supervisor stopped" in engine.log()
    finally:
        engine.kill()


def test_unresolvable_controller_name_is_waited_for(tmp_path):
    variables = {
        "IPYTHON_CONTAINER_TYPE": "engine",
        "IPYTHON_CLUSTER_LABEL": "not-created-yet",
        "IPYTHON_CLUSTER_KEY": "k",
    }
    engine = RoleProcess("engine", tmp_path, variables).start()
    try:
        wait_until(
            lambda: "waiting for the controller at ipcluster-not-created-yet:10100" in engine.log(),
            30,
            "waiting",
            process=engine,
        )
        assert engine.alive()
    finally:
        engine.stop()


def test_healthcheck_is_unhealthy_when_nothing_listens(tmp_path, ports):
    for variables, expected in (
        (
            {
                "IPYTHON_CONTAINER_TYPE": "viewer",
                "IPYTHON_USER_PASSWORD": "x" * 8,
                "IPYTHON_VIEWER_PORT": str(ports.port()),
            },
            "unhealthy: viewer: GET http://127.0.0.1:",
        ),
        (
            {
                "IPYTHON_CONTAINER_TYPE": "controller",
                "IPYTHON_CLUSTER_LABEL": "c",
                "IPYTHON_CLUSTER_KEY": "k",
                "IPYTHON_CONTROLLER_PORT": str(ports.controller_base()),
            },
            "unhealthy: controller: controller registration port ",
        ),
        ({"IPYTHON_CONTAINER_TYPE": "nonsense"}, "unhealthy: error: IPYTHON_CONTAINER_TYPE=nonsense: "),
    ):
        result = subprocess.run(
            [PYTHON, str(ENTRYPOINT), "healthcheck"],
            env=base_environment(tmp_path, **variables),
            capture_output=True,
            text=True,
        )
        assert result.returncode == 1
        assert result.stdout.startswith(expected), result.stdout
