"""Values Terraform generates once and keeps in its state: labels, passwords, cluster keys.

WHY Terraform and not Python: a value generated at synth time would be written into
cdk.tf.json and change on every synth; ``random_*`` resources are generated at the first apply
and stay the same afterwards. Protect the Terraform state like a secret: it holds them.
"""

from __future__ import annotations

from constructs import Construct

from .defaults import RANDOM_LABEL_LENGTH
from .labels import Label
from .provider_import import random
from .providers import ensure_random_provider


def generated_label(scope: Construct, id: str) -> Label:
    """A ``random_string`` of 5 lowercase letters and digits: a valid DNS label by construction."""
    ensure_random_provider(scope)
    resource = random("string_resource").StringResource(
        scope,
        id,
        length=RANDOM_LABEL_LENGTH,
        lower=True,
        upper=False,
        numeric=True,
        special=False,
    )
    return Label(value=resource.result, length=RANDOM_LABEL_LENGTH, generated=True)


def generated_password(scope: Construct, id: str, *, length: int) -> str:
    """A ``random_password`` of letters and digits (no special characters: they break URLs and
    shell quoting, and the length gives the strength); returns its ``result`` token."""
    ensure_random_provider(scope)
    resource = random("password").Password(
        scope, id, length=length, special=False, min_lower=1, min_upper=1, min_numeric=1
    )
    return resource.result
