"""Validation of construct props: one-line errors naming the prop, the value and what is allowed.

WHY: a bad prop must stop ``cdktf synth`` before anything is written, with a message a user can act
on. ``InvalidValue`` keeps the three parts apart so that the stacks can re-word the same error for
an environment variable (``error: IPYTHON_X=<value>: <allowed>``).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
#: Kubernetes resource quantity (``resource.Quantity``): a decimal number with a binary or
#: decimal suffix or an exponent.
QUANTITY = re.compile(
    r"^(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?$"
)
TERRAFORM_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")

REPOSITORY_ALLOWED = (
    "a git URL with https://, http://, ssh://, git:// or file://, git@host:path or an absolute "
    "path, optionally followed by #branch-or-tag, with no spaces"
)


class InvalidValue(ValueError):
    """A prop (or parameter) with a value that is not allowed.

    ``str(error)`` is the one-line message ``prop=value: allowed``; ``shown`` is how the value is
    printed (a password is never printed, only its length).
    """

    def __init__(self, prop: str, value: Any, allowed: str, *, shown: str | None = None) -> None:
        self.prop = prop
        self.value = value
        self.allowed = allowed
        self.shown = repr(value) if shown is None else shown
        super().__init__(f"{prop}={self.shown}: {allowed}")


def hidden(value: Any) -> str:
    """How a secret value appears in an error: its length, never its characters."""
    length = len(value) if isinstance(value, str) else 0
    return f"<hidden, {length} characters>"


def is_token(value: Any) -> bool:
    """True for a Terraform token (a reference resolved at plan time), e.g. ``var.string_value``."""
    # Imported here: the checks in this module serve the stacks' parameter parsing too, which
    # runs before cdktf (and its Node.js process) is loaded.
    from cdktf import Token

    return isinstance(value, str) and Token.is_unresolved(value)


def dns_label(prop: str, value: Any, *, max_length: int = 63, why: str = "") -> str:
    """A DNS label (RFC 1123) of at most ``max_length`` characters; ``why`` says where the limit comes from."""
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= max_length
        or not DNS_LABEL.match(value)
    ):
        raise InvalidValue(
            prop,
            value,
            f"a DNS label of 1 to {max_length} characters: lowercase letters, digits and '-', "
            f"starting and ending with a letter or digit{why}",
        )
    return value


def dns_subdomain(prop: str, value: Any, *, max_length: int = 253) -> str:
    """Dot-separated DNS labels, at most ``max_length`` characters (resource names, domains)."""
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= max_length
        or not DNS_SUBDOMAIN.match(value)
        or any(len(part) > 63 for part in value.split("."))
    ):
        raise InvalidValue(
            prop,
            value,
            f"a DNS name of at most {max_length} characters: dot-separated labels of lowercase "
            "letters, digits and '-'",
        )
    return value


def optional_dns_subdomain(prop: str, value: Any) -> str | None:
    return None if value is None else dns_subdomain(prop, value)


def integer(prop: str, value: Any, *, minimum: int, maximum: int) -> int:
    """An int in [minimum, maximum]; ``True``/``False`` are refused although Python calls them ints."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidValue(prop, value, f"an integer from {minimum} to {maximum}")
    return value


def port(prop: str, value: Any) -> int:
    return integer(prop, value, minimum=1, maximum=65535)


def boolean(prop: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue(prop, value, "True or False")
    return value


def repository_required(
    prop: str, value: Any, repository: Any, *, repository_prop: str = "notebook_repository"
) -> bool:
    """IPYTHON_REPOSITORY_REQUIRED: a boolean, and True only with a repository to require."""
    boolean(prop, value)
    if value and not repository:
        raise InvalidValue(
            prop, value, f"False unless {repository_prop} is given (there is nothing to require)"
        )
    return value


def quantity(prop: str, value: Any) -> str:
    """A positive Kubernetes quantity such as ``1Gi``, ``500m`` or ``2``."""
    match = QUANTITY.match(value) if isinstance(value, str) else None
    if match is None or float(match["number"]) == 0:
        raise InvalidValue(
            prop, value, "a positive Kubernetes quantity such as 1Gi, 512Mi, 500m or 2"
        )
    return value


# -- the notebook repository (IPYTHON_NOTEBOOK_REPOSITORY) --------------------------------------
# The same rules as the image's own check (image/ipython_roles/repository_source.py), written out
# again because the image and the constructs share no code; tests/test_repository_urls.py holds
# one table of values that both must accept or refuse alike.

#: Longest accepted value (URL and #ref), as in the image.
MAX_REPOSITORY_LENGTH = 2048
REPOSITORY_SCHEMES = ("https", "http", "git", "ssh", "file")
#: Schemes whose user name or password is a credential (a token given as the user name, too).
CREDENTIAL_SCHEMES = ("https", "http")
HIDDEN_CREDENTIALS = "<hidden>"
REPOSITORY_OPTION_LIKE = (
    "a git URL whose host and user name do not start with '-' (git and ssh would read them as options)"
)
REPOSITORY_NO_USER = (
    "a git:// or file:// URL without user name or password (git:// has no authentication; "
    "for a private repository use https://TOKEN@host/path)"
)
REPOSITORY_NO_SSH_PASSWORD = (
    "an ssh URL without password (ssh authenticates with a key; for a private repository use "
    "https://TOKEN@host/path)"
)
REPOSITORY_FILE_HOST = "a file:// URL naming a path in the container: file:///path"
REPOSITORY_ENCODING_HINT = " (in a user name or password, write '/' as %2F and '#' as %23)"
REPOSITORY_REF_HINT = " (a ref has letters, digits, '.', '_', '-', '/')"

_SCHEME_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$", re.S)
_TRANSPORT = re.compile(r"^[A-Za-z0-9+.-]*::")
_SCP_LIKE = re.compile(r"^(?:(?P<userinfo>[^/]*)@)?(?P<host>\[[^\]/]*\]|[^@/:\[\]]+):(?P<path>.+)$", re.S)
_HOST = re.compile(
    r"^(?:\[[0-9A-Fa-f:.]+\]"
    r"|(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)*\.?)$"
)
_SSH_USER = re.compile(r"^[A-Za-z0-9._][A-Za-z0-9._-]*$")
_GIT_REF = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$")


class _Refused(ValueError):
    """A repository URL that is not accepted; the argument says what is allowed."""


def _option_like(part: str) -> bool:
    from urllib.parse import unquote

    return part.startswith("-") or unquote(part).startswith("-")


def _check_repository_host(host: str, port: str | None) -> None:
    if _option_like(host):
        raise _Refused(REPOSITORY_OPTION_LIKE)
    if not _HOST.match(host):
        raise _Refused(REPOSITORY_ALLOWED)
    if port is not None and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise _Refused(REPOSITORY_ALLOWED)


def _check_ssh_user(userinfo: str) -> None:
    user, colon, _ = userinfo.partition(":")
    if _option_like(user):
        raise _Refused(REPOSITORY_OPTION_LIKE)
    if colon:
        raise _Refused(REPOSITORY_NO_SSH_PASSWORD)
    if not _SSH_USER.match(user):
        raise _Refused(REPOSITORY_ALLOWED)


def _split_host_port(hostport: str) -> tuple[str, str | None]:
    if hostport.startswith("["):
        host, bracket, rest = hostport.partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise _Refused(REPOSITORY_ALLOWED)
        return host + "]", rest[1:] if rest else None
    host, colon, port = hostport.partition(":")
    return host, port if colon else None


def _repository_scheme_url(scheme: str, rest: str) -> bool:
    """Checks a ``scheme://`` URL; True when it carries credentials (http(s) user part)."""
    if scheme not in REPOSITORY_SCHEMES:
        raise _Refused(REPOSITORY_ALLOWED)
    slash = rest.find("/")
    authority, path = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
    written_userinfo, at, hostport = authority.rpartition("@")
    userinfo = written_userinfo if at else None
    if scheme == "file":
        if userinfo is not None:
            raise _Refused(REPOSITORY_NO_USER)
        if hostport not in ("", "localhost") or not path:
            raise _Refused(REPOSITORY_FILE_HOST)
        return False
    host, port = _split_host_port(hostport)
    if userinfo is not None and _option_like(userinfo.partition(":")[0]):
        raise _Refused(REPOSITORY_OPTION_LIKE)
    try:
        _check_repository_host(host, port)
    except _Refused as refused:
        hint = REPOSITORY_ENCODING_HINT if "@" in rest and refused.args[0] == REPOSITORY_ALLOWED else ""
        raise _Refused(refused.args[0] + hint) from None
    if userinfo is None:
        return False
    if scheme == "git":
        raise _Refused(REPOSITORY_NO_USER)
    if scheme == "ssh":
        _check_ssh_user(userinfo)
        return False
    if not userinfo.strip(":"):
        raise _Refused(REPOSITORY_ALLOWED)
    return True


def _repository_url_part(url: str) -> bool:
    match = _SCHEME_URL.match(url)
    if match:
        return _repository_scheme_url(match.group("scheme").lower(), match.group("rest"))
    if url.startswith("/"):
        if len(url) == 1:
            raise _Refused(REPOSITORY_ALLOWED)
        return False
    if _TRANSPORT.match(url):
        raise _Refused(REPOSITORY_ALLOWED)
    scp = _SCP_LIKE.match(url)
    if scp is None:
        raise _Refused(REPOSITORY_OPTION_LIKE if url.startswith("-") else REPOSITORY_ALLOWED)
    if scp.group("userinfo") is not None:
        _check_ssh_user(scp.group("userinfo"))
    _check_repository_host(scp.group("host"), None)
    return False


def redacted_repository(value: str) -> str:
    """A repository value with everything before the host's ``@`` hidden (the last ``@``, so a
    password holding one is hidden whole); for errors, also of values that are refused."""
    match = _SCHEME_URL.match(value)
    head, rest = (value[: match.start("rest")], match.group("rest")) if match else ("", value)
    if "@" not in rest:
        return value
    return f"{head}{HIDDEN_CREDENTIALS}@{rest.rpartition('@')[2]}"


def shown_repository(value: str, *, quoted: bool = True) -> str:
    """How a repository value appears in an error: credentials hidden, a long one shortened,
    quoted like other prop values (``quoted=False`` for an environment variable's)."""
    shown = redacted_repository(value)
    if len(shown) > 100:
        shown = f"{shown[:60]}...({len(value)} characters)"
    return repr(shown) if quoted else shown


def _valid_git_ref(ref: str) -> bool:
    return (
        bool(_GIT_REF.match(ref))
        and ".." not in ref
        and "//" not in ref
        and not ref.endswith(("/", ".", ".lock"))
    )


def repository_has_credentials(value: str) -> bool:
    """True for an accepted http(s) URL with a user name or password (a token); raises
    ``ValueError`` (``_Refused``) for a value that is not accepted. See :func:`repository_url`."""
    if len(value) > MAX_REPOSITORY_LENGTH:
        raise _Refused(f"at most {MAX_REPOSITORY_LENGTH} characters (this one has {len(value)})")
    if not value or any(ch.isspace() for ch in value) or not value.isprintable():
        raise _Refused(REPOSITORY_ALLOWED)
    url, hash_sign, ref = value.partition("#")
    if hash_sign and not _valid_git_ref(ref):
        raise _Refused(REPOSITORY_ALLOWED + (REPOSITORY_ENCODING_HINT if "@" in ref else REPOSITORY_REF_HINT))
    return _repository_url_part(url)


def repository_url(prop: str, value: Any) -> str | None:
    """``None`` (no repository) or a git URL the image can clone, optionally ``URL#ref``.

    The rules are the image's (see its repository_source): https, http, git, ssh, file URLs,
    ``[user@]host:path`` and absolute paths, at most 2048 characters, no whitespace, no host or
    user name starting with ``-`` (also percent-encoded), no ``transport::`` helper, a user
    name only in ssh forms and a password only in http(s) URLs. The error hides whatever
    precedes the host's ``@``. Whether a literal URL may carry credentials is the caller's
    business (the constructs refuse that: see ``repository.repository_env``).
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValue(prop, value, REPOSITORY_ALLOWED)
    try:
        repository_has_credentials(value)
    except _Refused as refused:
        raise InvalidValue(
            prop, redacted_repository(value), refused.args[0], shown=shown_repository(value)
        ) from None
    return value


def image(prop: str, value: Any) -> str:
    if not isinstance(value, str) or not value or re.search(r"\s", value):
        raise InvalidValue(
            prop,
            value,
            "a container image reference such as ghcr.io/ipython-k8s/ipython-notebook:0.1.0 "
            "(not empty, no spaces)",
        )
    return value


def user_password(prop: str, value: Any, *, min_length: int) -> str:
    """A password the user chose; the error shows its length, never its characters."""
    if not isinstance(value, str) or len(value) < min_length:
        raise InvalidValue(
            prop, value, f"a password of at least {min_length} characters", shown=hidden(value)
        )
    return value


def one_of(prop: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidValue(prop, value, "one of " + ", ".join(allowed))
    return value


def terraform_identifier(prop: str, value: Any) -> str:
    """A name Terraform accepts for an output or variable."""
    if not isinstance(value, str) or not TERRAFORM_IDENTIFIER.match(value):
        raise InvalidValue(
            prop, value, "a Terraform name: a letter or '_', then letters, digits, '_' or '-'"
        )
    return value


def string_map(prop: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidValue(prop, value, "a dict of non-empty string keys to string values")
    return dict(value)


def instance(prop: str, value: Any, cls: type, allowed: str) -> Any:
    if not isinstance(value, cls):
        raise InvalidValue(prop, value, allowed)
    return value


#: One trusted proxy (the image's IPYTHON_TRUSTED_PROXIES takes the same, comma-separated).
IP_NETWORK_ALLOWED = (
    "an IP address or CIDR network, IPv4 or IPv6 (10.244.0.0/16, fd00::/8, 192.0.2.7), no host bits "
    "after a network's prefix, not 0.0.0.0/0 or ::/0 (every client could pick its address)"
)


def ip_networks(prop: str, value: Any) -> tuple[str, ...]:
    """A tuple of IP addresses or CIDR networks (the image's rule: login_throttle.proxy_network)."""
    if not isinstance(value, tuple):
        raise InvalidValue(prop, value, "a tuple of IP addresses or CIDR networks, e.g. ('10.244.0.0/16',)")
    for item in value:
        try:
            network = ipaddress.ip_network(item, strict=True) if isinstance(item, str) else None
        except ValueError:
            network = None
        if network is None or network.prefixlen == 0:
            raise InvalidValue(prop, item, IP_NETWORK_ALLOWED)
    return value


IMAGE_PULL_POLICIES = ("IfNotPresent", "Always", "Never")
