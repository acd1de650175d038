"""Many engines on one controller, and the registrations that scale puts at risk.

Real processes: our controller and engines started by the image's entrypoint. The speed of it
all is a benchmark (``pipenv run bench --only scale``), not a test: nothing here is timed.

* 16 engines started at once all register, and the hub's own list of engines (what the
  supervisor asks it, registration_watch.registered_engines) names exactly the 16 ipengines the
  supervisors started;
* a registration the hub drops before it sees the engine's first heartbeat ("purging stalled
  registration", what 128 engines on two cores did to 20 of them) leaves an ipengine that got its
  reply and runs on outside the cluster; the supervisor notices and starts a new ipengine;
* the signed query and its answer, alone: a forged answer is not believed.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from ipython_roles.controller_watch import ControllerRestartWatch
from ipython_roles.curve_keys import client_socket_options, controller_keys
from ipython_roles.engine import STALLED_REGISTRATION_SECONDS, engine_command, heart_connected, heartbeat_port
from ipython_roles.registration_watch import DELIMITER, parse_engines, registered_engines, signed_message

from .conftest import CLUSTER_KEY, cluster_variables
from .processes import RoleProcess, wait_for_port, wait_until
from .test_engine_health import state_of

ENGINES = 16


def _query(port: int, key: str = CLUSTER_KEY) -> dict[str, int] | None:
    options = client_socket_options(controller_keys(CLUSTER_KEY).public)
    return registered_engines(f"tcp://127.0.0.1:{port}", key, options, timeout=5000)


def test_sixteen_engines_started_at_once_all_register(tmp_path, ports):
    port = ports.controller_base()
    controller = RoleProcess("controller", tmp_path, cluster_variables(port, IPYTHON_CONTAINER_TYPE="controller"))
    engines = [
        RoleProcess(f"engine-{n}", tmp_path, cluster_variables(port, IPYTHON_CONTAINER_TYPE="engine",
                                                                IPYTHON_NOTEBOOK_DIR=str(tmp_path / f"work-{n}")))
        for n in range(ENGINES)
    ]
    try:
        for process in [*engines, controller]:  # the engines first: they wait for the controller
            process.start()
        wait_for_port(controller, port, timeout=120)

        def all_registered() -> dict[str, int] | None:
            listed = _query(port)
            return listed if listed is not None and len(listed) == ENGINES else None

        listed = wait_until(all_registered, 300, f"{ENGINES} engines registered", interval=1, process=controller)
        assert sorted(listed.values()) == list(range(ENGINES))
        wait_until(lambda: all(state_of(engine)["registered"] for engine in engines), 60,
                   "every supervisor to hear its engine's registration")
        assert {state_of(engine)["engine_uuid"] for engine in engines} == set(listed)
        assert "purging stalled registration" not in controller.log()
        for engine in engines:
            assert engine.alive(), engine.log()[-2000:]
            assert "ipengine exited" not in engine.log(), engine.log()[-2000:]
    finally:
        for process in [*engines, controller]:
            process.stop()


def test_a_registration_the_hub_dropped_is_noticed_and_started_again(tmp_path, ports):
    port = ports.controller_base()
    controller = RoleProcess("controller", tmp_path, cluster_variables(port, IPYTHON_CONTAINER_TYPE="controller"))
    profile = controller.home / ".ipython" / "profile_default"
    profile.mkdir(parents=True)
    # 0 s: the hub drops every registration at once, before any heartbeat can arrive
    (profile / "ipcontroller_config.py").write_text("c.IPController.registration_timeout = 0\n")
    engine = RoleProcess("engine", tmp_path, cluster_variables(port, IPYTHON_CONTAINER_TYPE="engine",
                                                               IPYTHON_NOTEBOOK_DIR=str(tmp_path / "work")))
    try:
        controller.start()
        engine.start()
        wait_until(lambda: "purging stalled registration" in controller.log(), 120, "the hub dropping the registration",
                   process=controller)
        first = state_of(engine)
        assert first["registered"] is False and first["engine_pid"]
        wait_until(lambda: "has not registered it" in engine.log(), STALLED_REGISTRATION_SECONDS + 60,
                   "the supervisor noticing", process=engine)
        wait_until(lambda: state_of(engine)["engine_uuid"] not in (None, first["engine_uuid"]), 60,
                   "a new ipengine", process=engine)
        assert _query(port) == {}  # and the hub really has no engine
        assert "ipengine exited" not in engine.log()
    finally:
        engine.stop()
        controller.stop()


def test_the_query_is_signed_and_a_forged_answer_is_not_believed():
    key = CLUSTER_KEY.encode()
    request = signed_message(key, "connection_request", {})
    assert request[0] == DELIMITER and json.loads(request[2])["msg_type"] == "connection_request"

    def reply(content: dict, signing_key: bytes = key) -> list[bytes]:
        return [b"identity", *signed_message(signing_key, "connection_reply", content)]

    assert parse_engines(reply({"status": "ok", "engines": {"0": "a", "7": "b"}}), key) == {"a": 0, "b": 7}
    assert parse_engines(reply({"status": "ok", "engines": {}}), key) == {}
    assert parse_engines(reply({"status": "ok", "engines": {"0": "a"}}, b"another key"), key) is None
    assert parse_engines(reply({"status": "error"}), key) is None
    assert parse_engines([b"not a message"], key) is None
    # nobody listening: no answer, not an empty cluster
    assert registered_engines("tcp://127.0.0.1:9", CLUSTER_KEY, timeout=200) is None


def test_heartbeat_period_is_read_from_the_pings_and_the_reply_timeout_is_given():
    watch = ControllerRestartWatch("tcp://127.0.0.1:9", lambda before, now: None)
    for clock in (5.0, 6.0, 7.0, 9.0):
        watch.observe(clock)
    assert watch.period == 2.0
    watch.observe(1.0)  # a new controller: its period is not known yet
    assert watch.period is None
    command = engine_command(Path("/x/engine.json"), "u")
    assert any(argument.startswith("--IPEngine.timeout=") for argument in command)
    assert heartbeat_port(10100) == 10106


def test_a_heart_is_connected_when_the_process_holds_an_established_connection_to_the_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert not heart_connected(os.getpid(), port)
        with socket.create_connection(("127.0.0.1", port)):
            assert heart_connected(os.getpid(), port)
            assert not heart_connected(os.getpid(), port + 1)
            assert not heart_connected(os.getppid(), port)  # another process's sockets do not count
        assert not heart_connected(os.getpid(), port)
