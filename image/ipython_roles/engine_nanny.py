"""The engine supervisor is also its ipengine's nanny: one Python process fewer per engine.

ipyparallel's ipengine starts a *nanny* when it registers (``ipyparallel.engine.nanny``, a new
``python -m`` process). The nanny sits on the engine's control channel between the controller's
control scheduler and ipengine, and does two things ipengine cannot do for itself:

* it answers ``signal_request`` (``Client.send_signal``: interrupting a running task with
  SIGINT, which is what a notebook's "stop that engine" needs) by signalling ipengine;
* it tells the hub at once when ipengine dies (``unregistration_request``), instead of the hub
  noticing missed heartbeats seconds later.

Everything else on the control channel it relays unchanged, both ways.

That process imports ipyparallel and IPython: about 0.26 s of CPU and 28 MiB (PSS) per engine,
and ipengine waits for it before it completes its registration. On a node that starts many
engines at once (the 64-engine benchmark: 64 of them on two cores) it is a third of the engines'
start-up CPU. The supervisor is ipengine's parent already, has ZeroMQ loaded, knows the cluster
key and sees ipengine exit; so it plays the nanny in a thread (:class:`NannyRelay`), and ipengine
runs as ``python -m ipython_roles.engine_process``: ipyparallel's ``IPEngine`` whose
``start_nanny`` asks the supervisor over an inherited socket (``NANNY_FD_VARIABLE``) instead of
starting a process. Without that socket (ipengine started by hand) it starts ipyparallel's nanny.

The exchange on that socket: ipengine sends one JSON line (:func:`nanny_request`: its engine id,
ZeroMQ identity, the control scheduler's URL, its CurveZMQ keys, the registration URL); the
supervisor binds the relay's engine-side socket and answers one line, ``tcp://127.0.0.1:PORT``
(or ``error: ...``, which ipengine turns into the same "nanny failed" as ipyparallel's). The
socket then stays open until ipengine exits. The relay's sockets are those of ipyparallel's
nanny: a ROUTER with ipengine's identity connected to the control scheduler (CurveZMQ with the
controller's key when the cluster encrypts), and a DEALER bound on 127.0.0.1 that ipengine's
control socket connects to (a CurveZMQ server with ipengine's own key pair, as ipyparallel's).
Messages are signed as ipyparallel's Session signs them (hmac-sha256 with the cluster key,
json); a ``signal_request`` with a bad signature is dropped and logged.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import threading
from collections.abc import Callable

from .logs import log
from .registration_watch import DELIMITER, signed_message, verified_message

#: The environment variable naming ipengine's end of the socket to its supervisor. Not
#: ``IPYTHON_*``: the settings refuse unknown variables of that prefix.
NANNY_FD_VARIABLE = "_IPYTHON_NANNY_FD"
#: Set by the supervisor to the folder it put first on PYTHONPATH for ENGINE_MODULE; ipengine
#: takes that folder off PYTHONPATH again, so that its tasks' subprocesses do not inherit it.
PACKAGE_PATH_VARIABLE = "_IPYTHON_ROLES_PATH"
#: The module ipengine runs as (a string: the supervisor does not import ipyparallel).
ENGINE_MODULE = "ipython_roles.engine_process"
POLL_MILLISECONDS = 500
#: How long the notice of ipengine's end may wait for the hub (ipyparallel's nanny: 3 s).
UNREGISTER_LINGER_MILLISECONDS = 3000
#: A request larger than this is not ipengine's (keys and URLs: a few hundred bytes).
MAX_REQUEST_BYTES = 65536
#: Keys of the request whose values are bytes (base64 in the JSON line).
BYTES_FIELDS = ("identity", "curve_serverkey", "curve_publickey", "curve_secretkey")


def nanny_request(*, engine_id: int, identity: bytes, control_url: str, registration_url: str,
                  curve_serverkey: bytes | None, curve_publickey: bytes | None,
                  curve_secretkey: bytes | None) -> bytes:
    """ipengine's side: the request line (what ipyparallel hands its nanny, as JSON)."""
    fields: dict = {"engine_id": engine_id, "control_url": control_url, "registration_url": registration_url}
    for name, value in (("identity", identity), ("curve_serverkey", curve_serverkey),
                        ("curve_publickey", curve_publickey), ("curve_secretkey", curve_secretkey)):
        fields[name] = base64.b64encode(value).decode("ascii") if value else None
    return json.dumps(fields).encode("utf-8") + b"\n"


def parse_request(line: bytes) -> dict:
    """The request as sent by :func:`nanny_request`; ValueError when it is not one."""
    fields = json.loads(line)
    if not isinstance(fields, dict) or not isinstance(fields.get("engine_id"), int):
        raise ValueError("not a nanny request")
    for name in ("control_url", "registration_url"):
        if not isinstance(fields.get(name), str):
            raise ValueError(f"nanny request without {name}")
    for name in BYTES_FIELDS:
        value = fields.get(name)
        fields[name] = base64.b64decode(value) if value else None
    if not fields["identity"]:
        raise ValueError("nanny request without identity")
    return fields


def _signal_number(name_or_number) -> int:
    if isinstance(name_or_number, str):
        try:
            return int(signal.Signals[name_or_number])
        except KeyError:
            raise ValueError(f"no such signal: {name_or_number!r}") from None
    if isinstance(name_or_number, int) and not isinstance(name_or_number, bool):
        return name_or_number
    raise ValueError(f"a signal is a number or a name like 'SIGINT', not {name_or_number!r}")


def _error_content(error: Exception) -> dict:
    """A failed request's reply content, shaped like ipyparallel's ``error.wrap_exception()``."""
    return {"status": "error", "ename": type(error).__name__, "evalue": str(error),
            "traceback": [f"{type(error).__name__}: {error}"], "engine_info": {}}


def _curve_client(zmq_socket, server_key: bytes | None) -> None:
    """CurveZMQ towards the controller when the cluster encrypts: any client key pair will do, as
    for ipyparallel's nanny (the controller is known by its key; clients are not)."""
    if server_key:
        from .curve_keys import client_socket_options

        for option, value in client_socket_options(server_key).items():
            zmq_socket.setsockopt(option, value)


class NannyRelay(threading.Thread):
    """The nanny of one ipengine process, as a thread of its supervisor.

    ``channel`` is the supervisor's end of the socket whose other end ipengine inherited; the
    relay ends when ipengine closes it (by exiting) or on :meth:`stop`, and then sends the hub
    ``unregistration_request`` for the engine, as ipyparallel's nanny does when its parent dies.
    """

    def __init__(self, channel: socket.socket, *, engine_pid: int, cluster_key: str,
                 on_signal: Callable[[int], None] | None = None):
        super().__init__(name=f"nanny of ipengine {engine_pid}", daemon=True)
        self.channel = channel
        self.engine_pid = engine_pid
        self.key = cluster_key.encode("utf-8")
        self.on_signal = on_signal
        self.request: dict | None = None
        self._stopped = threading.Event()
        self._quiet = False

    def stop(self) -> None:
        self._stopped.set()

    def quiet(self) -> None:
        """Do not tell the hub when this ipengine ends: the supervisor restarts it because the
        controller dropped it, or restarted (a new controller numbers its engines anew, and the
        old engine id may by now be another engine's)."""
        self._quiet = True

    def run(self) -> None:
        try:
            self._serve()
        except Exception as error:  # noqa: BLE001 - say so instead of dying silently
            log(f"{self.name} stopped: {error!r}")
        finally:
            self.channel.close()

    # -- the exchange with ipengine --
    def _read_request(self) -> dict | None:
        line = b""
        self.channel.settimeout(POLL_MILLISECONDS / 1000)
        while not self._stopped.is_set() and not line.endswith(b"\n"):
            try:
                chunk = self.channel.recv(4096)
            except TimeoutError:
                continue
            if not chunk:
                return None  # ipengine exited before it registered: nothing to relay
            line += chunk
            if len(line) > MAX_REQUEST_BYTES:
                raise ValueError(f"a nanny request of more than {MAX_REQUEST_BYTES} bytes")
        return parse_request(line) if line.endswith(b"\n") else None

    def _serve(self) -> None:
        import zmq

        request = self._read_request()
        if request is None:
            return
        self.request = request
        context = zmq.Context()
        try:
            control = context.socket(zmq.ROUTER)
            control.linger = 0
            control.setsockopt(zmq.IDENTITY, request["identity"])
            _curve_client(control, request["curve_serverkey"])
            control.connect(request["control_url"])
            engine = context.socket(zmq.DEALER)
            engine.linger = 0
            if request["curve_secretkey"]:
                engine.setsockopt(zmq.CURVE_SERVER, 1)
                engine.setsockopt(zmq.CURVE_SECRETKEY, request["curve_secretkey"])
            port = engine.bind_to_random_port("tcp://127.0.0.1")
            self.channel.sendall(f"tcp://127.0.0.1:{port}\n".encode("ascii"))
            self._relay(zmq, control, engine)
            control.close()
            engine.close()
            if not self._quiet:
                self._notify_hub(context, request)
        finally:
            context.term()

    def _relay(self, zmq, control, engine) -> None:
        poller = zmq.Poller()
        poller.register(control, zmq.POLLIN)
        poller.register(engine, zmq.POLLIN)
        poller.register(self.channel.fileno(), zmq.POLLIN)
        while not self._stopped.is_set():
            events = dict(poller.poll(POLL_MILLISECONDS))
            if control in events:
                self._from_controller(control, engine, control.recv_multipart())
            if engine in events:
                control.send_multipart(engine.recv_multipart())
            if self.channel.fileno() in events:
                self.channel.setblocking(False)
                try:
                    if not self.channel.recv(4096):
                        return  # ipengine closed its end: it exited
                except BlockingIOError:
                    pass

    # -- control messages --
    def _from_controller(self, control, engine, frames: list[bytes]) -> None:
        try:
            start = frames.index(DELIMITER)
            msg_type = json.loads(frames[start + 2]).get("msg_type")
        except (ValueError, IndexError, AttributeError):
            msg_type = None
        if msg_type != "signal_request":
            engine.send_multipart(frames)  # ipengine's business, unchanged (it checks signatures)
            return
        message = verified_message(frames, self.key)
        if message is None:
            log(f"{self.name}: dropped a signal_request with a bad signature")
            return
        header, content = message
        try:
            number = _signal_number(content.get("sig") if isinstance(content, dict) else None)
            os.kill(self.engine_pid, number)
            if self.on_signal is not None:
                self.on_signal(number)
            reply = {"status": "ok"}
        except (ValueError, OSError, OverflowError) as error:
            reply = _error_content(error)
        control.send_multipart([*frames[:start], *signed_message(self.key, "signal_reply", reply, parent=header)])

    def _notify_hub(self, context, request: dict) -> None:
        """``unregistration_request`` for the engine: the hub drops it now, not after missed beats."""
        import zmq

        hub = context.socket(zmq.DEALER)
        hub.linger = UNREGISTER_LINGER_MILLISECONDS
        _curve_client(hub, request["curve_serverkey"])
        hub.connect(request["registration_url"])
        hub.send_multipart(signed_message(self.key, "unregistration_request", {"id": request["engine_id"]}))
        hub.close()
