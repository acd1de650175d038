"""Noticing that the controller restarted, from the engine's side.

Why this is needed: an ipengine registers once. When the controller restarts on the same ports
with the same key, ZeroMQ silently reconnects the engine's sockets to the new controller, and
the engine's heart keeps answering the new controller's heartbeat pings, so the engine believes
it is still connected; but the new controller has never heard of it, the engine is not in the
cluster, and ipengine's own heartbeat check never fires. Somebody has to start a new ipengine.

How: the controller's heart monitor publishes on the ``hb_ping`` port a ping every period
(1 s in our controller, 3 s in ipyparallel's) whose content is its own clock, the seconds since
that controller started (``HeartMonitor.lifetime``), unsigned. A subscriber therefore sees a
steadily growing number; when the number goes back, a new controller is speaking, and the
difference between two pings is the controller's heartbeat period. Watching costs one SUB
socket, puts nothing into the controller's log, and needs no key. (A controller that dies within
its first heartbeat period and is replaced cannot be told apart; that is acceptable for a
restart.)
With CurveZMQ on, the ping socket is encrypted like the others: the watch connects with the
controller's public key (``socket_options``).
"""

from __future__ import annotations

from collections.abc import Callable

from .subscription_watch import SubscriptionWatch


class ControllerRestartWatch(SubscriptionWatch):
    """Calls ``on_restart(previous_clock, new_clock)`` each time the ping clock goes back."""

    def __init__(
        self,
        ping_url: str,
        on_restart: Callable[[float, float], None],
        socket_options: dict[int, bytes] | None = None,
    ):
        super().__init__("controller restart watch", ping_url, socket_options)
        self.on_restart = on_restart
        self.last_clock: float | None = None
        #: seconds between the last two pings heard: the controller's heartbeat period (longer
        #: when a ping was missed), None until two pings of one controller were heard
        self.period: float | None = None

    def observe(self, clock: float) -> None:
        """Feed one ping's clock value (also the unit under test)."""
        previous, self.last_clock = self.last_clock, clock
        if previous is not None and clock < previous:
            self.period = None
            self.on_restart(previous, clock)
        elif previous is not None and clock > previous:
            self.period = clock - previous

    def handle(self, frames: list[bytes]) -> None:
        try:
            clock = float(frames[-1].decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            return
        self.observe(clock)
