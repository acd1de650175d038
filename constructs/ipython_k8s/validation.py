"""Validation of construct props: one-line errors naming the prop, the value and what is allowed.

WHY: a bad prop must stop ``cdktf synth`` before anything is written, with a message a user can act
on. ``InvalidValue`` keeps the three parts apart so that the stacks can re-word the same error for
an environment variable (``error: IPYTHON_X=<value>: <allowed>``).
"""

from __future__ import annotations

import re
from typing import Any

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
#: Kubernetes resource quantity (``resource.Quantity``): a decimal number with a binary or
#: decimal suffix or an exponent.
QUANTITY = re.compile(
    r"^(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?$"
)
_REF = r"(?:#[A-Za-z0-9._/-]+)?"
REPOSITORY_URL = re.compile(
    r"^(?:(?:https?|ssh|git|file)://[^\s#]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s#/][^\s#]*)" + _REF + "$"
)
TERRAFORM_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")

REPOSITORY_ALLOWED = (
    "a git URL with https://, http://, ssh://, git:// or file://, or git@host:path, "
    "optionally followed by #branch-or-tag, with no spaces"
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


def repository_url(prop: str, value: Any) -> str | None:
    """``None`` (no repository) or a git URL the image can clone, optionally ``URL#ref``."""
    if value is None:
        return None
    if not isinstance(value, str) or not REPOSITORY_URL.match(value):
        raise InvalidValue(prop, value, REPOSITORY_ALLOWED)
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


IMAGE_PULL_POLICIES = ("IfNotPresent", "Always", "Never")
