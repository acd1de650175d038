"""Which Terraform resource types the local run maps, which it ignores and why.

WHY a closed list: a construct that starts declaring, say, a StatefulSet must not be run
locally as if it were not there. A type in ``OBJECT_KINDS`` becomes a Kubernetes object of the
local model, a type in ``IGNORED`` is skipped with its reason printed once, ``random_*`` types
only give values, and anything else stops the run with an error naming the resource.
"""

from __future__ import annotations

from .errors import LocalRunError
from .randoms import GENERATORS

#: Terraform type -> the Kubernetes kind the local run maps.
OBJECT_KINDS: dict[str, str] = {
    "kubernetes_deployment_v1": "Deployment",
    "kubernetes_deployment": "Deployment",
    "kubernetes_service_v1": "Service",
    "kubernetes_service": "Service",
    "kubernetes_secret_v1": "Secret",
    "kubernetes_secret": "Secret",
    "kubernetes_config_map_v1": "ConfigMap",
    "kubernetes_config_map": "ConfigMap",
    "kubernetes_persistent_volume_claim_v1": "PersistentVolumeClaim",
    "kubernetes_persistent_volume_claim": "PersistentVolumeClaim",
    "kubernetes_ingress_v1": "Ingress",
}

_NO_API = "there is no Kubernetes API server locally, so nothing reads it"

#: Terraform type -> why the local run skips it.
IGNORED: dict[str, str] = {
    "kubernetes_network_policy_v1": "not enforced: every container of a namespace shares one network "
    "(the per-cluster key still keeps clusters apart)",
    "kubernetes_network_policy": "not enforced: every container of a namespace shares one network "
    "(the per-cluster key still keeps clusters apart)",
    "kubernetes_namespace_v1": "a namespace is the local network ipython-k8s-local-<namespace>",
    "kubernetes_namespace": "a namespace is the local network ipython-k8s-local-<namespace>",
    "kubernetes_service_account_v1": _NO_API,
    "kubernetes_service_account": _NO_API,
    "kubernetes_role_v1": _NO_API,
    "kubernetes_role_binding_v1": _NO_API,
    "kubernetes_pod_disruption_budget_v1": "there is no eviction locally",
    "kubernetes_horizontal_pod_autoscaler_v2": "replicas stay as declared locally",
    "kubernetes_resource_quota_v1": "quotas are not enforced locally",
    "kubernetes_limit_range_v1": "limit ranges are not enforced locally",
}

#: Parts of a stack that are not resources, skipped with a reason (printed once per run).
IGNORED_PARTS: dict[str, str] = {
    "provider": "provider configuration (kubeconfig, context): the local run talks to the container engine",
    "backend": "Terraform backend: the local run keeps its own state file (.localrun/state.json)",
    "ingress-tls": "Ingress TLS and host names: the viewer is served as plain HTTP on 127.0.0.1:<port>",
}


class UnsupportedResource(LocalRunError):
    pass


def classify(resource_type: str, *, stack: str, address: str) -> str:
    """``object``, ``value`` or ``ignored``; raise for a type the local run does not know."""
    if resource_type in OBJECT_KINDS:
        return "object"
    if resource_type in GENERATORS:
        return "value"
    if resource_type in IGNORED:
        return "ignored"
    raise UnsupportedResource(
        f"{stack}: {address}: resource type {resource_type} cannot be run locally "
        f"(the local run maps {', '.join(sorted(set(OBJECT_KINDS.values())))} and random values; "
        f"see docs/local-run.md)"
    )
