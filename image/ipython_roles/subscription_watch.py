"""A background SUB socket on one of the controller's channels, for the engine's supervisor.

The supervisor watches two channels (controller_watch: the heartbeat clock; registration_watch:
(un)registration notifications). Both need the same plumbing: a daemon thread, a socket with
the cluster's CurveZMQ options and ZeroMQ heartbeats, a poll loop that stops on request, and a
log line instead of a silent death. Subclasses only say what a message means (``handle``).
"""

from __future__ import annotations

import threading

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


class SubscriptionWatch(threading.Thread):
    """Subscribes to ``url`` and calls ``handle(frames)`` for each message until ``stop()``."""

    def __init__(self, name: str, url: str, socket_options: dict[int, bytes] | None = None):
        super().__init__(name=name, daemon=True)
        self.url = url
        self.socket_options = dict(socket_options or {})  # CurveZMQ keys, see curve_keys
        self._stopped = threading.Event()
        #: set once the socket is connected (tests wait for it before the controller speaks)
        self.subscribed = threading.Event()

    def stop(self) -> None:
        self._stopped.set()

    def handle(self, frames: list[bytes]) -> None:
        raise NotImplementedError

    def run(self) -> None:
        try:
            self._watch()
        except Exception as error:  # noqa: BLE001 - say so instead of dying silently
            from .logs import log

            log(f"{self.name} on {self.url} stopped: {error!r}")

    def _watch(self) -> None:
        import zmq

        context = zmq.Context()
        socket = connect_watch_socket(context, zmq.SUB, self.url, self.socket_options)
        self.subscribed.set()
        poller = zmq.Poller()
        poller.register(socket, zmq.POLLIN)
        try:
            while not self._stopped.is_set():
                if poller.poll(POLL_MILLISECONDS):
                    self.handle(socket.recv_multipart())
        finally:
            socket.close()
            context.term()
