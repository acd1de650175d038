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
from collections.abc import Callable

from .subscription_watch import SubscriptionWatch

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
