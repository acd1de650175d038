"""The controller role: ``ipcontroller`` on fixed ports, all interfaces, signed with the key.

ipcontroller's defaults (loopback only, random ports, a fresh random key) suit a laptop; in a
cluster the engines and viewers must find it by a Service name and fixed ports, and must sign
with a key they know in advance. So the entrypoint pins:

* ``IPController.engine_ip`` / ``client_ip`` = 0.0.0.0: engine and client sockets listen on
  every interface (the monitor and the schedulers' internal sockets stay on loopback: they are
  not part of ``IPController.ip`` here, so nothing internal is exposed);
* ``IPController.engine_ports`` / ``client_ports``: the layout of connection_info, so the files
  the controller writes name the same ports that every other role computes;
* ``IPController.location`` = IPYTHON_CONTROLLER_HOST, the advertised name;
* ``Session.keyfile``: the cluster key, read from a 0600 file in the profile's security
  directory, so that the key never appears in a command line (``ps``) or in the log.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import connection_info
from .runtime_paths import private_dir, write_private_file
from .settings import Settings

KEY_FILE = "cluster.key"


def write_key_file(security_dir: Path, key: str) -> Path:
    private_dir(security_dir)
    return write_private_file(security_dir / KEY_FILE, key)


def _ports(ports: list[int]) -> str:
    return ",".join(str(port) for port in ports)


def controller_command(settings: Settings, key_file: Path) -> list[str]:
    first = settings.controller_port
    return [
        sys.executable,
        "-m",
        "ipyparallel.controller",
        "--IPController.engine_ip=0.0.0.0",
        "--IPController.client_ip=0.0.0.0",
        f"--IPController.location={settings.controller_host}",
        f"--IPController.engine_ports={_ports(connection_info.engine_ports(first))}",
        f"--IPController.client_ports={_ports(connection_info.client_ports(first))}",
        f"--Session.keyfile={key_file}",
    ]
