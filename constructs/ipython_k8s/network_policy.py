"""Ingress NetworkPolicies: who may connect to which pods.

WHY: without a policy every pod in the cluster can reach the controller's ports and submit code
to the engines (signed messages aside). The policies state the intended traffic:

- viewer: its HTTP port only, from anywhere (the ingress controller lives in another namespace);
- controller: ports 10100..10115, only from pods carrying its cluster label (its engines and the
  viewers linked to it), in the same namespace;
- engines: only from pods of their cluster (in ipyparallel engines connect out to the
  controller, so nothing else needs to reach them).

Egress stays open: viewers and engines clone repositories and install requirements. A policy
only takes effect where the cluster's network plugin enforces NetworkPolicies.
"""

from __future__ import annotations

from constructs import Construct

from .provider_import import kubernetes


def ingress_policy(
    scope: Construct,
    id: str,
    *,
    name: str,
    namespace: str,
    labels: dict[str, str],
    pods: dict[str, str],
    port: int | None = None,
    end_port: int | None = None,
    from_pods: dict[str, str] | None = None,
):
    """Allow connections to ``pods`` on ``port``..``end_port`` (all ports when None) from
    ``from_pods`` in the same namespace (anywhere when None); deny all other ingress."""
    m = kubernetes("network_policy_v1")
    ports = (
        [m.NetworkPolicyV1SpecIngressPorts(port=str(port), end_port=end_port, protocol="TCP")]
        if port is not None
        else None
    )
    sources = (
        [
            m.NetworkPolicyV1SpecIngressFrom(
                pod_selector=m.NetworkPolicyV1SpecIngressFromPodSelector(match_labels=from_pods)
            )
        ]
        if from_pods is not None
        else None
    )
    return m.NetworkPolicyV1(
        scope,
        id,
        metadata=m.NetworkPolicyV1Metadata(name=name, namespace=namespace, labels=labels),
        spec=m.NetworkPolicyV1Spec(
            pod_selector=m.NetworkPolicyV1SpecPodSelector(match_labels=pods),
            policy_types=["Ingress"],
            ingress=[m.NetworkPolicyV1SpecIngress(ports=ports, from_=sources)],
        ),
    )
