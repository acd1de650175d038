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
* ``IPController.use_threads``: the hub's schedulers and queues run as threads of one process,
  not as six forked processes. The controller container gets one CPU (the constructs' limit),
  so the extra processes bought no parallelism, only context switches and memory: in one
  process the controller idles at ~42 MiB instead of ~71 MiB (PSS) and pushes ~10% more tiny
  tasks per second on two cores (``pipenv run bench``);
* ``HeartMonitor.period`` = 1 s instead of 3 s: the hub admits a registering engine only at a
  heartbeat, so a new engine waited one to two periods to join, and an engine that stops
  answering is declared dead after 10 missed beats, now 10 s instead of 30 s, so the tasks it
  held fail (or are retried) that much sooner. The cost: one ping and one pong per engine per
  second;
* ``IPController.db_class``: task_records.TaskRecords, which never culls the record of a queued
  task while finished ones are left, so a burst of thousands of tasks does not flood the log
  with ERROR tracebacks, and sizes itself to the container's memory limit;
* a maximum message size on every ZeroMQ socket of the controller, IPYTHON_MAX_MESSAGE_MIB
  (default 64 MiB): the command runs ``python -m ipython_roles.message_limit``, which gives every
  ZeroMQ context of the process (and of the forked heart monitor) ``ZMQ_MAXMSGSIZE`` and then runs
  ipyparallel's controller. Without it, anybody who reaches the ports of a controller with
  IPYTHON_CLUSTER_ENCRYPTION=none could make it buffer (and log) a frame of any size before a
  signature is checked: one 200 MiB frame took it from 45 to 1045 MiB, so a container limited to
  1 GiB was OOM-killed. With the limit, libzmq reads the part's length from its header and drops
  that one connection instead. It does not make ``none`` safe on a network that is not trusted:
  the limit is per part, and libzmq buffers a multipart message whole before the hub can check its
  signature, so a peer that splits its data into parts under the limit, or opens many connections,
  is not stopped by it (one message of 20 parts of 7 MiB under an 8 MiB limit: +707 MiB). Only
  CurveZMQ (the default: no frame before the handshake) and the constructs' NetworkPolicy keep
  strangers out. As for tasks, ipyparallel sends each argument or result with a large buffer
  (bytes, a NumPy array) as a part of its own and pickles the rest of a task into one part. A task
  whose largest part is over the limit is lost on the way (the controller drops the sender's
  connection; the client waits for a result that never comes), so a cluster whose tasks send
  larger arguments or results needs a higher IPYTHON_MAX_MESSAGE_MIB, and a controller memory
  limit raised with it: a task whose argument and result are 60 MiB each takes the controller's
  peak from 45 to 238 MiB (the part in the queues, the hub's copy, the record), and the task
  records keep arguments and results up to a quarter of the memory limit (task_records). The
  default 64 MiB leaves a 1 GiB controller room for a few such tasks at once; a limit of N MiB
  wants about 16 N MiB of controller memory;
* a 0600 config file passed with ``--config`` for what a flag cannot say: the logger level
  (traitlets sets the application's logger to DEBUG and filters at the handler, so every
  debug call the hub makes per message built a log record that was then thrown away) and,
  with IPYTHON_CLUSTER_ENCRYPTION=curve (the default), ``IPController.enable_curve`` and the key
  pair derived from the cluster key (curve_keys, bytes values). That file sets ``Session.key``
  too: ipyparallel turns message signing off when CurveZMQ is on unless the key is configured,
  and CurveZMQ alone does not authenticate clients.

The controller process imports message_limit and task_records from this package: its environment
gets the package's folder on PYTHONPATH.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from . import connection_info
from .curve_keys import controller_keys
from .runtime_paths import private_dir, with_package_on_path, write_private_file
from .settings import Settings

KEY_FILE = "cluster.key"
CONFIG_FILE = "ipython-roles-controller.py"
#: A string, not an import: the entrypoint process never loads ipyparallel's controller.
TASK_RECORDS_CLASS = "ipython_roles.task_records.TaskRecords"
#: Run with ``-m``, a string too: importing it here would make ``-m`` warn about a module run twice.
LAUNCHER_MODULE = "ipython_roles.message_limit"
#: ipyparallel's default is 3000 (see the module docstring).
HEARTBEAT_PERIOD_MS = 1000
#: INFO, not traitlets' DEBUG, on the application's own logger (see the module docstring).
LOGGING_CONFIG = {"loggers": {"IPController": {"level": "INFO"}}}


def write_key_file(security_dir: Path, key: str) -> Path:
    private_dir(security_dir)
    return write_private_file(security_dir / KEY_FILE, key)


def write_controller_config(directory: Path, key: str, *, curve: bool) -> Path:
    """The settings no flag can express, as a traitlets config file: the logging dict and, with
    ``curve``, the CurveZMQ keys (bytes traits, which a JSON config cannot express either)."""
    lines = [
        "# written by the image's entrypoint at every start",
        f"c.IPController.logging_config = {LOGGING_CONFIG!r}",
    ]
    if curve:
        keys = controller_keys(key)
        lines += [
            "# CurveZMQ: the key pair derived from IPYTHON_CLUSTER_KEY",
            "c.IPController.enable_curve = True",
            f"c.IPController.curve_publickey = {keys.public!r}",
            f"c.IPController.curve_secretkey = {keys.secret!r}",
            f"c.Session.key = {key.encode('utf-8')!r}",
        ]
    private_dir(directory)
    return write_private_file(directory / CONFIG_FILE, "\n".join(lines) + "\n")


def controller_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with this package's folder first on PYTHONPATH (for LAUNCHER_MODULE and
    TASK_RECORDS_CLASS)."""
    return with_package_on_path(environ)


def _ports(ports: list[int]) -> str:
    return ",".join(str(port) for port in ports)


def controller_command(settings: Settings, key_file: Path, config_file: Path) -> list[str]:
    first = settings.controller_port
    return [
        sys.executable,
        "-m",
        LAUNCHER_MODULE,
        f"--max-message-bytes={settings.max_message_bytes}",
        "--IPController.engine_ip=0.0.0.0",
        "--IPController.client_ip=0.0.0.0",
        f"--IPController.location={settings.controller_host}",
        f"--IPController.engine_ports={_ports(connection_info.engine_ports(first))}",
        f"--IPController.client_ports={_ports(connection_info.client_ports(first))}",
        f"--Session.keyfile={key_file}",
        "--IPController.use_threads=True",
        f"--HeartMonitor.period={HEARTBEAT_PERIOD_MS}",
        f"--IPController.db_class={TASK_RECORDS_CLASS}",
        f"--config={config_file}",
    ]
