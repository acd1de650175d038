"""The controller's maximum message size (IPYTHON_MAX_MESSAGE_MIB, issue 14): every ZeroMQ socket
of the controller drops a peer that announces a message part over the limit, before reading it.

Without it, a peer that never authenticated (IPYTHON_CLUSTER_ENCRYPTION=none) made the
controller buffer, then log, a frame of any size: one 200 MiB frame took it from 45 to 1045 MiB.
The tests lower the limit to 8 MiB to keep the frames small; the default is checked on the
command the entrypoint builds."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import zmq
from zmq.utils.monitor import recv_monitor_message

from ipython_roles import connection_info
from ipython_roles.controller import controller_command, controller_environment, write_controller_config, write_key_file
from ipython_roles.settings import DEFAULT_MAX_MESSAGE_MIB, load_settings

from .conftest import CLUSTER_KEY, cluster_variables, wait_for_log
from .processes import PYTHON, RoleProcess, base_environment, wait_for_port

MIB = 2**20
LIMIT_MIB = 8
LIMIT = LIMIT_MIB * MIB
#: the frame every peer sends: twice the limit
OVERSIZED = 2 * LIMIT
#: what the controller's processes together may grow by (peak RSS) while 15 peers send OVERSIZED
GROWTH_ALLOWED = 4 * MIB

# The socket type the controller binds on each port (ipyparallel 9.2, see connection_info) and the
# type a peer must have to pass ZeroMQ's handshake with it.
ENGINE_SIDE = ("ROUTER", "ROUTER", "ROUTER", "ROUTER", "SUB", "PUB", "ROUTER", "ROUTER", "ROUTER")
CLIENT_SIDE = ("ROUTER", "ROUTER", "ROUTER", "PUB", "PUB", "ROUTER")
PEER_OF = {"ROUTER": zmq.DEALER, "PUB": zmq.XSUB, "SUB": zmq.XPUB}


def listening_ports(first: int) -> dict[int, str]:
    """Port -> the socket type the controller binds there (P+15 is reserved, nothing listens)."""
    ports = [*connection_info.engine_ports(first), *connection_info.client_ports(first)]
    return dict(zip(ports, ENGINE_SIDE + CLIENT_SIDE, strict=True))


def controller_settings(port: int, encryption: str, **extra: str):
    return load_settings(
        cluster_variables(port, IPYTHON_CONTAINER_TYPE="controller", IPYTHON_CLUSTER_ENCRYPTION=encryption, **extra)
    )


# --- the command and the launcher ------------------------------------------------------------


def test_the_controller_command_carries_the_limit_default_64_mib():
    assert DEFAULT_MAX_MESSAGE_MIB == 64
    default = controller_command(controller_settings(10100, "curve"), Path("/k"), Path("/c"))
    assert default[1:4] == ["-m", "ipython_roles.message_limit", f"--max-message-bytes={64 * MIB}"]
    lowered = controller_command(controller_settings(10100, "none", IPYTHON_MAX_MESSAGE_MIB="8"), Path("/k"), Path("/c"))
    assert lowered[3] == f"--max-message-bytes={LIMIT}"


CONTEXTS = """
import json, multiprocessing, sys, zmq, zmq.asyncio
early = zmq.Context.instance()  # made before the limit, as a library might
from ipython_roles.message_limit import limit_new_contexts
limit_new_contexts(int(sys.argv[1]))

def maxmsgsize(context, kind=zmq.ROUTER):
    with context.socket(kind) as sock:
        return sock.getsockopt(zmq.MAXMSGSIZE)

def in_child(pipe):
    pipe.send([maxmsgsize(zmq.Context()), maxmsgsize(zmq.Context.instance(), zmq.PUB)])

parent, child = multiprocessing.get_context("fork").Pipe()
process = multiprocessing.get_context("fork").Process(target=in_child, args=(child,))
process.start()
forked = parent.recv()
process.join()
print(json.dumps({
    "instance made before": maxmsgsize(early),
    "instance": maxmsgsize(zmq.Context.instance(), zmq.SUB),
    "new context": maxmsgsize(zmq.Context(), zmq.DEALER),
    "asyncio context": maxmsgsize(zmq.asyncio.Context(), zmq.XPUB),
    "new context in a forked process": forked[0],
    "instance in a forked process": forked[1],
}))
"""


def test_every_context_gives_its_sockets_the_limit(tmp_path):
    """The launcher's hook, on each kind of context ipyparallel uses (run apart: it changes pyzmq
    for the whole process)."""
    result = subprocess.run(
        [PYTHON, "-c", CONTEXTS, str(LIMIT)],
        env=controller_environment(base_environment(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found == dict.fromkeys(found, LIMIT)


AUDIT = """
import gc, json, os, signal, sys, threading, time, zmq
from ipython_roles import message_limit

expected = {int(port) for port in sys.argv[1].split(",")}

def sockets():
    return [item for item in gc.get_objects() if isinstance(item, zmq.Socket) and not item.closed]

def endpoint(sock):
    try:
        return sock.getsockopt(zmq.LAST_ENDPOINT).decode()
    except zmq.ZMQError:
        return ""

def audit():
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        bound = {int(endpoint(sock).rsplit(":", 1)[1]) for sock in sockets() if endpoint(sock).startswith("tcp://0.0.0.0:")}
        if bound >= expected:
            break
        time.sleep(0.2)
    time.sleep(1)  # the last threads' sockets
    found = [[sock.type, endpoint(sock), sock.getsockopt(zmq.MAXMSGSIZE)] for sock in sockets()]
    print("AUDIT " + json.dumps(found), flush=True)
    os.kill(os.getpid(), signal.SIGTERM)  # the controller's own shutdown, heart monitor included

threading.Thread(target=audit, daemon=True).start()
message_limit.main(sys.argv[2:])
"""


@pytest.mark.parametrize("encryption", ["none", "curve"])
def test_every_socket_of_the_running_controller_has_the_limit(tmp_path, ports, encryption):
    """The real controller command, run with a thread that lists every ZeroMQ socket of the
    process once the hub, the queues and the schedulers have bound their ports (the heart
    monitor's two ports are in its forked process: the next test reaches them)."""
    first = ports.controller_base()
    settings = controller_settings(first, encryption, IPYTHON_MAX_MESSAGE_MIB=str(LIMIT_MIB))
    home = tmp_path / "home"
    key_file = write_key_file(home / "security", CLUSTER_KEY)
    config_file = write_controller_config(home / "runtime", CLUSTER_KEY, curve=settings.curve)
    command = controller_command(settings, key_file, config_file)
    assert command[1:3] == ["-m", "ipython_roles.message_limit"]
    heart = {connection_info.hb_ping_port(first), connection_info.hb_ping_port(first) + 1}
    expected = sorted(set(listening_ports(first)) - heart)
    process = subprocess.Popen(
        [command[0], "-c", AUDIT, ",".join(map(str, expected)), *command[3:]],
        env=controller_environment(base_environment(home)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=tmp_path,
    )
    try:
        stdout, stderr = process.communicate(timeout=90)
    finally:
        _kill_group(process.pid)
    lines = [line for line in stdout.splitlines() if line.startswith("AUDIT ")]
    assert lines, stderr[-3000:]
    found = json.loads(lines[0][len("AUDIT "):])
    bound = {int(address.rsplit(":", 1)[1]) for _, address, _ in found if address.startswith("tcp://0.0.0.0:")}
    assert bound >= set(expected), stderr[-3000:]
    assert len(found) > 20
    assert [entry for entry in found if entry[2] != LIMIT] == []
    assert "message part over 8 MiB" in stderr


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


# --- an unauthenticated peer against a running controller and engine -------------------------


@pytest.fixture(scope="module")
def plain_cluster(tmp_path_factory, ports, shim_installed):
    """A controller with IPYTHON_CLUSTER_ENCRYPTION=none and an 8 MiB limit, and one engine."""
    root = tmp_path_factory.mktemp("limits")
    first = ports.controller_base()
    variables = cluster_variables(first, IPYTHON_CLUSTER_ENCRYPTION="none", IPYTHON_MAX_MESSAGE_MIB=str(LIMIT_MIB))
    controller = RoleProcess("controller", root, {**variables, "IPYTHON_CONTAINER_TYPE": "controller"})
    engine = RoleProcess(
        "engine",
        root,
        {**variables, "IPYTHON_CONTAINER_TYPE": "engine", "IPYTHON_NOTEBOOK_DIR": str(root / "engine" / "work")},
    )
    try:
        controller.start()
        wait_for_port(controller, first)
        engine.start()
        wait_for_log(controller, "engine::Engine Connected", 60)
        yield controller, engine, first
    finally:
        engine.stop()
        controller.stop()


def _group(pgid: int) -> list[psutil.Process]:
    group = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid:
                group.append(process)
        except (ProcessLookupError, psutil.Error):
            pass
    return group


def peak_rss(pgid: int) -> dict[int, int]:
    """VmHWM (the peak resident set size) of each process of the group, in bytes."""
    peaks = {}
    for process in _group(pgid):
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        peaks[process.pid] = int(fields["VmHWM"].split()[0]) * 1024
    return peaks


def _disconnected(monitor: zmq.Socket, deadline: float) -> bool:
    """Whether ``monitor`` reports its socket disconnected before ``deadline`` (monotonic)."""
    while (left := deadline - time.monotonic()) > 0:
        if monitor.poll(left * 1000) and recv_monitor_message(monitor)["event"] == zmq.EVENT_DISCONNECTED:
            return True
    return False


def test_an_oversized_frame_on_every_port_drops_only_that_peer(plain_cluster, tmp_path):
    controller, engine, first = plain_cluster
    targets = listening_ports(first)
    with socket.socket() as probe:  # P+15 is reserved: nothing to send to
        assert probe.connect_ex(("127.0.0.1", first + 15)) != 0
    before = peak_rss(controller.pid)
    assert len(before) == 2, "the controller and its heart monitor"
    frame = b"\xff" * OVERSIZED
    context = zmq.Context()
    peers, monitors = {}, {}
    try:
        for port, bound_type in targets.items():
            peer = context.socket(PEER_OF[bound_type])
            peer.linger = 0
            monitors[port] = peer.get_monitor_socket(zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED)
            peer.connect(f"tcp://127.0.0.1:{port}")
            peers[port] = peer
        for port, peer in peers.items():
            if peer.type == zmq.XPUB:  # a publisher sends only once the controller subscribed
                assert peer.poll(10_000), f"no subscription from the controller's SUB on {port}"
                peer.recv()
            peer.send(frame, copy=False)
        deadline = time.monotonic() + 15
        dropped = {port: _disconnected(monitors[port], deadline) for port in peers}
    finally:
        for sock in [*monitors.values(), *peers.values()]:
            sock.close(linger=0)
        context.term()
    time.sleep(1)
    after = peak_rss(controller.pid)
    growth = {pid: after[pid] - before[pid] for pid in before}
    print(f"peak RSS growth per process (MiB): { {pid: round(value / MIB, 1) for pid, value in growth.items()} }")
    assert [port for port, gone in dropped.items() if not gone] == [], "peers the controller did not drop"
    assert controller.alive() and engine.alive()
    assert after.keys() == before.keys()
    assert sum(growth.values()) < GROWTH_ALLOWED, growth
    assert run_client(first, tmp_path, under=MIB) == {"under": True, "after": 42}


CLIENT = """
import ipyparallel, json, os, sys
under, over = int(sys.argv[2]), int(sys.argv[3])
client = ipyparallel.Client(sys.argv[1], timeout=20)
client.wait_for_engines(1, timeout=30)
view = client.load_balanced_view()
result = {}
payload = os.urandom(under)
echoed = view.apply_async(lambda data: data, payload).get(timeout=60)  # an argument and a result of `under` bytes
result["under"] = echoed == payload
if over:
    try:
        view.apply_async(len, b"o" * over).get(timeout=5)
        result["over"] = "returned"
    except ipyparallel.error.TimeoutError:
        result["over"] = "lost"
result["after"] = view.apply_sync(lambda: 6 * 7)
print(json.dumps(result))
sys.stdout.flush()
os._exit(0)
"""


def test_a_part_just_under_the_limit_goes_through_and_one_over_it_is_lost(plain_cluster, tmp_path):
    """Limit minus 1 MiB as a task's argument and as its result; limit plus 1 MiB never reaches
    the engine (docs/security.md's advice: raise IPYTHON_MAX_MESSAGE_MIB), and the client goes on."""
    controller, engine, first = plain_cluster
    assert run_client(first, tmp_path, under=LIMIT - MIB, over=LIMIT + MIB) == {"under": True, "over": "lost", "after": 42}
    assert controller.alive() and engine.alive()


def run_client(first: int, tmp_path: Path, under: int, over: int = 0) -> dict:
    """CLIENT in a process of its own, with the plain cluster's connection file."""
    connection = tmp_path / "client.json"
    connection.write_text(json.dumps(connection_info.client_connection_info("127.0.0.1", first, CLUSTER_KEY)))
    home = tmp_path / "client-home"
    home.mkdir()
    client = subprocess.Popen(
        [PYTHON, "-c", CLIENT, str(connection), str(under), str(over)],
        env=base_environment(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = client.communicate(timeout=120)
    finally:
        client.kill()
        client.wait()
    assert client.returncode == 0, stderr[-3000:]
    return json.loads(stdout)


def test_the_controller_raises_its_open_files_soft_limit_to_the_hard_limit():
    """The hub holds ~7 descriptors per engine and client; a soft limit of 256 (as a container
    may be given) is raised to the hard limit before ipyparallel starts."""
    import resource

    code = (
        "import resource, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from ipython_roles.message_limit import raise_open_files_limit\n"
        "print(*raise_open_files_limit(), resource.getrlimit(resource.RLIMIT_NOFILE)[1])\n"
    )
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    image = Path(__file__).resolve().parents[2] / "image"
    run = subprocess.run(["sh", "-c", f'ulimit -Sn 256 && exec "$0" -c "$1" "$2"', sys.executable, code, str(image)],
                         capture_output=True, text=True, timeout=60)
    before, after, hard_seen = (int(x) for x in run.stdout.split())
    assert (before, hard_seen) == (256, hard)
    assert after == (hard if hard != resource.RLIM_INFINITY else 1048576)
