"""The viewer's login: Jupyter's password identity provider, throttled, with server-side sessions.

Plugged in through Jupyter Server's own extension points, in the viewer's JSON config (see
viewer): ``ServerApp.identity_provider_class`` = :class:`ViewerIdentityProvider`, a subclass of
``PasswordIdentityProvider`` (same ``hashed_password`` config), whose ``login_handler_class``
is :class:`ThrottledLoginHandler`, a subclass of Jupyter's ``LoginFormHandler``. Jupyter's
``LogoutHandler`` stays; it calls ``clear_login_cookie``, which here also ends the session.

* Throttle (login_throttle): per client address, 5 failures free, then 1, 2, 4 ... s up to 15
  min; 429 with ``Retry-After`` meanwhile, the password not even checked. The client address
  (:meth:`ViewerIdentityProvider.login_address`) is tornado's ``request.remote_ip``, the TCP
  peer (``ServerApp.trust_xheaders`` is off: tornado would believe the headers of any peer), so
  a client cannot pick its address with an ``X-Forwarded-For`` or ``X-Real-IP`` header; unless
  the peer is one of ``trusted_proxies`` (IPYTHON_TRUSTED_PROXIES): then it is the rightmost
  ``X-Forwarded-For`` entry that is no trusted proxy, else ``X-Real-IP``
  (login_throttle.client_address). Behind the Ingress, with the ingress controller's addresses
  trusted, each client is throttled on its own instead of all sharing the controller's address.
  The login's log lines name the client, and the proxy it came through.
* Password checks (:class:`PasswordChecks`) never run on the server's event loop: argon2 (about
  60 ms of CPU each with Jupyter's parameters) runs in a thread of its own, one check at a time,
  at nice 10 (the event loop's thread, and the kernels, are scheduled first), and busy half of
  the time at most (``CHECK_DUTY``): a flood of checks costs the pod at most half a core, about
  8 checks/s. At most ``MAX_WAITING_CHECKS`` (32, about 4 s of checks) wait for their turn,
  further attempts get 503 with ``Retry-After: 1`` at once. The loop's default executor, which
  Jupyter uses for file operations, is not touched.
* Sessions (login_sessions): a random session id in the signed cookie, valid while the server
  holds it; /logout ends it, a restart ends all of them.
* Cookie flags (cookie_policy): login and ``_xsrf`` cookies ``SameSite=Lax``, ``Secure`` over
  HTTPS (also behind a TLS proxy, from ``X-Forwarded-Proto``); the login cookie ``HttpOnly``.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.identity import PasswordIdentityProvider, User
from jupyter_server.auth.login import LoginFormHandler
from jupyter_server.auth.security import passwd_check
from tornado.escape import xhtml_escape
from traitlets import List, Unicode, default

from .cookie_policy import XsrfCookieOptions, cookie_flags
from .login_sessions import LoginSessions
from .login_throttle import LoginThrottle, client_address, client_key, proxy_network, retry_after_header

PASSWORD_CHECK_NICE = 10
MAX_WAITING_CHECKS = 32
#: The share of the time the password-check thread may be busy: a flood takes half a core.
CHECK_DUTY = 0.5
SESSION_KEY = "session"
REFUSAL_PAGE = (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Login refused</title></head>'
    '<body><p>{text}</p><p><a href="{login}">Back to the login page</a></p></body></html>\n'
)


class ChecksBusy(Exception):
    """Too many password checks are waiting already."""


def _lower_priority() -> None:
    """Thread initializer: this thread (Linux: nice is per thread) yields to the event loop's."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PASSWORD_CHECK_NICE)
    except (AttributeError, OSError):
        pass  # not Linux: the check still runs off the event loop, at normal priority


class PasswordChecks:
    """argon2 verification off the event loop: one at a time, in a thread of its own at nice 10,
    busy at most ``CHECK_DUTY`` of the time (after a check that took t, the next starts t later),
    with at most ``max_waiting`` attempts waiting; more raise :class:`ChecksBusy` at once."""

    def __init__(self, hashed_password: str, *, max_waiting: int = MAX_WAITING_CHECKS):
        self.hashed_password = hashed_password
        self.max_waiting = max_waiting
        self.pending = 0  # running and waiting; only touched on the event loop's thread
        self._turn: asyncio.Lock | None = None  # made on the loop, at the first check
        self._next_start = 0.0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="password-check",
                                          initializer=_lower_priority)

    async def check(self, typed_password: str) -> bool:
        if self.pending > self.max_waiting:
            raise ChecksBusy
        self.pending += 1
        try:
            loop = asyncio.get_running_loop()
            if self._turn is None:
                self._turn = asyncio.Lock()
            async with self._turn:  # first come, first served
                rest = self._next_start - loop.time()
                if rest > 0:
                    await asyncio.sleep(rest)
                started = loop.time()
                verdict = await loop.run_in_executor(self._thread, passwd_check, self.hashed_password, typed_password)
                took = loop.time() - started
                self._next_start = loop.time() + took * (1 - CHECK_DUTY) / CHECK_DUTY
            return verdict
        finally:
            self.pending -= 1


@dataclass
class SessionUser(User):
    """Jupyter's anonymous user, plus the id of its login session (never shown in /api/me)."""

    session: str = field(default="", repr=False, compare=False)


def with_session(user: User, session: str) -> SessionUser:
    model = asdict(user)
    model.pop("session", None)
    return SessionUser(**model, session=session)


class ViewerIdentityProvider(PasswordIdentityProvider):
    trusted_proxies = List(
        Unicode(), config=True,
        help="IP addresses or CIDR networks of the proxies whose X-Forwarded-For / X-Real-IP name "
             "the client the login throttles (IPYTHON_TRUSTED_PROXIES); empty: the TCP peer.",
    )

    @default("login_handler_class")
    def _default_login_handler_class(self):
        return ThrottledLoginHandler

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.proxy_networks = tuple(proxy_network(text) for text in self.trusted_proxies)
        self.login_throttle = LoginThrottle()
        self.sessions = LoginSessions()
        self.password_checks = PasswordChecks(self.hashed_password)
        # tornado reads the _xsrf cookie's options from this application setting; the
        # ServerApp builds the application from tornado_settings after making this provider
        settings = getattr(self.parent, "tornado_settings", None)
        if settings is not None:
            settings["xsrf_cookie_kwargs"] = XsrfCookieOptions(getattr(self.parent, "base_url", "/"))

    # -- login --
    def login_address(self, request: Any) -> tuple[str, str]:
        """(the client's address, how the log names it): the TCP peer, or the client a trusted
        proxy forwards, named with the proxy (``203.0.113.7 (via 10.244.1.5)``)."""
        peer = request.remote_ip or ""
        address = client_address(peer, request.headers.get("X-Forwarded-For"), request.headers.get("X-Real-IP"),
                                 self.proxy_networks)
        return address, address if address == peer else f"{address} (via {peer})"

    def start_session(self, handler: Any) -> SessionUser:
        """The user of a login that just succeeded, with a new session (never one the request
        brought along: a session id a visitor planted before logging in is worth nothing)."""
        return with_session(self.generate_anonymous_user(handler), self.sessions.start())

    # -- the cookie --
    def user_to_cookie(self, user: User) -> str:
        model = json.loads(super().user_to_cookie(user))
        model[SESSION_KEY] = getattr(user, "session", "")
        return json.dumps(model)

    def user_from_cookie(self, cookie_value: str) -> User | None:
        model = json.loads(cookie_value)
        session = model.get(SESSION_KEY)
        if self.auth_enabled and not self.sessions.active(session):
            return None  # logged out, too old, or from before a restart
        user = super().user_from_cookie(cookie_value)
        return None if user is None else with_session(user, session or "")

    def set_login_cookie(self, handler: Any, user: User) -> None:
        if self.auth_enabled and not getattr(user, "session", ""):
            user = with_session(user, self.sessions.start())
        options = dict(self.cookie_options)
        options.setdefault("httponly", True)
        options.setdefault("path", handler.base_url)
        for name, value in cookie_flags(handler.request).items():
            options.setdefault(name, value)
        if self.secure_cookie:
            options["secure"] = True
        handler.set_secure_cookie(self.get_cookie_name(handler), self.user_to_cookie(user), **options)

    def clear_login_cookie(self, handler: Any) -> None:
        """Log out: end the session the request's cookie names, then clear the cookie."""
        raw = handler.get_secure_cookie(self.get_cookie_name(handler), **self.get_secure_cookie_kwargs)
        if raw:
            try:
                self.sessions.end(json.loads(raw).get(SESSION_KEY))
            except (ValueError, AttributeError):
                pass  # not our cookie's format: nothing to end
        super().clear_login_cookie(handler)

    def identity_model(self, user: User) -> dict[str, Any]:
        model = super().identity_model(user)
        model.pop(SESSION_KEY, None)
        return model


class ThrottledLoginHandler(LoginFormHandler):
    """Jupyter's login form, with the throttle and the password check off the event loop."""

    def _refuse(self, status: int, seconds: float, text: str) -> None:
        """A short page, not the login template: refusals are what a flood gets, by the hundred
        per second, and rendering the template costs the event loop milliseconds each."""
        self.set_status(status)
        self.set_header("Retry-After", retry_after_header(seconds))
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(REFUSAL_PAGE.format(text=xhtml_escape(text), login=xhtml_escape(self.request.uri or "/login")))

    @allow_unauthenticated
    async def post(self) -> None:
        provider: ViewerIdentityProvider = self.identity_provider  # type: ignore[assignment]
        address, named = provider.login_address(self.request)
        key = client_key(address)
        throttle = provider.login_throttle
        wait = throttle.begin(key)
        if wait > 0:
            why = "failed logins" if throttle.retry_after(key) > 0 else "logins at once"
            self._refuse(429, wait, f"Too many {why} from your address. Try again in {retry_after_header(wait)} s.")
            return
        typed_password = self.get_argument("password", default="")
        # Jupyter's form can also carry a new password; changing it is off in the viewer
        new_password = self.get_argument("new_password", default="")
        try:
            accepted = await provider.password_checks.check(typed_password) and not new_password
        except ChecksBusy:
            throttle.cancel(key)
            self._refuse(503, 1, "The server is busy checking other logins. Try again in a moment.")
            return
        except BaseException:
            throttle.cancel(key)
            raise
        lock = throttle.end(key, success=accepted)
        if not accepted:
            if lock:
                self.log.warning(
                    "login: %d failed logins in a row from %s: its logins are refused for %s s",
                    throttle.failures(key), named, retry_after_header(lock),
                )
            self.set_status(401)
            self._render(message={"error": "Invalid credentials"})
            return
        user = self.current_user = provider.start_session(self)
        self.log.info("User %s logged in from %s.", user.username, named)
        provider.set_login_cookie(self, user)
        self._redirect_safe(self.get_argument("next", default=self.base_url))
