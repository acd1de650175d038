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
  directory, so that the key never appears in a command line (``ps``) or in the log;
* with IPYTHON_CLUSTER_ENCRYPTION=curve (the default): ``IPController.enable_curve`` and the key
  pair derived from the cluster key (curve_keys), in a 0600 config file passed with
  ``--config``. That file sets ``Session.key`` too: ipyparallel turns message signing off when
  CurveZMQ is on unless the key is configured, and CurveZMQ alone does not authenticate clients.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import connection_info
from .curve_keys import controller_keys
from .runtime_paths import private_dir, write_private_file
from .settings import Settings

KEY_FILE = "cluster.key"
CURVE_CONFIG_FILE = "ipython-roles-controller-curve.py"


def write_key_file(security_dir: Path, key: str) -> Path:
    private_dir(security_dir)
    return write_private_file(security_dir / KEY_FILE, key)


def write_curve_config(security_dir: Path, key: str) -> Path:
    """The CurveZMQ settings as a traitlets config file (the keys are bytes traits, which a JSON
    config cannot express)."""
    keys = controller_keys(key)
    text = (
        "# written by the image's entrypoint at every start; derived from IPYTHON_CLUSTER_KEY\n"
        "c.IPController.enable_curve = True\n"
        f"c.IPController.curve_publickey = {keys.public!r}\n"
        f"c.IPController.curve_secretkey = {keys.secret!r}\n"
        f"c.Session.key = {key.encode('utf-8')!r}\n"
    )
    private_dir(security_dir)
    return write_private_file(security_dir / CURVE_CONFIG_FILE, text)


def _ports(ports: list[int]) -> str:
    return ",".join(str(port) for port in ports)


def controller_command(settings: Settings, key_file: Path, curve_config: Path | None = None) -> list[str]:
    first = settings.controller_port
    command = [
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
    if curve_config is not None:
        command.append(f"--config={curve_config}")
    return command
