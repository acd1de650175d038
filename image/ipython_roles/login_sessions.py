"""The viewer's login sessions, kept by the server so that logging out ends them.

Jupyter's login cookie is signed, not stored: any copy of it stays valid until it expires (30
days), also after /logout, which only asks the browser to drop its copy. Here every login
starts a session with a random id (32 bytes from ``secrets``) that goes into the signed cookie;
a cookie counts only while its session is in this set. /logout ends the session of the cookie
it gets, so a captured copy no longer works.

Limits: a session ends after ``MAX_AGE_SECONDS`` (30 days, the cookie's own lifetime) or when
more than ``MAX_SESSIONS`` (1,000) are open, the oldest first. The set is in memory: a restart
of the server ends every session (everyone logs in again), which is acceptable for a
one-user viewer and cheaper than a store that outlives the process.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

MAX_SESSIONS = 1000
MAX_AGE_SECONDS = 30 * 24 * 3600.0


class LoginSessions:
    def __init__(self, *, max_sessions: int = MAX_SESSIONS, max_age: float = MAX_AGE_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.max_sessions = max_sessions
        self.max_age = max_age
        self.clock = clock
        self._started: OrderedDict[str, float] = OrderedDict()  # oldest first

    def __len__(self) -> int:
        return len(self._started)

    def start(self) -> str:
        while len(self._started) >= self.max_sessions:
            self._started.popitem(last=False)
        session = secrets.token_urlsafe(32)
        self._started[session] = self.clock()
        return session

    def active(self, session: object) -> bool:
        if not isinstance(session, str):
            return False
        started = self._started.get(session)
        if started is None:
            return False
        if self.clock() - started >= self.max_age:
            del self._started[session]
            return False
        return True

    def end(self, session: object) -> bool:
        """End ``session``; True if it was open."""
        return isinstance(session, str) and self._started.pop(session, None) is not None
