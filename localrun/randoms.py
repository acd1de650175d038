"""Values of the ``random_*`` resources, generated as the hashicorp/random provider does.

WHY the provider's algorithm: the stacks give the cluster key, the viewer password and the
labels as ``random_password``/``random_string`` with length, character classes and minimums;
a local run must honour exactly those (a label must be a DNS label, a key must have its
length), so the rules of provider 3.x are reproduced: the minimum of each class first, the
rest from the union of the enabled classes, then a random permutation. Every argument is
"force new" in the provider, so a changed configuration gives a new value (``state.py`` keeps
the old one while the configuration is unchanged).
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from .errors import LocalRunError

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = "abcdefghijklmnopqrstuvwxyz"
NUMERIC = "0123456789"
DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?"


class RandomConfigError(LocalRunError):
    """A random resource whose arguments the provider would reject too."""


def _flag(config: Mapping[str, Any], name: str, default: bool = True) -> bool:
    value = config.get(name)
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def _count(config: Mapping[str, Any], name: str, default: int = 0) -> int:
    value = config.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise RandomConfigError(f"{name}={value!r}: a whole number is required") from None
    if number < 0:
        raise RandomConfigError(f"{name}={value!r}: must not be negative")
    return number


def random_characters(config: Mapping[str, Any], *, address: str) -> str:
    """The ``result`` of random_string / random_password for these arguments."""
    length = _count(config, "length", default=-1)
    if length < 1:
        raise RandomConfigError(f"{address}: length={config.get('length')!r}: at least 1 is required")
    numeric = _flag(config, "numeric", _flag(config, "number", True))  # `number` is the old name
    special_chars = config.get("override_special") or DEFAULT_SPECIAL
    classes = [
        (UPPER, _flag(config, "upper"), _count(config, "min_upper")),
        (LOWER, _flag(config, "lower"), _count(config, "min_lower")),
        (NUMERIC, numeric, _count(config, "min_numeric")),
        (special_chars, _flag(config, "special"), _count(config, "min_special")),
    ]
    minimums = sum(minimum for _, _, minimum in classes)
    if minimums > length:
        raise RandomConfigError(
            f"{address}: length={length} is less than the sum of the min_* arguments ({minimums})"
        )
    pool = "".join(chars for chars, enabled, _ in classes if enabled)
    if not pool and length > minimums:
        raise RandomConfigError(f"{address}: every character class is disabled (upper, lower, numeric, special)")
    # As the provider does: the minimums are drawn from their class even when the class is
    # otherwise disabled, the remainder from the enabled classes, then everything shuffled.
    chosen = [secrets.choice(chars) for chars, _, minimum in classes for _ in range(minimum)]
    chosen += [secrets.choice(pool) for _ in range(length - len(chosen))]
    shuffled = []
    while chosen:
        shuffled.append(chosen.pop(secrets.randbelow(len(chosen))))
    return "".join(shuffled)


def _random_string(config: Mapping[str, Any], address: str) -> dict[str, Any]:
    result = random_characters(config, address=address)
    return {"result": result, "id": result}


def _random_password(config: Mapping[str, Any], address: str) -> dict[str, Any]:
    # bcrypt_hash is left out on purpose: referencing it is a clear error (see stack evaluation).
    return {"result": random_characters(config, address=address), "id": "none"}


def _random_id(config: Mapping[str, Any], address: str) -> dict[str, Any]:
    byte_length = _count(config, "byte_length", default=-1)
    if byte_length < 1:
        raise RandomConfigError(f"{address}: byte_length={config.get('byte_length')!r}: at least 1 is required")
    prefix = config.get("prefix") or ""
    data = secrets.token_bytes(byte_length)
    b64_url = base64.urlsafe_b64encode(data).decode().rstrip("=")
    return {
        "id": b64_url,
        "b64_url": prefix + b64_url,
        "b64_std": prefix + base64.b64encode(data).decode(),
        "hex": prefix + data.hex(),
        "dec": prefix + str(int.from_bytes(data, "big")),
    }


def _random_integer(config: Mapping[str, Any], address: str) -> dict[str, Any]:
    low, high = int(config["min"]), int(config["max"])
    if high < low:
        raise RandomConfigError(f"{address}: max={high} is less than min={low}")
    value = low + secrets.randbelow(high - low + 1)
    return {"result": value, "id": str(value)}


def _random_uuid(config: Mapping[str, Any], address: str) -> dict[str, Any]:
    value = str(uuid.uuid4())
    return {"result": value, "id": value}


GENERATORS: dict[str, Callable[[Mapping[str, Any], str], dict[str, Any]]] = {
    "random_string": _random_string,
    "random_password": _random_password,
    "random_id": _random_id,
    "random_integer": _random_integer,
    "random_uuid": _random_uuid,
}


def generate(resource_type: str, config: Mapping[str, Any], *, address: str) -> dict[str, Any]:
    """The computed attributes of a new random resource."""
    return GENERATORS[resource_type](config, address)
