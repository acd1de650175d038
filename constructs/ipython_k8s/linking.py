"""How a viewer finds the cluster it uses: the cluster label is all it needs.

WHY a label and not an object: a viewer and its cluster may live in different stacks, apps or
repositories. From the label follow the controller's Service (``ipcluster-<cluster>``, the host
the viewer's ``Client()`` connects to) and the key Secret (``ipcluster-<cluster>-key``) that
signs the messages, both in the viewer's namespace. Within one cdktf app an ``EngineCluster``
object can be passed instead; its label may then be generated, and cdktf turns the reference
into a cross-stack output when the viewer is in another stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from . import naming
from .labels import Label

#: The key under which the cluster's Secret holds the message-signing key.
CLUSTER_KEY_SECRET_KEY = "key"


@dataclass(frozen=True)
class ClusterLink:
    """A cluster as seen from a viewer: label, namespace (None: the viewer's), key Secret,
    encryption (None: unknown, the viewer's own ``cluster_encryption`` prop decides) and the
    name of its shared ReadWriteMany claim (None: the cluster has no shared storage)."""

    label: Label
    namespace: str | None = None
    key_secret_name: str | None = None
    encryption: str | None = None
    shared_claim: str | None = None

    @property
    def controller_host(self) -> str:
        return naming.controller_service_name(self.label.value)

    @property
    def key_secret(self) -> str:
        return self.key_secret_name or naming.cluster_key_secret_name(self.label.value)


@runtime_checkable
class IEngineCluster(Protocol):
    """What a viewer needs of a cluster: satisfied by an ``EngineCluster`` of this app and by
    ``EngineCluster.from_label(scope, id, cluster_label=...)`` for one deployed elsewhere."""

    @property
    def link(self) -> ClusterLink: ...
