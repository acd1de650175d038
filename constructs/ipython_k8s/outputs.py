"""Terraform outputs with names users can type.

WHY static names: cdktf names an output after its construct path plus a hash unless told
otherwise; ``terraform output -raw viewer_password`` needs a name that is documented and stable.
The construct's ``output_prefix`` (default: its construct id) keeps several viewers in one stack
apart: ``alice_url``, ``bob_url``.
"""

from __future__ import annotations

from typing import Any, cast

from cdktf import TerraformOutput

from constructs import Construct

#: Construct id of the child that holds a construct's outputs (so that an output named
#: ``cluster_label`` cannot collide with a child resource called ``cluster_label``).
OUTPUTS_ID = "outputs"


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
