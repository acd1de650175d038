"""The engine supervisor is its ipengine's nanny (engine_nanny): no nanny process per engine, and
what ipyparallel's nanny does still works: ``Client.send_signal`` interrupts a running task, and
the hub hears at once when an ipengine dies.

A real controller and two engines (processes, the image's entrypoint), encrypted (CurveZMQ, the
default) or not; a real client.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import ipyparallel
import psutil
import pytest

from ipython_roles.connection_info import write_client_file
from ipython_roles.curve_keys import controller_keys
from ipython_roles.engine_nanny import (NANNY_FD_VARIABLE, PACKAGE_PATH_VARIABLE, _signal_number, nanny_request,
                                       parse_request)
from ipython_roles.engine_process import take_supervisor_socket

from .conftest import CLUSTER_KEY, cluster_variables
from .processes import RoleProcess, wait_until

ENGINES = 2


def _connected(client_file: Path) -> ipyparallel.Client | None:
    client = ipyparallel.Client(str(client_file), timeout=10)
    if len(client.ids) == ENGINES:
        return client
    client.close()
    return None


@pytest.fixture(params=["curve", "none"])
def cluster(request, tmp_path, ports, shim_installed):
    port = ports.controller_base()
    encryption = {"IPYTHON_CLUSTER_ENCRYPTION": request.param}
    processes = [RoleProcess("controller", tmp_path,
                             cluster_variables(port, IPYTHON_CONTAINER_TYPE="controller", **encryption))]
    processes += [RoleProcess(f"engine-{n}", tmp_path,
                              cluster_variables(port, IPYTHON_CONTAINER_TYPE="engine",
                                                IPYTHON_NOTEBOOK_DIR=str(tmp_path / f"engine-{n}"), **encryption))
                  for n in range(ENGINES)]
    serverkey = controller_keys(CLUSTER_KEY).public.decode("ascii") if request.param == "curve" else None
    client_file = write_client_file(tmp_path / "client", "127.0.0.1", port, CLUSTER_KEY, serverkey)
    client = None
    try:
        for process in processes:
            process.start()
        client = wait_until(lambda: _connected(client_file), 120, "two engines", 0.5, process=processes[0])
        yield client, processes
    finally:
        if client is not None:
            client.close()
        for process in processes:
            process.stop()


def _engine_processes(engine: RoleProcess) -> list[str]:
    """The command lines of an engine role's processes: the supervisor and what it started."""
    supervisor = psutil.Process(engine.pid)
    return [" ".join(process.cmdline()) for process in [supervisor, *supervisor.children(recursive=True)]]


def _ipengine(engine: RoleProcess) -> psutil.Process:
    [ipengine] = [child for child in psutil.Process(engine.pid).children()
                  if "ipython_roles.engine_process" in child.cmdline()]
    return ipengine


def test_each_engine_is_two_processes_and_send_signal_interrupts_a_running_task(cluster, tmp_path):
    client, processes = cluster
    for engine in processes[1:]:
        commands = _engine_processes(engine)
        assert len(commands) == 2, commands  # the supervisor and ipengine: no nanny process
        assert not any("nanny" in command for command in commands), commands
    target = client.ids[0]
    marker = tmp_path / "sleeping"

    @ipyparallel.interactive  # sent by value, not by this module's name
    def _mark_and_sleep(path: str, seconds: float) -> None:
        import pathlib
        import time

        pathlib.Path(path).touch()
        time.sleep(seconds)

    running = client[target].apply_async(_mark_and_sleep, str(marker), 120)
    # (a task that failed instead raises its error here)
    wait_until(lambda: marker.exists() or (running.ready() and running.get()) or None, 30,
               "the task to start on the engine", 0.1)
    started = time.monotonic()
    client.send_signal(signal.SIGINT, targets=[target], block=True)
    with pytest.raises(ipyparallel.error.RemoteError) as interrupted:
        running.get(timeout=20)
    assert interrupted.value.ename == "KeyboardInterrupt"
    assert time.monotonic() - started < 10
    # the engine runs on, and a signal by name, as ipyparallel allows, reaches it too
    assert client[target].apply_sync(sum, [6, 36]) == 42
    client.send_signal("SIGCONT", targets=[target], block=True)
    with pytest.raises(ipyparallel.error.RemoteError) as refused:
        client.send_signal("NOSUCHSIGNAL", targets=[target], block=True)
    assert refused.value.ename == "ValueError" and "NOSUCHSIGNAL" in refused.value.evalue
    # every other control request still reaches ipengine through the relay
    client[target].execute("leftover = 1", block=True)
    assert client[target].pull("leftover", block=True) == 1
    client.clear(targets=[target], block=True)
    with pytest.raises(ipyparallel.error.RemoteError) as cleared:
        client[target].pull("leftover", block=True)
    assert cleared.value.ename == "NameError"


def test_the_hub_hears_at_once_when_an_ipengine_dies(cluster):
    client, processes = cluster
    engine = processes[1]
    ipengine = _ipengine(engine)
    before = set(client.ids)
    ipengine.kill()
    started = time.monotonic()
    # the nanny's notice, not missed heartbeats (which take the hub about 10 s)
    wait_until(lambda: len(client.ids) < len(before) or None, 8, "the hub to drop the killed engine", 0.1)
    assert time.monotonic() - started < 5
    assert "ipengine exited with status -9" in wait_until(
        lambda: engine.log() if "ipengine exited with status -9" in engine.log() else None, 10, "the exit's log line")
    # the supervisor starts a new ipengine, which registers as a new engine
    wait_until(lambda: len(client.ids) == ENGINES or None, 60, "the engine to register again", 0.5)


def test_the_request_line_round_trips_and_bad_ones_are_refused():
    line = nanny_request(engine_id=3, identity=b"\x00uuid", control_url="tcp://c:1", registration_url="tcp://c:2",
                         curve_serverkey=b"S" * 40, curve_publickey=None, curve_secretkey=b"x" * 40)
    request = parse_request(line)
    assert request["engine_id"] == 3 and request["identity"] == b"\x00uuid"
    assert request["curve_serverkey"] == b"S" * 40 and request["curve_publickey"] is None
    for bad in (b"[]", b'{"engine_id": "3"}', b'{"engine_id": 3, "control_url": "x"}',
                b'{"engine_id": 3, "control_url": "x", "registration_url": "y", "identity": null}'):
        with pytest.raises(ValueError):
            parse_request(bad)
    assert _signal_number("SIGINT") == signal.SIGINT and _signal_number(15) == 15
    for bad in ("NOSUCH", "SIG_IGN", True, None, 1.5):
        with pytest.raises(ValueError):
            _signal_number(bad)


def test_ipengine_takes_the_socket_and_leaves_its_tasks_a_clean_environment():
    ours, theirs = socket.socketpair()
    theirs.set_inheritable(True)
    environ = {NANNY_FD_VARIABLE: str(theirs.fileno()), PACKAGE_PATH_VARIABLE: "/opt/roles",
               "PYTHONPATH": "/opt/roles:/workspace/.requirements", "HOME": "/home/ipython"}
    channel = take_supervisor_socket(environ)
    try:
        assert environ == {"PYTHONPATH": "/workspace/.requirements", "HOME": "/home/ipython"}
        assert channel is not None and not channel.get_inheritable()
        channel.sendall(b"hello\n")
        assert ours.recv(6) == b"hello\n"
    finally:
        ours.close()
        if channel is not None:
            channel.close()
    environ = {PACKAGE_PATH_VARIABLE: "/opt/roles", "PYTHONPATH": "/opt/roles"}
    assert take_supervisor_socket(environ) is None and environ == {}
    assert os.environ.get(NANNY_FD_VARIABLE) is None
