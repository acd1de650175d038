"""Where a role's pods run and what they may use beyond CPU and memory: ``Placement``.

WHY one dataclass for every role: the viewer, the controller and each engine group are placed
the same way (node selector, tolerations, affinity, extra resource limits such as GPUs, image
pull secrets, priority class); ``NotebookViewerProps.placement``,
``EngineClusterProps.controller_placement`` / ``engine_placement`` and ``EngineGroup.placement``
all take one. The default, ``NO_PLACEMENT``, sets nothing: the pod spec is what it was without
placement.

A ``Placement`` is validated when it is created (``InvalidValue``, the prop named
``placement.<field>``), before any construct is; lists given for tuples are kept as tuples.

This module is plain Python (no cdktf); ``pod_spec_placement`` returns the provider's pod spec
arguments as plain dicts (jsii accepts a dict wherever a struct is expected).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from . import validation

#: A label key or extended resource name: an optional DNS-subdomain prefix and ``/``, then a name
#: of at most 63 characters (Kubernetes' qualified name).
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
#: A label value: empty, or at most 63 characters of the same kind.
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
NODE_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
#: The resource name of NVIDIA's device plugin; ``gpu_resource`` names another (``amd.com/gpu``).
DEFAULT_GPU_RESOURCE = "nvidia.com/gpu"
#: Upper bound for ``gpus``: a guard against typos, above the 8 or 16 GPUs of the largest nodes.
MAX_GPUS = 16
#: The node label that makes ``spread=True`` prefer one pod per node.
HOSTNAME_TOPOLOGY = "kubernetes.io/hostname"

_QUALIFIED_ALLOWED = (
    "a Kubernetes qualified name: an optional DNS prefix and '/', then 1 to 63 letters, digits, "
    "'-', '_' or '.', starting and ending with a letter or digit"
)


def qualified_name(prop: str, value: Any) -> str:
    """A label key, taint key or resource name such as ``nvidia.com/gpu`` or ``gpu``."""
    if isinstance(value, str):
        prefix, slash, name = value.rpartition("/")
        if (
            len(name) <= 63
            and _QUALIFIED_NAME.match(name)
            and (not slash or (prefix and validation.DNS_SUBDOMAIN.match(prefix) and len(prefix) <= 253))
        ):
            return value
    raise validation.InvalidValue(prop, value, _QUALIFIED_ALLOWED)


def label_value(prop: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
        raise validation.InvalidValue(
            prop, value, "a label value: at most 63 letters, digits, '-', '_' or '.', starting and "
            "ending with a letter or digit (or empty)"
        )
    return value


def _tuple(owner: object, name: str, item_type: type, allowed: str, *, within: str = "placement") -> tuple[Any, ...]:
    """The field as a tuple (a list is accepted and kept as a tuple), every item of ``item_type``."""
    value = getattr(owner, name)
    if isinstance(value, list):
        value = tuple(value)
        object.__setattr__(owner, name, value)
    if not isinstance(value, tuple) or not all(isinstance(item, item_type) for item in value):
        raise validation.InvalidValue(f"{within}.{name}", value, allowed)
    return value


@dataclass(frozen=True, kw_only=True)
class Toleration:
    """A taint the pods tolerate: ``key`` (None: every key), ``value`` (None: any value, the
    ``Exists`` operator; given: ``Equal``), ``effect`` (None: every effect; ``NoSchedule``,
    ``PreferNoSchedule`` or ``NoExecute``) and, for ``NoExecute`` only, how many seconds a
    running pod stays once the taint appears (None: for ever)."""

    key: str | None = None
    value: str | None = None
    effect: str | None = None
    toleration_seconds: int | None = None

    def __post_init__(self) -> None:
        if self.key is not None:
            qualified_name("placement.tolerations.key", self.key)
        if self.value is not None:
            if self.key is None:
                raise validation.InvalidValue(
                    "placement.tolerations.value", self.value, "None when key is None (Exists matches every taint)"
                )
            label_value("placement.tolerations.value", self.value)
        if self.effect is not None:
            validation.one_of("placement.tolerations.effect", self.effect, TAINT_EFFECTS)
        if self.toleration_seconds is not None:
            validation.integer("placement.tolerations.toleration_seconds", self.toleration_seconds,
                               minimum=0, maximum=365 * 24 * 3600)
            if self.effect != "NoExecute":
                raise validation.InvalidValue(
                    "placement.tolerations.toleration_seconds", self.toleration_seconds,
                    "None unless effect is 'NoExecute'",
                )

    def as_provider(self) -> dict[str, str]:
        result = {"operator": "Exists" if self.value is None else "Equal"}
        for name in ("key", "value", "effect"):
            if getattr(self, name) is not None:
                result[name] = getattr(self, name)
        if self.toleration_seconds is not None:
            result["toleration_seconds"] = str(self.toleration_seconds)
        return result


@dataclass(frozen=True, kw_only=True)
class NodeRequirement:
    """A node label requirement: ``key`` ``operator`` (``In``, ``NotIn``, ``Exists``,
    ``DoesNotExist``, ``Gt``, ``Lt``) ``values`` (In/NotIn: at least one; Exists/DoesNotExist:
    none; Gt/Lt: one integer)."""

    key: str
    operator: str = "In"
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        qualified_name("placement.affinity.key", self.key)
        validation.one_of("placement.affinity.operator", self.operator, NODE_OPERATORS)
        values = _tuple(self, "values", str, "a tuple of label values", within="placement.affinity")
        for value in values:
            label_value("placement.affinity.values", value)
        count_ok = {
            "In": len(values) >= 1, "NotIn": len(values) >= 1, "Exists": not values, "DoesNotExist": not values,
        }.get(self.operator, len(values) == 1 and values[0].lstrip("-").isdigit())
        if not count_ok:
            raise validation.InvalidValue(
                "placement.affinity.values", values,
                {"Exists": "no values for Exists", "DoesNotExist": "no values for DoesNotExist",
                 "Gt": "one integer for Gt", "Lt": "one integer for Lt"}.get(
                    self.operator, f"at least one value for {self.operator}"),
            )

    def as_provider(self) -> dict[str, Any]:
        result: dict[str, Any] = {"key": self.key, "operator": self.operator}
        if self.values:
            result["values"] = list(self.values)
        return result


@dataclass(frozen=True, kw_only=True)
class NodePreference:
    """Nodes meeting all ``requirements`` are preferred with ``weight`` (1 to 100)."""

    weight: int
    requirements: tuple[NodeRequirement, ...]

    def __post_init__(self) -> None:
        validation.integer("placement.affinity.weight", self.weight, minimum=1, maximum=100)
        allowed = "a non-empty tuple of NodeRequirement"
        if not _tuple(self, "requirements", NodeRequirement, allowed, within="placement.affinity"):
            raise validation.InvalidValue("placement.affinity.requirements", (), allowed)


@dataclass(frozen=True, kw_only=True)
class Affinity:
    """Node affinity and spreading: the pods run only on nodes meeting every one of
    ``required_nodes``, prefer nodes by ``preferred_nodes``, and with ``spread`` prefer a node
    that runs no other pod of the same Deployment (preferred pod anti-affinity on
    ``kubernetes.io/hostname``)."""

    required_nodes: tuple[NodeRequirement, ...] = ()
    preferred_nodes: tuple[NodePreference, ...] = ()
    spread: bool = False

    def __post_init__(self) -> None:
        _tuple(self, "required_nodes", NodeRequirement, "a tuple of NodeRequirement", within="placement.affinity")
        _tuple(self, "preferred_nodes", NodePreference, "a tuple of NodePreference", within="placement.affinity")
        validation.boolean("placement.affinity.spread", self.spread)
        if not (self.required_nodes or self.preferred_nodes or self.spread):
            raise validation.InvalidValue(
                "placement.affinity", self, "at least one of required_nodes, preferred_nodes, spread "
                "(None for no affinity)", shown="Affinity()",
            )

    def as_provider(self, selector: dict[str, str]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        node: dict[str, Any] = {}
        if self.required_nodes:
            node["required_during_scheduling_ignored_during_execution"] = {"node_selector_term": [
                {"match_expressions": [r.as_provider() for r in self.required_nodes]}
            ]}
        if self.preferred_nodes:
            node["preferred_during_scheduling_ignored_during_execution"] = [
                {"weight": p.weight, "preference": {"match_expressions": [r.as_provider() for r in p.requirements]}}
                for p in self.preferred_nodes
            ]
        if node:
            result["node_affinity"] = node
        if self.spread:
            result["pod_anti_affinity"] = {"preferred_during_scheduling_ignored_during_execution": [{
                "weight": 100,
                "pod_affinity_term": {
                    "topology_key": HOSTNAME_TOPOLOGY,
                    "label_selector": [{"match_labels": dict(selector)}],
                },
            }]}
        return result


@dataclass(frozen=True, kw_only=True)
class Placement:
    """Where a role's pods run and what they may use beyond CPU and memory (each default sets
    nothing):

    - ``node_selector``: None; node labels the node must carry (``{"pool": "gpu"}``).
    - ``tolerations``: (); taints the pods tolerate (``Toleration``).
    - ``affinity``: None; node affinity and spreading (``Affinity``).
    - ``gpus``: 0; GPUs per container, a limit on ``gpu_resource``; a pod with GPUs also
      tolerates the taint ``<gpu_resource>:NoSchedule`` that GPU node pools carry (as
      Kubernetes' ExtendedResourceToleration admission would add).
    - ``gpu_resource``: ``nvidia.com/gpu``; the extended resource ``gpus`` counts (``amd.com/gpu``).
    - ``extra_limits``: None; further extended resources (``{"example.com/fpga": "1"}``), set as
      limits (Kubernetes makes the request equal); not ``cpu`` or ``memory`` (``Resources``).
    - ``image_pull_secrets``: (); Secrets with registry credentials for the image.
    - ``priority_class``: None; the PriorityClass of the pods (the cluster's default).
    """

    node_selector: dict[str, str] | None = None
    tolerations: tuple[Toleration, ...] = ()
    affinity: Affinity | None = None
    gpus: int = 0
    gpu_resource: str = DEFAULT_GPU_RESOURCE
    extra_limits: dict[str, str] | None = None
    image_pull_secrets: tuple[str, ...] = ()
    priority_class: str | None = None

    def __post_init__(self) -> None:
        if self.node_selector is not None:
            selector = validation.string_map("placement.node_selector", self.node_selector)
            if not selector:
                raise validation.InvalidValue("placement.node_selector", selector, "None or at least one label")
            for key, value in selector.items():
                qualified_name("placement.node_selector", key)
                label_value("placement.node_selector", value)
        _tuple(self, "tolerations", Toleration, "a tuple of Toleration")
        if self.affinity is not None:
            validation.instance("placement.affinity", self.affinity, Affinity, "None or an Affinity")
        validation.integer("placement.gpus", self.gpus, minimum=0, maximum=MAX_GPUS)
        self._extended("placement.gpu_resource", self.gpu_resource)
        if self.extra_limits is not None:
            limits = validation.string_map("placement.extra_limits", self.extra_limits)
            for name, amount in limits.items():
                self._extended("placement.extra_limits", name)
                validation.quantity(f"placement.extra_limits[{name!r}]", amount)
            if self.gpus and self.gpu_resource in limits:
                raise validation.InvalidValue(
                    "placement.extra_limits", limits, f"no {self.gpu_resource!r} when gpus is given"
                )
        for name in _tuple(self, "image_pull_secrets", str, "a tuple of Secret names"):
            validation.dns_subdomain("placement.image_pull_secrets", name)
        validation.optional_dns_subdomain("placement.priority_class", self.priority_class)

    @staticmethod
    def _extended(prop: str, name: Any) -> None:
        """An extended resource name: with a domain prefix (``nvidia.com/gpu``), not CPU or memory."""
        qualified_name(prop, name)
        if "/" not in name or name.startswith(("kubernetes.io/", "requests.")):
            raise validation.InvalidValue(
                prop, name, "an extended resource name with a domain prefix such as nvidia.com/gpu "
                "(cpu and memory are set by Resources)"
            )

    def limits(self) -> dict[str, str]:
        """The extended resources' limits (added to the container's CPU and memory limits)."""
        result = dict(self.extra_limits or {})
        if self.gpus:
            result[self.gpu_resource] = str(self.gpus)
        return result

    def all_tolerations(self) -> tuple[Toleration, ...]:
        """The tolerations, with the GPU taint's when there are GPUs (and none tolerates it yet)."""
        if not self.gpus or any(t.key in (None, self.gpu_resource) for t in self.tolerations):
            return self.tolerations
        return (*self.tolerations, Toleration(key=self.gpu_resource, effect="NoSchedule"))


#: No placement: the pod spec sets none of Placement's fields.
NO_PLACEMENT = Placement()


def pod_spec_placement(placement: Placement, selector: dict[str, str]) -> dict[str, Any]:
    """The provider's pod spec arguments for ``placement`` (only those it sets): node_selector,
    toleration, affinity, image_pull_secrets, priority_class_name."""
    result: dict[str, Any] = {}
    if placement.node_selector:
        result["node_selector"] = dict(placement.node_selector)
    tolerations = placement.all_tolerations()
    if tolerations:
        result["toleration"] = [t.as_provider() for t in tolerations]
    if placement.affinity is not None:
        result["affinity"] = placement.affinity.as_provider(selector)
    if placement.image_pull_secrets:
        result["image_pull_secrets"] = [{"name": name} for name in placement.image_pull_secrets]
    if placement.priority_class is not None:
        result["priority_class_name"] = placement.priority_class
    return result


__all__ = [
    "Affinity",
    "NO_PLACEMENT",
    "NodePreference",
    "NodeRequirement",
    "Placement",
    "Toleration",
]
