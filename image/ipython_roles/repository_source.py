"""IPYTHON_NOTEBOOK_REPOSITORY: which git URLs are accepted, the optional ``#ref``, and its credentials.

The value is ``URL`` or ``URL#ref`` where ref is a branch or a tag (``git clone --branch``
takes both), at most :data:`MAX_LENGTH` (2048) characters in all. Accepted URLs:

* ``https://`` and ``http://`` URLs, with or without credentials: ``https://TOKEN@host/x.git``
  (a token as the user name), ``https://user:password@host/x.git``; the password may hold any
  character but whitespace, ``/`` and ``#`` (write those percent-encoded, ``%2F`` ``%23``);
* ``git://`` URLs (no user name or password: the git protocol has no authentication);
* ``ssh://[user@]host[:port]/path`` and scp-like ``[user@]host:path`` (no password: ssh
  authenticates with a key). The image has no ssh client: such a clone fails with the one line
  "ssh:// and user@host:path need an ssh client, which the image does not have; use https://".
  They stay valid for an image built FROM this one that adds a client and a key;
* ``file:///path`` URLs and absolute local paths (``/srv/repos/notebooks``), a repository in the
  container's own filesystem (a mounted volume, a derived image); paths are cloned through
  ``file://`` so that the clone can be shallow (git ignores ``--depth`` for plain local paths).

Everything else is refused with the one-line configuration error: whitespace (a value pasted
with a stray space or newline), relative paths, a host or user name starting with ``-`` in any
form, also percent-encoded (git and ssh would read ``-oProxyCommand=...`` as an option), git's
``transport::address`` remote helpers such as ``ext::`` (which runs an arbitrary command), other
schemes such as ``ftp://``, and anything longer than 2048 characters.

Credentials are a secret wherever they go (see :class:`RepositorySource`):

* logs and errors show whatever precedes the host's ``@`` as ``<hidden>``, in every form
  (``https://<hidden>@host/x.git``, ``<hidden>@host:path``), also for refused values;
* git is never given them on its command line or in the clone's ``.git/config``: an http(s)
  clone gets the URL without them and the credentials from a one-shot credential helper that
  reads them from its own environment (workspace.clone_command);
* what the role starts (Jupyter, kernels, ipengine, tasks, pip) sees IPYTHON_NOTEBOOK_REPOSITORY
  without them: :func:`without_credentials` (``https://host/x.git#main``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

from .errors import ConfigError

VARIABLE = "IPYTHON_NOTEBOOK_REPOSITORY"
#: Longest accepted value (URL and #ref): far above any real URL, small enough for one log line,
#: an environment variable and a Kubernetes Secret.
MAX_LENGTH = 2048
SCHEMES = ("https", "http", "git", "ssh", "file")
#: Schemes whose URL may carry a user name and password (handed to git by a credential helper).
CREDENTIAL_SCHEMES = ("https", "http")
HIDDEN = "<hidden>"
ALLOWED = (
    "a git URL (https://, http://, git://, ssh://, file://, user@host:path or an absolute path) "
    "without spaces, optionally followed by #branch-or-tag"
)
TOO_LONG = f"at most {MAX_LENGTH} characters"
OPTION_LIKE = "a git URL whose host and user name do not start with '-' (git and ssh would read them as options)"
NO_USER = (
    "a git:// or file:// URL without user name or password (git:// has no authentication; "
    "for a private repository use https://TOKEN@host/path)"
)
NO_SSH_PASSWORD = (
    "an ssh URL without password (ssh authenticates with a key; for a private repository use "
    "https://TOKEN@host/path)"
)
FILE_HOST = "a file:// URL naming a path in the container: file:///path"
ENCODING_HINT = " (in a user name or password, write '/' as %2F and '#' as %23)"

_SCHEME_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$", re.S)
# git's <transport>::<address> syntax runs the remote helper git-remote-<transport>
_TRANSPORT = re.compile(r"^[A-Za-z0-9+.-]*::")
# scp-like [user@]host:path; the user part is everything up to the last '@' before the host
_SCP_LIKE = re.compile(r"^(?:(?P<userinfo>[^/]*)@)?(?P<host>\[[^\]/]*\]|[^@/:\[\]]+):(?P<path>.+)$", re.S)
_HOST = re.compile(
    r"^(?:\[[0-9A-Fa-f:.]+\]"
    r"|(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)*\.?)$"
)
_SSH_USER = re.compile(r"^[A-Za-z0-9._][A-Za-z0-9._-]*$")
# A safe subset of `git check-ref-format --allow-onelevel`.
_REF = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$")


class _Refused(ValueError):
    """A URL that is not accepted; the argument says what is allowed."""


@dataclass(frozen=True)
class _Parts:
    kind: str  # https, http, git, ssh, file, scp (user@host:path) or path
    public_url: str  # the URL without user name and password
    userinfo: str | None  # as written in the URL, percent-encoding included
    host: str | None  # host[:port] for messages; None for local repositories


def _option_like(part: str) -> bool:
    return part.startswith("-") or unquote(part).startswith("-")


def _check_host(host: str, port: str | None) -> None:
    if _option_like(host):
        raise _Refused(OPTION_LIKE)
    if not _HOST.match(host):
        raise _Refused(ALLOWED)
    if port is not None and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise _Refused(ALLOWED)


def _check_ssh_user(userinfo: str) -> None:
    user, colon, _ = userinfo.partition(":")
    if _option_like(user):
        raise _Refused(OPTION_LIKE)
    if colon:
        raise _Refused(NO_SSH_PASSWORD)
    if not _SSH_USER.match(user):
        raise _Refused(ALLOWED)


def _split_host_port(hostport: str) -> tuple[str, str | None]:
    if hostport.startswith("["):
        host, bracket, rest = hostport.partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise _Refused(ALLOWED)
        return host + "]", rest[1:] if rest else None
    host, colon, port = hostport.partition(":")
    return host, port if colon else None


def _scheme_url(scheme: str, written_scheme: str, rest: str) -> _Parts:
    if scheme not in SCHEMES:
        raise _Refused(ALLOWED)
    slash = rest.find("/")
    authority, path = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
    written_userinfo, at, hostport = authority.rpartition("@")
    userinfo = written_userinfo if at else None
    if scheme == "file":
        if userinfo is not None:
            raise _Refused(NO_USER)
        if hostport not in ("", "localhost") or not path:
            raise _Refused(FILE_HOST)
        return _Parts("file", f"{written_scheme}://{rest}", None, None)
    host, port = _split_host_port(hostport)
    if userinfo is not None:
        user = userinfo.partition(":")[0]
        if _option_like(user):
            raise _Refused(OPTION_LIKE)
    try:
        _check_host(host, port)
    except _Refused as refused:
        hint = ENCODING_HINT if "@" in rest and refused.args[0] == ALLOWED else ""
        raise _Refused(refused.args[0] + hint) from None
    if userinfo is not None:
        if scheme == "git":
            raise _Refused(NO_USER)
        if scheme == "ssh":
            _check_ssh_user(userinfo)
        elif not userinfo.strip(":"):
            raise _Refused(ALLOWED)  # "https://@host" or "https://:@host": an empty credential
    return _Parts(scheme, f"{written_scheme}://{hostport}{path}", userinfo, hostport)


def _parse_url(url: str) -> _Parts:
    match = _SCHEME_URL.match(url)
    if match:
        return _scheme_url(match.group("scheme").lower(), match.group("scheme"), match.group("rest"))
    if url.startswith("/"):
        if len(url) == 1:
            raise _Refused(ALLOWED)
        return _Parts("path", url, None, None)
    if _TRANSPORT.match(url):
        raise _Refused(ALLOWED)
    scp = _SCP_LIKE.match(url)
    if scp is None:
        raise _Refused(OPTION_LIKE if url.startswith("-") else ALLOWED)
    userinfo, host, path = scp.group("userinfo"), scp.group("host"), scp.group("path")
    if userinfo is not None:
        _check_ssh_user(userinfo)
    _check_host(host, None)
    return _Parts("scp", f"{host}:{path}", userinfo, host)


def redact_url(value: str) -> str:
    """Any value with everything before the host's ``@`` replaced: for errors and logs.

    Works on values that are not valid URLs as well (a refused value is shown in its error), so
    it errs on the side of hiding: everything up to the LAST ``@`` goes, whatever the scheme,
    e.g. ``https://user:p@ss@host/x`` -> ``https://<hidden>@host/x``.
    """
    match = _SCHEME_URL.match(value)
    head, rest = (value[: match.start("rest")], match.group("rest")) if match else ("", value)
    if "@" not in rest:
        return value
    return f"{head}{HIDDEN}@{rest.rpartition('@')[2]}"


@dataclass(frozen=True)
class RepositorySource:
    """A validated repository: made by :func:`parse_repository` only.

    ``url`` is the URL as given, credentials included: never log it, use :meth:`describe`.
    """

    url: str = field(repr=False)
    ref: str | None = None
    kind: str = "path"
    public_url: str = field(default="", repr=False)
    userinfo: str | None = field(default=None, repr=False)
    host: str | None = None

    def __repr__(self) -> str:
        return f"RepositorySource({self.describe()!r})"

    @property
    def has_credentials(self) -> bool:
        """A user name or password in an http(s) URL (an ssh URL holds a login name at most)."""
        return self.kind in CREDENTIAL_SCHEMES and self.userinfo is not None

    @property
    def clone_url(self) -> str:
        """What ``git clone`` is given: never a password or token.

        Local paths become file:// URLs so --depth applies; an http(s) URL loses its
        credentials (see :meth:`credentials`); an ssh URL keeps its user name, ssh needs it.
        """
        if self.kind == "path":
            return "file://" + self.url
        if self.kind in CREDENTIAL_SCHEMES:
            return self.public_url
        return self.url

    @property
    def public_clone_url(self) -> str:
        """The clone URL without any user name: how the same repository is recognised."""
        return "file://" + self.url if self.kind == "path" else self.public_url

    @property
    def local_path(self) -> str | None:
        """The path in the container of a file:// URL or a local path; None otherwise."""
        if self.kind == "path":
            return self.url
        if self.kind == "file":
            rest = self.public_url.split("://", 1)[1]
            return unquote(rest[rest.index("/"):])
        return None

    def credentials(self) -> tuple[str, str] | None:
        """(user name, password) of an http(s) URL, percent-decoded; the password may be empty
        (a token given as the user name). None without credentials or for other schemes."""
        if self.kind not in CREDENTIAL_SCHEMES or self.userinfo is None:
            return None
        user, _, password = self.userinfo.partition(":")
        return unquote(user), unquote(password)

    def describe(self) -> str:
        """For logs and errors: the URL with its user name and password hidden, plus the ref."""
        if self.userinfo is None:
            url = self.url
        elif self.kind == "scp":
            url = f"{HIDDEN}@{self.public_url}"
        else:
            scheme, rest = self.public_url.split("://", 1)
            url = f"{scheme}://{HIDDEN}@{rest}"
        return f"{url}#{self.ref}" if self.ref else url

    def environment_value(self) -> str:
        """IPYTHON_NOTEBOOK_REPOSITORY as a process the role starts may see it: no credentials."""
        url = self.public_url if self.userinfo is not None else self.url
        return f"{url}#{self.ref}" if self.ref else url

    def secrets(self) -> list[str]:
        """Strings that must not reach a log (longest first, so a longer one is replaced whole).

        http(s): the user part as written, and the password or token on its own, as written and
        percent-decoded. ssh: ``user@`` only, a login name (a bare ``git`` would mangle git's
        own messages)."""
        if self.userinfo is None:
            return []
        found = {f"{self.userinfo}@"}
        if self.kind in CREDENTIAL_SCHEMES:
            found.add(self.userinfo)
            user, _, password = self.userinfo.partition(":")
            found.update({password, unquote(password)} if password else {user, unquote(user)})
        return sorted((secret for secret in found if secret), key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` (git's output, say) with this URL's secrets replaced by ``<hidden>``."""
        if self.userinfo is not None:
            text = text.replace(f"{self.userinfo}@", f"{HIDDEN}@")
        for secret in self.secrets():
            text = text.replace(secret, HIDDEN)
        return text


def _valid_ref(ref: str) -> bool:
    return bool(_REF.match(ref)) and ".." not in ref and "//" not in ref and not ref.endswith(("/", ".", ".lock"))


def _shown(value: str) -> str:
    shown = redact_url(value)
    if len(shown) > 100:
        return f"{shown[:60]}...({len(value)} characters)"
    return shown


def parse_repository(value: str) -> RepositorySource:
    """Parse ``URL[#ref]``; raise ConfigError naming IPYTHON_NOTEBOOK_REPOSITORY otherwise.

    The error shows the value with its user name and password replaced by ``<hidden>``.
    """
    shown = _shown(value)
    if len(value) > MAX_LENGTH:
        raise ConfigError(VARIABLE, shown, f"{TOO_LONG} (this one has {len(value)})")
    if not value or any(ch.isspace() for ch in value) or not value.isprintable():
        raise ConfigError(VARIABLE, shown, ALLOWED)
    url, hash_sign, ref = value.partition("#")
    if hash_sign and not _valid_ref(ref):
        hint = ENCODING_HINT if "@" in ref else " (a ref has letters, digits, '.', '_', '-', '/')"
        raise ConfigError(VARIABLE, shown, ALLOWED + hint)
    try:
        parts = _parse_url(url)
    except _Refused as refused:
        raise ConfigError(VARIABLE, shown, refused.args[0]) from None
    return RepositorySource(url, ref or None, parts.kind, parts.public_url, parts.userinfo, parts.host)


def environment_value(value: str) -> str | None:
    """What a process the role starts may see of IPYTHON_NOTEBOOK_REPOSITORY: the URL (and ref)
    without user name and password; None (remove the variable) for a value that does not parse."""
    try:
        return parse_repository(value).environment_value()
    except ConfigError:
        return None


def without_credentials(environ: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``environ`` whose IPYTHON_NOTEBOOK_REPOSITORY has no credentials (see
    :func:`environment_value`); for the environment of everything a role starts."""
    result = dict(environ)
    value = result.get(VARIABLE)
    if value:
        public = environment_value(value)
        if public is None:
            del result[VARIABLE]
        else:
            result[VARIABLE] = public
    return result
