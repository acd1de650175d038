"""The controller's connection info, computed from the environment instead of copied.

ipyparallel's controller writes ``ipcontroller-engine.json`` and ``ipcontroller-client.json``
into its own profile; engines and clients normally need a copy. In a cluster of containers
there is no shared disk to copy through, so every role computes the same two documents from
the same variables (controller host and first port, cluster key) and writes its own copy:
the controller is started with exactly the ports and key these documents name.

Port layout for a first port P (ipyparallel 9.2 consumes ``IPController.engine_ports`` and
``client_ports`` in this order, see ``IPController.init_hub``):

==========  ==========================================================
P           registration (engines and clients)
P+1..P+6    engine side: control, mux, task, iopub, hb_ping, hb_pong
P+7, P+8    engine side: broadcast, one per leaf scheduler (depth 1)
P+9..P+14   client side: control, mux, task, iopub, notification, broadcast
P+15        reserved; the schedulers' internal sockets and the monitor
            bind random ports on 127.0.0.1 only
==========  ==========================================================

The documents have exactly the fields ipyparallel writes. One value differs on purpose: the
controller writes its bind address, ``"interface": "tcp://0.0.0.0"``, and relies on
``location`` to be resolved once when a client starts; the computed documents name the
advertised host, ``"interface": "tcp://<IPYTHON_CONTROLLER_HOST>"`` (as the 2015 seed did), so
ZeroMQ resolves the Service name again on every reconnect. With CurveZMQ on (the default, see
curve_keys) ``curve_serverkey`` is the controller's public key, derived from the cluster key; it
is ``null`` with IPYTHON_CLUSTER_ENCRYPTION=none.

Port of the client-side ``notification`` channel: the controller publishes engine
(un)registrations there; the engine supervisor listens to it (registration_watch).
"""

from __future__ import annotations

from pathlib import Path

from .runtime_paths import private_dir, write_private_json

ENGINE_FILE = "ipcontroller-engine.json"
CLIENT_FILE = "ipcontroller-client.json"

ENGINE_CHANNELS = ("registration", "control", "mux", "task", "iopub", "hb_ping", "hb_pong")
BROADCAST_LEAVES = 2  # 2 ** IPController.broadcast_scheduler_depth (default 1)
CLIENT_CHANNELS = ("control", "mux", "task", "iopub", "notification", "broadcast")
TASK_SCHEME = "leastload"  # TaskScheduler.scheme_name default
SIGNATURE_SCHEME = "hmac-sha256"  # Session.signature_scheme default
PACKER = "json"  # Session.packer / unpacker defaults


def engine_ports(first_port: int) -> list[int]:
    """Ports in the order ipcontroller consumes its engine pool (registration first)."""
    return list(range(first_port, first_port + len(ENGINE_CHANNELS) + BROADCAST_LEAVES))


def client_ports(first_port: int) -> list[int]:
    start = first_port + len(ENGINE_CHANNELS) + BROADCAST_LEAVES
    return list(range(start, start + len(CLIENT_CHANNELS)))


def registration_port(first_port: int) -> int:
    return engine_ports(first_port)[0]


def hb_ping_port(first_port: int) -> int:
    return engine_ports(first_port)[ENGINE_CHANNELS.index("hb_ping")]


def notification_port(first_port: int) -> int:
    return client_ports(first_port)[CLIENT_CHANNELS.index("notification")]


def _shared_fields(host: str, key: str, curve_serverkey: str | None) -> dict:
    return {
        "key": key,
        "curve_serverkey": curve_serverkey,
        "location": host,
        "pack": PACKER,
        "unpack": PACKER,
        "signature_scheme": SIGNATURE_SCHEME,
    }


def engine_connection_info(host: str, first_port: int, key: str, curve_serverkey: str | None = None) -> dict:
    ports = engine_ports(first_port)
    info: dict = {"ssh": "", "interface": f"tcp://{host}"}
    info.update(zip(ENGINE_CHANNELS, ports[: len(ENGINE_CHANNELS)], strict=True))
    info["broadcast"] = ports[len(ENGINE_CHANNELS) :]
    info.update(_shared_fields(host, key, curve_serverkey))
    return info


def client_connection_info(host: str, first_port: int, key: str, curve_serverkey: str | None = None) -> dict:
    ports = dict(zip(CLIENT_CHANNELS, client_ports(first_port), strict=True))
    info: dict = {
        "ssh": "",
        "interface": f"tcp://{host}",
        "registration": registration_port(first_port),
        "control": ports["control"],
        "mux": ports["mux"],
        "task": ports["task"],
        "task_scheme": TASK_SCHEME,
        "iopub": ports["iopub"],
        "notification": ports["notification"],
        "broadcast": ports["broadcast"],
    }
    info.update(_shared_fields(host, key, curve_serverkey))
    return info


def write_engine_file(
    security_dir: Path, host: str, first_port: int, key: str, curve_serverkey: str | None = None
) -> Path:
    private_dir(security_dir)
    info = engine_connection_info(host, first_port, key, curve_serverkey)
    return write_private_json(security_dir / ENGINE_FILE, info)


def write_client_file(
    security_dir: Path, host: str, first_port: int, key: str, curve_serverkey: str | None = None
) -> Path:
    private_dir(security_dir)
    info = client_connection_info(host, first_port, key, curve_serverkey)
    return write_private_json(security_dir / CLIENT_FILE, info)
