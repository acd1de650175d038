"""The flags of the viewer's cookies: ``SameSite=Lax`` always, ``Secure`` when served over HTTPS.

Two cookies matter: the login cookie (set by identity.ViewerIdentityProvider) and tornado's
``_xsrf`` cookie. Both get ``SameSite=Lax`` (sent on top-level navigations to the viewer, such
as a link followed from elsewhere, but not on requests other sites' pages make) and ``Secure``
when the browser reached the viewer over HTTPS. The login cookie is also ``HttpOnly``; the
``_xsrf`` one cannot be, the UI's JavaScript reads it.

"Over HTTPS": the server's own TLS, or an ``X-Forwarded-Proto`` (or ``X-Scheme``) header that
says ``https`` in any of its values, as the Ingress in front of the viewer sets (ingress-nginx
does). That header is trusted for this decision only, whatever ``ServerApp.trust_xheaders``
says, because it can only make a cookie stricter: a client that sends it over plain HTTP gets a
cookie its own browser will not send back, and cannot make anyone else's browser send it.
``trust_xheaders`` stays off (see viewer), so the header never changes the client address or
what the server believes about the connection otherwise.

tornado issues the ``_xsrf`` cookie itself, with the options in the application setting
``xsrf_cookie_kwargs``, read when the cookie is set. That setting is given a mapping whose
``secure`` entry is computed for the request being answered, found through jupyter_server's
``CallContext`` (which holds the handler of the current request).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

SAME_SITE = "Lax"
FORWARDED_PROTO_HEADERS = ("X-Forwarded-Proto", "X-Scheme")


def served_over_https(request: Any) -> bool:
    """Did the browser reach the viewer over HTTPS (directly or through a TLS proxy)?"""
    if request.protocol == "https":
        return True
    for header in FORWARDED_PROTO_HEADERS:
        for value in request.headers.get_list(header):
            if any(part.strip().lower() == "https" for part in value.split(",")):
                return True
    return False


def cookie_flags(request: Any | None) -> dict[str, Any]:
    """The flags every cookie of the viewer gets for ``request`` (None: no request known)."""
    flags: dict[str, Any] = {"samesite": SAME_SITE}
    if request is not None and served_over_https(request):
        flags["secure"] = True
    return flags


def _current_request() -> Any | None:
    from jupyter_server.base.call_context import CallContext

    handler = CallContext.get(CallContext.JUPYTER_HANDLER)
    return getattr(handler, "request", None)


class XsrfCookieOptions(MutableMapping):
    """tornado's ``xsrf_cookie_kwargs``: ``path`` and what tornado adds itself (it stores
    ``expires_days`` once a logged-in user gets the cookie), plus :func:`cookie_flags` of the
    request being answered."""

    def __init__(self, path: str):
        self._fixed: dict[str, Any] = {"path": path}

    def _options(self) -> dict[str, Any]:
        return {**self._fixed, **cookie_flags(_current_request())}

    def __getitem__(self, key: str) -> Any:
        return self._options()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._fixed[key] = value

    def __delitem__(self, key: str) -> None:
        del self._fixed[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._options())

    def __len__(self) -> int:
        return len(self._options())

    def __repr__(self) -> str:
        return f"XsrfCookieOptions({self._fixed!r} + per request {list(cookie_flags(None))} and secure on HTTPS)"
