"""Hearing, from the engine's side, that the controller registered or dropped our ipengine.

Why: the controller unregisters an engine whose heart missed ~30 s of pings (a paused process, a
network partition, a node under memory pressure). When the engine comes back it still receives
pings and answers them, but ipengine never registers again: it stays alive, idle and outside the
cluster for good (a wedged engine; its own check only fires when pings stop for ~3 minutes). The
controller announces every registration and unregistration on its client-side ``notification``
channel, so the supervisor subscribes to it and restarts ipengine when the uuid it gave that
ipengine (``--Session.session``) is dropped. The messages are signed with the cluster key; ones
with a bad signature are ignored.

A notification can also never come: the hub admits an engine only when its heart has beaten
within ``IPController.registration_timeout`` (30 s) of the registration reply, and otherwise
forgets the registration without a word ("purging stalled registration"), while ipengine, which
got its reply, starts its heart and runs on, outside the cluster for good. On two cores, 128
engines starting at once did exactly that to 20 of them. And a SUB socket that is still
reconnecting misses what is published meanwhile. So the supervisor also asks the hub
(``registered_engines``: a signed ``connection_request`` on the registration port, the query a
``Client`` makes when it connects), which answers with every engine it has registered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timezone

from .subscription_watch import SubscriptionWatch, connect_watch_socket

DELIMITER = b"<IDS|MSG>"
REGISTERED = "registration_notification"
UNREGISTERED = "unregistration_notification"
#: How long ``registered_engines`` waits for the hub's answer. Milliseconds.
QUERY_TIMEOUT = 5000
PROTOCOL_VERSION = "5.3"  # the message protocol ipyparallel's Session speaks


def _signature(key: bytes, parts: list[bytes]) -> bytes:
    digest = hmac.new(key, digestmod=hashlib.sha256)
    for part in parts:
        digest.update(part)
    return digest.hexdigest().encode("ascii")


def verified_message(frames: list[bytes], key: bytes) -> tuple[dict, dict] | None:
    """(header, content) of a message signed with ``key``; None when unsigned, forged or malformed."""
    try:
        start = frames.index(DELIMITER) + 1
        signature, header, parent, metadata, content = frames[start : start + 5]
    except ValueError:
        return None
    if not hmac.compare_digest(_signature(key, [header, parent, metadata, content]), signature):
        return None
    try:
        return json.loads(header), json.loads(content)
    except ValueError:
        return None


def signed_message(key: bytes, msg_type: str, content: dict, parent: dict | None = None) -> list[bytes]:
    """The frames of a message as ipyparallel's Session sends it (hmac-sha256, json); a reply
    carries its request's header as ``parent``."""
    header = json.dumps({
        "msg_id": uuid.uuid4().hex,
        "msg_type": msg_type,
        "username": "engine-supervisor",
        "session": uuid.uuid4().hex,
        "date": datetime.now(timezone.utc).isoformat(),
        "version": PROTOCOL_VERSION,
    }).encode("utf-8")
    parts = [header, json.dumps(parent or {}).encode("utf-8"), b"{}", json.dumps(content).encode("utf-8")]
    return [DELIMITER, _signature(key, parts), *parts]


def parse_notification(frames: list[bytes], key: bytes) -> tuple[str, str, int] | None:
    """(msg_type, engine uuid, engine id) of a correctly signed (un)registration notification."""
    message = verified_message(frames, key)
    if message is None:
        return None
    header, body = message
    try:
        return header["msg_type"], str(body["uuid"]), int(body["id"])
    except (KeyError, TypeError, ValueError):
        return None


def parse_engines(frames: list[bytes], key: bytes) -> dict[str, int] | None:
    """uuid -> engine id from a correctly signed ``connection_reply``."""
    message = verified_message(frames, key)
    if message is None:
        return None
    header, body = message
    try:
        if header["msg_type"] != "connection_reply" or body["status"] != "ok":
            return None
        return {str(engine_uuid): int(engine_id) for engine_id, engine_uuid in body["engines"].items()}
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def registered_engines(
    registration_url: str, key: str, socket_options: dict[int, bytes] | None = None, timeout: int = QUERY_TIMEOUT
) -> dict[str, int] | None:
    """Every engine the hub has registered (uuid -> id), asked on its registration port; None when
    no correctly signed answer came within ``timeout`` milliseconds (a controller that is down,
    overloaded, or keyed differently)."""
    import zmq

    context = zmq.Context()
    try:
        socket = connect_watch_socket(context, zmq.DEALER, registration_url, dict(socket_options or {}))
        try:
            secret = key.encode("utf-8")
            socket.send_multipart(signed_message(secret, "connection_request", {}))
            if not socket.poll(timeout):
                return None
            return parse_engines(socket.recv_multipart(), secret)
        finally:
            socket.close()
    finally:
        context.term()


class RegistrationWatch(SubscriptionWatch):
    """Calls ``on_event(msg_type, uuid, engine_id)`` for each (un)registration notification."""

    def __init__(
        self,
        notification_url: str,
        key: str,
        on_event: Callable[[str, str, int], None],
        socket_options: dict[int, bytes] | None = None,
    ):
        super().__init__("registration watch", notification_url, socket_options)
        self.key = key.encode("utf-8")
        self.on_event = on_event

    def handle(self, frames: list[bytes]) -> None:
        event = parse_notification(frames, self.key)
        if event is not None and event[0] in (REGISTERED, UNREGISTERED):
            self.on_event(*event)
