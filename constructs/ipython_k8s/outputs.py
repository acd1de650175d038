"""Terraform outputs with names users can type, and a guard against two constructs claiming one.

WHY static names: cdktf names an output after its construct path plus a hash unless told
otherwise; ``terraform output -raw viewer_password`` needs a name that is documented and stable.
The construct's ``output_prefix`` (default: its construct id) keeps several viewers in one stack
apart: ``alice_url``, ``bob_url``.

WHY a guard: a static output id is unique only by convention. A user's construct that wraps a
cluster ``cluster`` and a viewer ``viewer``, used twice in one stack, would make two outputs
``cluster_label``, and cdktf writes the second over the first without a word. So every static
output a construct of this library makes is reserved per stack, before the construct has any
child; a second claim on a name is an ``OutputClash`` naming both construct paths and the ways
out (``output_prefix=...`` or ``outputs=False``).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any, cast

from cdktf import TerraformOutput, TerraformStack

from constructs import Construct

from .validation import InvalidValue, terraform_identifier

#: Construct id of the child that holds a construct's outputs (so that an output named
#: ``cluster_label`` cannot collide with a child resource called ``cluster_label``).
OUTPUTS_ID = "outputs"

#: stack -> {output name: path of the construct that reserved it}
_RESERVED: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()


class OutputClash(InvalidValue):
    """Two constructs in one stack would make an output of the same name."""


def output_prefix_of(id: str, output_prefix: str | None) -> str:
    """The prefix of a construct's outputs: ``output_prefix``, else its id (a Terraform name)."""
    return terraform_identifier("output_prefix", id if output_prefix is None else output_prefix)


def reserve_outputs(scope: Construct, id: str, prefix: str, names: Iterable[str]) -> None:
    """Claim ``<prefix>_<name>`` for each name in the stack of ``scope`` for the construct ``id``
    about to be made there; raise ``OutputClash`` (nothing reserved) when one is taken."""
    stack = TerraformStack.of(scope)
    reserved = _RESERVED.setdefault(stack, {})
    path = f"{scope.node.path}/{id}" if scope.node.path else id
    wanted = [f"{prefix}_{name}" for name in names]
    taken = [name for name in wanted if name in reserved]
    if taken:
        raise OutputClash(
            "output_prefix",
            prefix,
            f"a prefix no other construct in stack {stack.node.id!r} uses: output {taken[0]!r} is "
            f"already made by {reserved[taken[0]]!r}; give {path!r} output_prefix=... (e.g. "
            f"{scope.node.id + '_' + prefix!r}) or outputs=False",
        )
    for name in wanted:
        reserved[name] = path


def add_output(
    scope: Construct, prefix: str, name: str, value: Any, *, description: str, sensitive: bool = False
) -> TerraformOutput:
    """The output ``<prefix>_<name>``, under the child ``outputs`` of ``scope``."""
    holder = cast("Construct | None", scope.node.try_find_child(OUTPUTS_ID)) or Construct(scope, OUTPUTS_ID)
    return TerraformOutput(
        holder,
        f"{prefix}_{name}",
        value=value,
        description=description,
        sensitive=sensitive or None,
        static_id=True,
    )
