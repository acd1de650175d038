"""Noticing that the controller restarted, from the engine's side.

Why this is needed: an ipengine registers once. When the controller restarts on the same ports
with the same key, ZeroMQ silently reconnects the engine's sockets to the new controller, and
the engine's heart keeps answering the new controller's heartbeat pings, so the engine believes
it is still connected; but the new controller has never heard of it, the engine is not in the
cluster, and ipengine's own heartbeat check never fires. Somebody has to start a new ipengine.

How: the controller's heart monitor publishes on the ``hb_ping`` port a ping every period
(3 s) whose content is its own clock, the seconds since that controller started
(``HeartMonitor.lifetime``), unsigned. A subscriber therefore sees a steadily growing number;
when the number goes back, a new controller is speaking. Watching costs one SUB socket, puts
nothing into the controller's log, and needs no key. (A controller that dies within its first
heartbeat period and is replaced cannot be told apart; that is acceptable for a restart.)
With CurveZMQ on, the ping socket is encrypted like the others: the watch connects with the
controller's public key (``socket_options``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

POLL_MILLISECONDS = 500
#: ZeroMQ-level heartbeats on the watch sockets (ZMTP 3.1 PING/PONG): when the controller's pod
#: vanishes no TCP reset ever arrives (its IP is gone, the Service keeps its own), and a SUB
#: socket, which never sends, would wait on the dead connection for good. With these the socket
#: notices within HEARTBEAT_TIMEOUT, reconnects (resolving the name again) and hears the new
#: controller. Milliseconds.
HEARTBEAT_INTERVAL = 2000
HEARTBEAT_TIMEOUT = 6000


def connect_watch_socket(context, socket_type: int, url: str, options: dict[int, bytes]):
    """A connected socket for a watch: CurveZMQ ``options`` (if any), heartbeats, no linger."""
    import zmq

    socket = context.socket(socket_type)
    socket.linger = 0
    for option, value in options.items():
        socket.setsockopt(option, value)
    socket.setsockopt(zmq.HEARTBEAT_IVL, HEARTBEAT_INTERVAL)
    socket.setsockopt(zmq.HEARTBEAT_TIMEOUT, HEARTBEAT_TIMEOUT)
    if socket_type == zmq.SUB:
        socket.setsockopt(zmq.SUBSCRIBE, b"")
    socket.connect(url)
    return socket


class ControllerRestartWatch(threading.Thread):
    """Calls ``on_restart(previous_clock, new_clock)`` each time the ping clock goes back."""

    def __init__(
        self,
        ping_url: str,
        on_restart: Callable[[float, float], None],
        socket_options: dict[int, bytes] | None = None,
    ):
        super().__init__(name="controller-restart-watch", daemon=True)
        self.ping_url = ping_url
        self.on_restart = on_restart
        self.socket_options = dict(socket_options or {})  # CurveZMQ keys, see curve_keys
        self._stopped = threading.Event()
        self.last_clock: float | None = None

    def stop(self) -> None:
        self._stopped.set()

    def observe(self, clock: float) -> None:
        """Feed one ping's clock value (also the unit under test)."""
        previous, self.last_clock = self.last_clock, clock
        if previous is not None and clock < previous:
            self.on_restart(previous, clock)

    def run(self) -> None:
        try:
            self._watch()
        except Exception as error:  # noqa: BLE001 - say so instead of dying silently
            from .logs import log

            log(f"controller restart watch on {self.ping_url} stopped: {error!r}")

    def _watch(self) -> None:
        import zmq

        context = zmq.Context()
        socket = connect_watch_socket(context, zmq.SUB, self.ping_url, self.socket_options)
        poller = zmq.Poller()
        poller.register(socket, zmq.POLLIN)
        try:
            while not self._stopped.is_set():
                if not poller.poll(POLL_MILLISECONDS):
                    continue
                frames = socket.recv_multipart()
                try:
                    clock = float(frames[-1].decode("ascii"))
                except (UnicodeDecodeError, ValueError):
                    continue
                self.observe(clock)
        finally:
            socket.close()
            context.term()
