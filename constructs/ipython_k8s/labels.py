"""User and cluster labels, as in the seed: a given DNS label, or a generated ``random_string``.

WHY random: the seed generated a 5-character label when none was given so that several people
can deploy side by side without picking names. Here the label is a Terraform ``random_string``
(5 lowercase letters and digits, see ``generated.generated_label``), kept in the Terraform state,
so it stays the same on every later deploy; the derived names are then Terraform
interpolations, known only at plan time.

This module is plain Python (no cdktf): the stacks check their parameters with it before
anything is synthesized.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import naming, validation
from .defaults import RANDOM_LABEL_LENGTH


@dataclass(frozen=True)
class Label:
    """A user or cluster label: a literal, or a Terraform token of a generated one.

    ``length`` is exact for a literal and ``RANDOM_LABEL_LENGTH`` for a generated label, which is
    all the name budgets need.
    """

    value: str
    length: int
    generated: bool


def given_label(prop: str, value: object, *, max_length: int, why: str = "") -> Label:
    checked = validation.dns_label(prop, value, max_length=max_length, why=why)
    return Label(value=checked, length=len(checked), generated=False)



def cluster_label(prop: str, value: object) -> Label:
    """A given cluster label: ``ipcluster-<cluster>-controller`` must fit in 63 characters."""
    return given_label(
        prop,
        value,
        max_length=naming.MAX_CLUSTER_LABEL_LENGTH,
        why=f", so that '{naming.LONGEST_CLUSTER_NAME}' stays within {naming.MAX_NAME_LENGTH} characters",
    )


def viewer_labels(
    *, user_prop: str, user: object, cluster_prop: str, cluster: object
) -> tuple[Label | None, Label | None]:
    """Check a viewer's user and cluster labels against the name budget; None stands for generated.

    ``cluster`` is a literal label, an already resolved ``Label`` (an ``EngineCluster``'s) or
    None. Together the labels have at most 43 characters so that
    ``nbviewer-<user>-<cluster>-workspace`` fits in 63; a generated label counts 5.
    """
    limit = f", so that '{naming.LONGEST_VIEWER_NAME}' stays within {naming.MAX_NAME_LENGTH} characters"
    if isinstance(cluster, Label):
        cluster_checked: Label | None = cluster
    elif cluster is None:
        cluster_checked = None
    else:
        user_length = RANDOM_LABEL_LENGTH if user is None else 1
        cluster_checked = given_label(
            cluster_prop,
            cluster,
            max_length=min(
                naming.MAX_CLUSTER_LABEL_LENGTH, naming.MAX_VIEWER_LABELS_LENGTH - user_length
            ),
            why=limit + (" with a generated user label" if user is None else ""),
        )
    cluster_length = RANDOM_LABEL_LENGTH if cluster_checked is None else cluster_checked.length
    if user is None:
        if cluster_length + RANDOM_LABEL_LENGTH > naming.MAX_VIEWER_LABELS_LENGTH:
            raise validation.InvalidValue(
                cluster_prop,
                cluster_checked.value if cluster_checked else cluster,
                f"a cluster label of at most {naming.MAX_VIEWER_LABELS_LENGTH - RANDOM_LABEL_LENGTH}"
                f" characters{limit} with a generated user label",
            )
        return None, cluster_checked
    user_checked = given_label(
        user_prop,
        user,
        max_length=naming.max_user_label_length(cluster_length),
        why=f"{limit} next to a {cluster_length}-character cluster label",
    )
    return user_checked, cluster_checked
