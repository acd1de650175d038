"""The Kubernetes objects a run declares, and the view of everything that is up locally.

WHY a view across workspaces: in a cluster, a viewer brought up by one ``terraform apply``
finds the cluster key Secret and the controller Service made by another, because they share a
namespace. Locally the same holds: the objects of this run plus the objects every other
workspace applied earlier (from the state file) form the namespace a container's
``secretKeyRef`` and a Service's selector are resolved in. Two workspaces declaring the same
object is the "already exists" error Kubernetes would give.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import LocalRunError


@dataclass(frozen=True)
class KubeObject:
    kind: str
    namespace: str
    name: str
    workspace: str
    stack: str
    address: str  # resource type.name in the stack
    path: str  # the construct path, for messages
    body: dict[str, Any]  # the evaluated Terraform attributes

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)

    @property
    def metadata(self) -> dict[str, Any]:
        return block(self.body.get("metadata")) or {}

    @property
    def spec(self) -> dict[str, Any]:
        return block(self.body.get("spec")) or {}

    @property
    def pod_template(self) -> PodTemplate:
        """The pod template of a Deployment (``spec.template``; empty parts when missing)."""
        template = block(self.spec.get("template")) or {}
        return PodTemplate(metadata=block(template.get("metadata")) or {}, spec=block(template.get("spec")) or {})

    def describe(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name} ({self.stack}: {self.path})"

    def to_state(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "namespace": self.namespace, "name": self.name, "stack": self.stack,
            "address": self.address, "path": self.path, "body": self.body,
        }

    @classmethod
    def from_state(cls, workspace: str, data: dict[str, Any]) -> KubeObject:
        return cls(workspace=workspace, **data)


@dataclass(frozen=True)
class PodTemplate:
    """A Deployment's pod template, its nested blocks unwrapped once."""

    metadata: dict[str, Any]
    spec: dict[str, Any]

    @property
    def labels(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in (self.metadata.get("labels") or {}).items()}

    @property
    def annotations(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in (self.metadata.get("annotations") or {}).items()}

    @property
    def containers(self) -> list[dict[str, Any]]:
        return blocks(self.spec.get("container"))

    @property
    def init_containers(self) -> list[dict[str, Any]]:
        return blocks(self.spec.get("init_container"))


def block(value: Any) -> Any:
    """A nested block as one object: JSON writes it as an object or a one-element list."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def blocks(value: Any) -> list[dict[str, Any]]:
    """A repeated block as a list (an object alone is one block)."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    return list(value)


def make_object(kind: str, *, workspace: str, stack: str, address: str, path: str, body: dict[str, Any]) -> KubeObject:
    metadata = block(body.get("metadata")) or {}
    name = metadata.get("name")
    if not name:
        raise LocalRunError(f"{stack}: {address}: a {kind} without metadata.name (generate_name is not supported locally)")
    return KubeObject(
        kind=kind,
        namespace=metadata.get("namespace") or "default",
        name=name,
        workspace=workspace,
        stack=stack,
        address=address,
        path=path,
        body=body,
    )


@dataclass
class Namespaces:
    """Every object that is (or is about to be) up, by (kind, namespace, name)."""

    objects: dict[tuple[str, str, str], KubeObject] = field(default_factory=dict)

    def add(self, obj: KubeObject) -> None:
        existing = self.objects.get(obj.key)
        if existing is not None and (existing.workspace, existing.stack) != (obj.workspace, obj.stack):
            raise LocalRunError(
                f"{obj.kind} {obj.namespace}/{obj.name} of {obj.stack} (workspace {obj.workspace}) already exists: "
                f"{existing.stack} of workspace {existing.workspace} declares it; give this one other labels "
                f"(e.g. IPYTHON_USER_LABEL / IPYTHON_CLUSTER_LABEL) or bring up only the other stack (--stack)"
            )
        self.objects[obj.key] = obj

    def extend(self, objects: Iterable[KubeObject]) -> None:
        for obj in objects:
            self.add(obj)

    def get(self, kind: str, namespace: str, name: str) -> KubeObject | None:
        return self.objects.get((kind, namespace, name))

    def of_kind(self, kind: str, namespace: str | None = None) -> list[KubeObject]:
        return [o for o in self.objects.values() if o.kind == kind and (namespace is None or o.namespace == namespace)]
