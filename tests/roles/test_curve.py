"""CurveZMQ between the roles (IPYTHON_CLUSTER_ENCRYPTION, default ``curve``): the controller's
key pair is derived from the cluster key, so nothing is copied, and whoever lacks the key cannot
even complete the handshake. (Recovery from a controller restart with CurveZMQ on is
test_controller_restart, which runs on the default settings.)"""

from __future__ import annotations

import json
import socket
import subprocess
import pytest

from ipython_roles import connection_info
from ipython_roles.curve_keys import controller_keys

from .conftest import CLUSTER_KEY, Cluster, cluster_variables
from .processes import PYTHON, RoleProcess, base_environment, wait_for_port

def mechanism(port: int, offered: str) -> str:
    """The security mechanism a ZeroMQ socket announces in its ZMTP 3 greeting when we offer
    ``offered``; "" when it hangs up instead (libzmq does on a mechanism mismatch)."""
    greeting = b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x01" + offered.encode().ljust(20, b"\x00") + b"\x00" * 32
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(greeting)
        greeting = b""
        while len(greeting) < 64:
            chunk = raw.recv(64 - len(greeting))
            if not chunk:
                break
            greeting += chunk
    return greeting[12:32].rstrip(b"\x00").decode("ascii")


def test_derived_key_pair_is_stable_and_depends_on_the_key():
    first, again, other = controller_keys(CLUSTER_KEY), controller_keys(CLUSTER_KEY), controller_keys(CLUSTER_KEY + "x")
    assert first == again and len(first.public) == len(first.secret) == 40
    assert other.public != first.public
    assert first.secret.decode() not in repr(first)


def test_controller_announces_curve_on_every_port(cluster: Cluster):
    ports = [*connection_info.engine_ports(cluster.controller_port), *connection_info.client_ports(cluster.controller_port)]
    assert {mechanism(port, "CURVE") for port in ports} == {"CURVE"}
    # a plain-TCP ZeroMQ peer is hung up on before any message
    assert {mechanism(port, "NULL") for port in ports} == {""}


CLIENT = """
import ipyparallel, json, os, sys, time
started = time.monotonic()
try:
    client = ipyparallel.Client(sys.argv[1], timeout=4)
    client.wait_for_engines(2, timeout=10)
    pids = client[:].apply_sync(os.getpid)
    print(json.dumps({"ok": True, "engines": len(pids), "seconds": time.monotonic() - started}))
except Exception as error:
    print(json.dumps({"ok": False, "error": type(error).__name__, "seconds": time.monotonic() - started}))
# exit now: a refused client's unsent connection request must not hold up ZeroMQ's exit (linger)
sys.stdout.flush()
os._exit(0)
"""


def test_only_a_client_with_the_cluster_key_gets_in(cluster: Cluster, tmp_path):
    right = controller_keys(CLUSTER_KEY).public.decode()
    wrong_key = "not-the-key-of-this-cluster-0123456789"
    attempts = {
        "right key": (CLUSTER_KEY, right),
        "wrong key (so a wrong server key)": (wrong_key, controller_keys(wrong_key).public.decode()),
        "right server key, wrong signing key": (wrong_key, right),
        "no CurveZMQ": (CLUSTER_KEY, None),
    }
    running = {}
    for name, (key, serverkey) in attempts.items():
        path = tmp_path / f"{len(running)}.json"
        info = connection_info.client_connection_info("127.0.0.1", cluster.controller_port, key, serverkey)
        path.write_text(json.dumps(info))
        home = tmp_path / f"home-{len(running)}"
        home.mkdir()
        running[name] = subprocess.Popen([PYTHON, "-c", CLIENT, str(path)], env=base_environment(home),
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    results = {name: json.loads(process.communicate(timeout=60)[0]) for name, process in running.items()}
    assert results["right key"]["ok"] and results["right key"]["engines"] == 2, results
    for name in attempts:
        if name != "right key":
            assert results[name] == {**results[name], "ok": False, "error": "TimeoutError"}, (name, results[name])
    print({name: round(result["seconds"], 2) for name, result in results.items()})


@pytest.mark.parametrize("encryption, mechanism_name", [("none", "NULL"), ("curve", "CURVE")])
def test_encryption_setting_of_the_controller(tmp_path, ports, encryption, mechanism_name):
    port = ports.controller_base()
    controller = RoleProcess(
        "controller", tmp_path, cluster_variables(port, IPYTHON_CONTAINER_TYPE="controller",
                                                  IPYTHON_CLUSTER_ENCRYPTION=encryption)
    ).start()
    try:
        wait_for_port(controller, port)
        assert mechanism(port, mechanism_name) == mechanism_name
        assert f"encryption {encryption}" in controller.log()
        config = (controller.home / ".local" / "share" / "jupyter" / "runtime" / "ipython-roles-controller.py").read_text()
        assert ("c.IPController.enable_curve = True" in config) == (encryption == "curve")
    finally:
        controller.stop()
