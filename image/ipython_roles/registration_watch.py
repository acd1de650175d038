"""Hearing, from the engine's side, that the controller registered or dropped our ipengine.

Why: the controller unregisters an engine whose heart missed ~30 s of pings (a paused process, a
network partition, a node under memory pressure). When the engine comes back it still receives
pings and answers them, but ipengine never registers again: it stays alive, idle and outside the
cluster for good (a wedged engine; its own check only fires when pings stop for ~3 minutes). The
controller announces every registration and unregistration on its client-side ``notification``
channel, so the supervisor subscribes to it and restarts ipengine when the uuid it gave that
ipengine (``--Session.session``) is dropped. The messages are signed with the cluster key; ones
with a bad signature are ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable

POLL_MILLISECONDS = 500
DELIMITER = b"<IDS|MSG>"
REGISTERED = "registration_notification"
UNREGISTERED = "unregistration_notification"


def parse_notification(frames: list[bytes], key: bytes) -> tuple[str, str, int] | None:
    """(msg_type, engine uuid, engine id) of a correctly signed (un)registration notification."""
    try:
        start = frames.index(DELIMITER) + 1
        signature, header, parent, metadata, content = frames[start : start + 5]
    except ValueError:
        return None
    digest = hmac.new(key, digestmod=hashlib.sha256)
    for part in (header, parent, metadata, content):
        digest.update(part)
    if not hmac.compare_digest(digest.hexdigest().encode("ascii"), signature):
        return None
    try:
        msg_type = json.loads(header)["msg_type"]
        body = json.loads(content)
        return msg_type, str(body["uuid"]), int(body["id"])
    except (ValueError, KeyError, TypeError):
        return None


class RegistrationWatch(threading.Thread):
    """Calls ``on_event(msg_type, uuid, engine_id)`` for each (un)registration notification."""

    def __init__(
        self,
        notification_url: str,
        key: str,
        on_event: Callable[[str, str, int], None],
        socket_options: dict[int, bytes] | None = None,
    ):
        super().__init__(name="registration-watch", daemon=True)
        self.notification_url = notification_url
        self.key = key.encode("utf-8")
        self.on_event = on_event
        self.socket_options = dict(socket_options or {})
        self._stopped = threading.Event()
        self.subscribed = threading.Event()

    def stop(self) -> None:
        self._stopped.set()

    def run(self) -> None:
        try:
            self._watch()
        except Exception as error:  # noqa: BLE001 - say so instead of dying silently
            from .logs import log

            log(f"registration watch on {self.notification_url} stopped: {error!r}")

    def _watch(self) -> None:
        import zmq

        from .controller_watch import connect_watch_socket

        context = zmq.Context()
        socket = connect_watch_socket(context, zmq.SUB, self.notification_url, self.socket_options)
        self.subscribed.set()
        poller = zmq.Poller()
        poller.register(socket, zmq.POLLIN)
        try:
            while not self._stopped.is_set():
                if not poller.poll(POLL_MILLISECONDS):
                    continue
                event = parse_notification(socket.recv_multipart(), self.key)
                if event is not None and event[0] in (REGISTERED, UNREGISTERED):
                    self.on_event(*event)
        finally:
            socket.close()
            context.term()
