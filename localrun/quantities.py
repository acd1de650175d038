"""Kubernetes resource quantities ("250m", "1Gi") as the numbers an engine takes.

WHY: the Deployments declare CPU and memory limits; a container engine enforces the same
limits (``nano_cpus``, ``mem_limit``), so a notebook that would be OOM-killed in the cluster is
OOM-killed in the preview too.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from .errors import LocalRunError

_SUFFIXES = {
    "": 1, "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")


def parse_quantity(value: str | int | float, *, where: str) -> Decimal:
    match = _QUANTITY.match(str(value).strip())
    if match is None:
        raise LocalRunError(f"{where}: {value!r} is not a Kubernetes quantity")
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        raise LocalRunError(f"{where}: {value!r} is not a Kubernetes quantity") from None
    return number * _SUFFIXES[match.group(2) or ""]


def nano_cpus(value: str | int | float, *, where: str) -> int:
    return int(parse_quantity(value, where=where) * 10**9)


def memory_bytes(value: str | int | float, *, where: str) -> int:
    return int(parse_quantity(value, where=where))
