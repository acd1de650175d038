"""IPYTHON_NOTEBOOK_REPOSITORY: which git URLs are accepted, and the optional ``#ref``.

The value is ``URL`` or ``URL#ref`` where ref is a branch or a tag (``git clone --branch``
takes both). Accepted URLs:

* ``https://``, ``http://``, ``git://``, ``ssh://`` and ``file://`` URLs;
* scp-like ssh addresses ``user@host:path`` (``git@github.com:org/repo.git``);
* absolute local paths (``/srv/repos/notebooks``), cloned through ``file://`` so that the clone
  can be shallow (git ignores ``--depth`` for plain local paths).

Everything else is refused with the one-line configuration error, in particular whitespace
(a value pasted with a stray space or newline), relative paths, values starting with ``-``
(they would be read as git options) and other transports such as ``ext::`` (which runs an
arbitrary command) or ``ftp://``.

A URL may carry credentials (``https://user:token@host/repo.git``); logs and errors show it
with the password replaced by ``<hidden>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ConfigError

VARIABLE = "IPYTHON_NOTEBOOK_REPOSITORY"
SCHEMES = ("https", "http", "git", "ssh", "file")
ALLOWED = (
    "a git URL (https://, http://, git://, ssh://, file://, user@host:path or an absolute path) "
    "without spaces, optionally followed by #branch-or-tag"
)

_SCHEME_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.+)$")
_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:.+$")
# A safe subset of `git check-ref-format --allow-onelevel`.
_REF = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$")


@dataclass(frozen=True)
class RepositorySource:
    """A validated repository: the URL as given and the branch or tag to check out (or None)."""

    url: str
    ref: str | None = None

    @property
    def clone_url(self) -> str:
        """What ``git clone`` is given: local paths become file:// URLs so --depth applies."""
        if self.url.startswith("/"):
            return "file://" + self.url
        return self.url

    def describe(self) -> str:
        """For logs and errors: the URL with any password replaced, plus the ref."""
        url = redact_url(self.url)
        return f"{url}#{self.ref}" if self.ref else url

    def secrets(self) -> list[str]:
        """Strings that must not reach a log (a password embedded in the URL)."""
        match = _USERINFO.match(self.url)
        return [match.group("password")] if match else []


_USERINFO = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/@:]*):(?P<password>[^/@]*)@")


def redact_url(value: str) -> str:
    """``https://user:token@host/x`` -> ``https://user:<hidden>@host/x``; other values as is."""
    return _USERINFO.sub(lambda m: f"{m.group('head')}:<hidden>@", value)


def _valid_ref(ref: str) -> bool:
    return bool(_REF.match(ref)) and ".." not in ref and "//" not in ref and not ref.endswith(("/", ".", ".lock"))


def parse_repository(value: str) -> RepositorySource:
    """Parse ``URL[#ref]``; raise ConfigError naming IPYTHON_NOTEBOOK_REPOSITORY otherwise.

    The error shows the value with any password in the URL replaced by ``<hidden>``.
    """
    shown = redact_url(value)
    if not value or any(ch.isspace() for ch in value) or not value.isprintable():
        raise ConfigError(VARIABLE, shown, ALLOWED)
    url, hash_sign, ref = value.partition("#")
    if hash_sign and not _valid_ref(ref):
        raise ConfigError(VARIABLE, shown, ALLOWED + " (a ref has letters, digits, '.', '_', '-', '/')")
    match = _SCHEME_URL.match(url)
    if match:
        if match.group("scheme").lower() not in SCHEMES:
            raise ConfigError(VARIABLE, shown, ALLOWED)
        return RepositorySource(url, ref or None)
    if url.startswith("/") and len(url) > 1:
        return RepositorySource(url, ref or None)
    if _SCP_LIKE.match(url):
        return RepositorySource(url, ref or None)
    raise ConfigError(VARIABLE, shown, ALLOWED)
