"""The engine role: a small supervisor that keeps one ipengine registered with the controller.

ipengine alone gives up after 5 s (``IPEngine.timeout``) when no controller answers, it never
notices a restarted controller (see controller_watch), and it never registers again once the
controller dropped it (see registration_watch). Pods start in any order and controllers get
rescheduled, so the entrypoint does not exec ipengine but supervises it:

1. wait until the controller's registration port accepts TCP connections (DNS name not yet
   resolvable and connection refused both count as "not yet"), logging once;
2. start ipengine with the connection file computed from the environment and a uuid of the
   supervisor's choosing (``--Session.session``), so that notifications about it can be told,
   ``REGISTRATION_REPLY_SECONDS`` to wait for the hub's registration reply, and its group
   (IPYTHON_ENGINE_GROUP) set as ``engine_group`` in its namespace (``IPEngine.startup_command``).
   The supervisor is also that ipengine's nanny, in a thread (engine_nanny): no nanny process;
3. if ipengine exits, start it again (after about 1, 2, 4, 8 s, each stretched by a random
   0.5-1.5; at once after a controller restart);
4. if the controller's heartbeat clock goes back (a new controller), or the controller announces
   that it dropped this ipengine, stop ipengine (SIGTERM, SIGKILL after 10 s) and start a new
   one, which registers anew. Engines are back within about 15 s of a new controller's start;
5. if ipengine's heart has been connected to the hub for ``STALLED_REGISTRATION_SECONDS`` and no
   registration was announced, ask the hub (registration_watch.registered_engines): an ipengine
   it does not list lost its registration and is restarted the same way, after a random 0-10 s;
   one it lists was announced while the watch was not listening.

Scale (``python -m bench.scale``: the controller and up to 128 engines as processes on two
cores, all started at once, so that each gets a sliver of CPU). What broke first were the
registration deadlines, not the controller's heartbeats (64 engines beating every second cost it
8 ms of CPU per second):

* ipengine's own ``IPEngine.timeout``, 5 s from its registration request to the reply: at 96
  engines 38 of them timed out, exited 255 and were started again, adding another import storm
  to the one that had starved them. Now ``REGISTRATION_REPLY_SECONDS``, 30 s: 96 engines register
  without one timeout. A controller that never answers (a wrong key under CurveZMQ) is reported
  25 s later than before, as the same exit 255;
* the hub's ``registration_timeout``, 30 s from its reply to the engine's first heartbeat (the
  heart starts last, after the nanny process and the kernel): at 128 engines it dropped 87
  registrations, and 20 ipengines that had their reply ran on outside the cluster for good,
  healthy by every check; 108 of 128 were registered after 10 minutes. Step 5 restarts them: all
  128 registered, in 131 to 188 s on that overloaded machine (load average over 120).

Retries are spread (the random stretch of step 3, the 0-10 s of step 5) because engines that
failed together would otherwise come back together. The first start is not: engines waiting for
a controller all start ipengine within ``WAIT_POLL_SECONDS`` of it answering, which costs nothing
when each has its own node, and spreading it would make every cluster slower to be ready.

SIGTERM and SIGINT are forwarded to ipengine as SIGTERM (ipengine ignores SIGINT), then the
supervisor exits 0.

Health: the supervisor keeps a private state file in the Jupyter runtime directory and rewrites
it at least every ``TICK_SECONDS`` (phase, ipengine pid and uuid, registration, failures in a
row). ``entrypoint.py healthcheck`` is a separate process (Kubernetes' exec probe, Docker's
HEALTHCHECK) and judges from that file alone; see healthcheck for what counts as wedged.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from . import connection_info
from .controller_watch import ControllerRestartWatch
from .engine_nanny import ENGINE_MODULE, NANNY_FD_VARIABLE, PACKAGE_PATH_VARIABLE, NannyRelay
from .logs import command_line, log
from .memory_cgroup import OomKillWatch
from .registration_watch import REGISTERED, UNREGISTERED, RegistrationWatch, registered_engines
from .runtime_paths import PACKAGE_PARENT, with_package_on_path, write_private_json

STATE_FILE = "ipython-roles-engine.json"
#: After ipengine's exit, how long the supervisor waits for its nanny's notice to the hub.
NANNY_JOIN_SECONDS = 1
STOP_GRACE_SECONDS = 10
BACKOFF_SECONDS = (1, 2, 4, 8)
#: Each backoff is stretched by a random factor in this range, so that engines that failed
#: together (a registration storm that starved them) do not all come back together.
BACKOFF_JITTER = (0.5, 1.5)
STABLE_RUN_SECONDS = 30
CONNECT_TIMEOUT_SECONDS = 2
#: How often a waiting engine tries the controller's port: a cheap TCP connect, and every
#: interval is start-up latency added to a cluster whose pods start together.
WAIT_POLL_SECONDS = 0.25
#: The state file is rewritten at least this often; healthcheck calls it stale after a few misses.
TICK_SECONDS = 5
#: ``IPEngine.timeout``: ipengine's wait for the hub's registration reply (ipyparallel: 5 s, which
#: 96 engines starting together on two cores overran; see the module docstring).
REGISTRATION_REPLY_SECONDS = 30
#: An ipengine whose heart has been connected to the hub this long (or 5 heartbeat periods, if
#: longer) and that was not announced as registered is checked with the hub (step 5).
STALLED_REGISTRATION_SECONDS = 30
STALLED_REGISTRATION_PERIODS = 5
#: How often, until it is registered, ipengine's heart is looked at (a local /proc read); the
#: first look is ``REGISTRATION_FIRST_CHECK_SECONDS`` after ipengine's start (most have registered).
REGISTRATION_CHECK_SECONDS = 5
REGISTRATION_FIRST_CHECK_SECONDS = 10
TCP_ESTABLISHED = "01"  # the state column of /proc/net/tcp
#: A new ipengine for a dropped registration starts after a random 0 to this many seconds: the
#: hub drops registrations in batches, and the batch should not come back as one.
STALLED_RESTART_SPREAD_SECONDS = 10

WAITING = "waiting"  # for the controller's registration port
RUNNING = "running"  # an ipengine process is up
RESTARTING = "restarting"  # between two ipengine processes (backoff or a requested restart)


#: The name an engine's group (IPYTHON_ENGINE_GROUP) has in its namespace.
GROUP_NAME = "engine_group"


def engine_command(engine_file: Path, engine_uuid: str | None = None, group: str | None = None) -> list[str]:
    """ipengine's command line; ``group`` (a DNS label, settings validated it) is set as
    ``engine_group`` in the engine's namespace before it registers (``IPEngine.startup_command``),
    so a notebook finds each engine's group with ``rc[:].pull("engine_group", block=True)``."""
    command = [sys.executable, "-m", ENGINE_MODULE, f"--IPEngine.url_file={engine_file}",
               f"--IPEngine.timeout={REGISTRATION_REPLY_SECONDS}"]
    if engine_uuid is not None:
        command.append(f"--Session.session={engine_uuid}")
    if group is not None:
        command.append(f"--IPEngine.startup_command={GROUP_NAME} = {group!r}")
    return command


def heartbeat_port(first_port: int) -> int:
    """The hub's ``hb_pong`` port, which an ipengine's heart connects to once registration is
    complete on its side (ipengine starts its heart last)."""
    return connection_info.engine_ports(first_port)[connection_info.ENGINE_CHANNELS.index("hb_pong")]


def heart_connected(pid: int, port: int) -> bool:
    """Whether process ``pid`` has an established TCP connection to ``port`` (any host), read from
    /proc: its socket inodes, then the connections of its network namespace to that port. About
    1 ms where psutil takes 11 (it parses every connection), which matters when a hundred
    supervisors ask during a registration storm."""
    try:
        inodes = set()
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:["):-1])
        remote = f":{port:04X} "  # rem_address is ADDRESS:PORT in hex, then the state
        for table in ("tcp", "tcp6"):
            with open(f"/proc/{pid}/net/{table}") as connections:
                for line in connections:
                    if remote in line:
                        fields = line.split()  # sl local_address rem_address st ... uid timeout inode
                        if fields[2].endswith(remote.strip()) and fields[3] == TCP_ESTABLISHED and fields[9] in inodes:
                            return True
    except (OSError, IndexError):
        return False
    return False


def controller_reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_SECONDS):
            return True
    except OSError:
        return False


class EngineSupervisor:
    def __init__(
        self,
        engine_file: Path,
        *,
        controller_host: str,
        registration_port: int,
        ping_url: str,
        notification_url: str,
        cluster_key: str,
        state_file: Path,
        cwd: Path,
        environ: Mapping[str, str],
        socket_options: Mapping[int, bytes] | None = None,
        group: str | None = None,
    ):
        self.engine_file = engine_file
        self.group = group
        self.controller_host = controller_host
        self.registration_port = registration_port
        self.ping_url = ping_url
        self.notification_url = notification_url
        self.cluster_key = cluster_key
        self.state_file = state_file
        self.cwd = cwd
        self.environ = dict(environ)
        self.socket_options = dict(socket_options or {})
        self._child: subprocess.Popen | None = None
        self._stopping = False
        self._restart_requested = False
        self._kill_deadline: float | None = None
        self._failures = 0  # ipengine exits in a row without a stable run or a registration
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._state: dict = {"phase": WAITING, "engine_pid": None, "engine_uuid": None, "engine_id": None,
                             "registered": False, "unregistered_at": None, "failures": 0}
        self._written_at = 0.0
        self._restart_watch: ControllerRestartWatch | None = None
        self._heart_since: float | None = None  # when this ipengine's heart was first seen connected
        self._next_registration_check = 0.0
        self._restart_delay = 0.0  # before the next ipengine, after a restart of ours
        self._nanny: NannyRelay | None = None  # the nanny of the current ipengine
        self._oom_kills = OomKillWatch()  # the container's OOM-kill count, for the exit line

    # -- the state file the healthcheck reads --
    def _update(self, **changes) -> None:
        with self._lock:
            self._state.update(changes)
            self._written_at = time.monotonic()
            state = {**self._state, "supervisor_pid": os.getpid(), "updated": self._written_at}
            write_private_json(self.state_file, state)

    def _tick(self) -> None:
        if time.monotonic() - self._written_at >= TICK_SECONDS:
            self._update()

    def _sleep(self, seconds: float) -> None:
        """Wait up to ``seconds`` (less if woken), keeping the state file fresh."""
        deadline = time.monotonic() + seconds
        while not self._stopping and (remaining := deadline - time.monotonic()) > 0:
            if self._wake.wait(min(remaining, 1.0)):
                break
            self._tick()
        self._wake.clear()

    # -- signals and requests (called from the signal handler or the watch threads) --
    def _terminate_child(self) -> None:
        child = self._child
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)
            self._kill_deadline = time.monotonic() + STOP_GRACE_SECONDS

    def _on_signal(self, signum: int, _frame) -> None:
        self._stopping = True
        self._terminate_child()
        self._wake.set()

    def _request_restart(self) -> None:
        self._restart_requested = True
        if self._nanny is not None:
            self._nanny.quiet()  # the controller dropped it or restarted: nothing to tell it
        self._terminate_child()
        self._wake.set()

    def _on_controller_restart(self, previous: float, clock: float) -> None:
        log(
            f"controller at {self.controller_host} restarted (heartbeat clock went back from "
            f"{previous:.0f} s to {clock:.0f} s); restarting ipengine to register with it"
        )
        self._request_restart()

    def _on_registration_event(self, msg_type: str, engine_uuid: str, engine_id: int) -> None:
        if engine_uuid != self._state["engine_uuid"]:
            return
        if msg_type == REGISTERED:
            log(f"ipengine {engine_uuid} registered as engine {engine_id}")
            self._failures = 0
            self._update(registered=True, engine_id=engine_id, unregistered_at=None, failures=0)
        elif msg_type == UNREGISTERED:
            if self._stopping or self._restart_requested or self._child is None or self._child.poll() is not None:
                return  # a stop or restart of ours, or ipengine leaving on its own
            log(
                f"the controller unregistered engine {engine_id} ({engine_uuid}) while its ipengine "
                f"still runs (missed heartbeats?); restarting ipengine to register again"
            )
            self._update(registered=False, unregistered_at=time.monotonic())
            self._request_restart()

    # -- a registration that was never announced (step 5 of the module docstring) --
    def _stalled_after(self) -> float:
        period = self._restart_watch.period if self._restart_watch is not None else None
        return max(STALLED_REGISTRATION_SECONDS, STALLED_REGISTRATION_PERIODS * (period or 0))

    def _check_registration(self) -> None:
        if self._state["registered"] or self._restart_requested or self._stopping or self._child is None:
            return
        now = time.monotonic()
        if now < self._next_registration_check:
            return
        self._next_registration_check = now + REGISTRATION_CHECK_SECONDS
        if not heart_connected(self._child.pid, heartbeat_port(self.registration_port)):
            self._heart_since = None
            return
        if self._heart_since is None:
            self._heart_since = now
        if now - self._heart_since < self._stalled_after():
            return
        engines = registered_engines(f"tcp://{self.controller_host}:{self.registration_port}", self.cluster_key,
                                     self.socket_options)
        if engines is None or self._state["registered"]:
            return  # no answer (a controller down or swamped: the watches handle a restart), or announced meanwhile
        engine_uuid = self._state["engine_uuid"]
        if engine_uuid in engines:
            log(f"the controller lists ipengine {engine_uuid} as engine {engines[engine_uuid]}; "
                f"its registration was not heard on the notification channel")
            self._on_registration_event(REGISTERED, engine_uuid, engines[engine_uuid])
            return
        log(
            f"ipengine {engine_uuid} has had its heart connected for {now - self._heart_since:.0f} s, but the "
            f"controller has not registered it (it drops a registration whose first heartbeat it does not see in "
            f"time: 'purging stalled registration' in its log); restarting ipengine to register again"
        )
        self._restart_delay = random.uniform(0, STALLED_RESTART_SPREAD_SECONDS)
        self._request_restart()

    def _failure_hint(self, status: int) -> str:
        if status == -signal.SIGKILL:  # the OOM killer's signal: did the container's count go up?
            news = self._oom_kills.news()
            return f": {news}" if news else ""
        if status != 255:
            return ""
        if self.socket_options and self._restart_watch is not None and self._restart_watch.last_clock is not None:
            # CurveZMQ: the controller's heartbeats arrive, so the server key derived from our key is right
            return (f" (registration failed: no reply within {REGISTRATION_REPLY_SECONDS} s although the "
                    f"controller's heartbeats arrive: is it overloaded?)")
        return (f" (registration failed: no reply within {REGISTRATION_REPLY_SECONDS} s: does "
                f"IPYTHON_CLUSTER_KEY match the controller's? is the controller overloaded?)")

    # -- the loop --
    def _wait_for_controller(self) -> bool:
        announced = False
        self._update(phase=WAITING, engine_pid=None)
        while not self._stopping:
            if controller_reachable(self.controller_host, self.registration_port):
                return True
            if not announced:
                log(f"waiting for the controller at {self.controller_host}:{self.registration_port}")
                announced = True
            self._sleep(WAIT_POLL_SECONDS)
        return False

    def _start_ipengine(self, command: list[str]) -> tuple[subprocess.Popen, NannyRelay]:
        """ipengine, and its nanny in a thread of ours (engine_nanny), joined by a socket pair
        whose ipengine end it inherits."""
        ours, theirs = socket.socketpair()
        # ipengine runs ENGINE_MODULE from this package; engine_process takes the folder off
        # PYTHONPATH again before any task runs
        environ = {**with_package_on_path(self.environ),
                   PACKAGE_PATH_VARIABLE: str(PACKAGE_PARENT), NANNY_FD_VARIABLE: str(theirs.fileno())}
        try:
            child = subprocess.Popen(command, cwd=self.cwd, env=environ, pass_fds=(theirs.fileno(),))
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        nanny = NannyRelay(ours, engine_pid=child.pid, cluster_key=self.cluster_key)
        nanny.start()
        return child, nanny

    def _run_child(self) -> int:
        engine_uuid = str(uuid.uuid4())
        command = engine_command(self.engine_file, engine_uuid, self.group)
        log(f"starting ipengine: {command_line(command)}")
        self._kill_deadline = None
        self._restart_requested = False  # whatever restarted before now, this one registers anew
        self._heart_since = None
        self._next_registration_check = time.monotonic() + REGISTRATION_FIRST_CHECK_SECONDS
        self._child, self._nanny = self._start_ipengine(command)
        self._update(phase=RUNNING, engine_pid=self._child.pid, engine_uuid=engine_uuid, engine_id=None,
                     registered=False)
        if self._stopping:  # a signal arrived while starting
            self._terminate_child()
        while True:
            try:
                status = self._child.wait(timeout=0.5)
                self._nanny.join(NANNY_JOIN_SECONDS)  # it tells the hub that this ipengine ended
                return status
            except subprocess.TimeoutExpired:
                self._tick()
                self._check_registration()
                if self._kill_deadline is not None and time.monotonic() > self._kill_deadline:
                    log(f"ipengine (pid {self._child.pid}) ignored SIGTERM for {STOP_GRACE_SECONDS} s; killing it")
                    self._child.kill()
                    self._kill_deadline = None

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self._restart_watch = ControllerRestartWatch(self.ping_url, self._on_controller_restart, self.socket_options)
        watches = [
            self._restart_watch,
            RegistrationWatch(self.notification_url, self.cluster_key, self._on_registration_event,
                              self.socket_options),
        ]
        for watch in watches:
            watch.start()
        try:
            while self._wait_for_controller():
                started = time.monotonic()
                status = self._run_child()
                if self._stopping:
                    break
                if self._restart_requested:
                    self._restart_requested = False
                    self._failures = 0
                    self._update(phase=RESTARTING, engine_pid=None, failures=0)
                    delay, self._restart_delay = self._restart_delay, 0.0
                    if delay:
                        log(f"starting a new ipengine in {delay:.1f} s")
                        self._wake.clear()  # set by the restart request itself
                        self._sleep(delay)
                    continue
                stable = time.monotonic() - started > STABLE_RUN_SECONDS
                self._failures = 0 if stable else self._failures + 1
                failures = self._failures
                delay = BACKOFF_SECONDS[min(max(failures - 1, 0), len(BACKOFF_SECONDS) - 1)]
                delay *= random.uniform(*BACKOFF_JITTER)
                log(f"ipengine exited with status {status}{self._failure_hint(status)}; "
                    f"starting it again in {delay:.1f} s")
                self._update(phase=RESTARTING, engine_pid=None, registered=False, failures=failures)
                self._sleep(delay)
        finally:
            for watch in watches:
                watch.stop()
            self.state_file.unlink(missing_ok=True)
        log("engine supervisor stopped")
        return 0
