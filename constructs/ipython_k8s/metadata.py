"""Kubernetes metadata labels put on every object and pod (a public contract).

WHY a fixed set: Services, Deployments and NetworkPolicies find pods by these labels, and so do
people (``kubectl get pods -l ipython-k8s.github.io/cluster=demo``). The recommended
``app.kubernetes.io/*`` keys say what a pod is; our own keys carry the seed's labels under a
domain this project controls (the GitHub organisation that publishes the image), as Kubernetes
asks of label prefixes.

    app.kubernetes.io/name        ipython
    app.kubernetes.io/component   viewer | controller | engine
    app.kubernetes.io/instance    nbviewer-<user>-<cluster> | ipcluster-<cluster>
    app.kubernetes.io/managed-by  cdktf
    ipython-k8s.github.io/cluster <cluster label>   (viewers linked to a cluster carry it too)
    ipython-k8s.github.io/user    <user label>      (viewers only)
    ipython-k8s.github.io/engine-group <group>      (engines of a group other than the default
                                                     one; their instance is the group's
                                                     Deployment, ipcluster-<cluster>-engine-<group>)
"""

from __future__ import annotations

LABEL_DOMAIN = "ipython-k8s.github.io"

NAME = "app.kubernetes.io/name"
COMPONENT = "app.kubernetes.io/component"
INSTANCE = "app.kubernetes.io/instance"
MANAGED_BY = "app.kubernetes.io/managed-by"
CLUSTER = f"{LABEL_DOMAIN}/cluster"
USER = f"{LABEL_DOMAIN}/user"
ENGINE_GROUP = f"{LABEL_DOMAIN}/engine-group"

APP_NAME = "ipython"
MANAGER = "cdktf"

VIEWER = "viewer"
CONTROLLER = "controller"
ENGINE = "engine"


def selector(component: str, instance: str) -> dict[str, str]:
    """The labels a Deployment, Service or NetworkPolicy selects pods by (immutable once deployed)."""
    return {NAME: APP_NAME, COMPONENT: component, INSTANCE: instance}


def object_labels(
    component: str, instance: str, *, cluster: str, user: str | None = None
) -> dict[str, str]:
    """All labels of an object and of its pods: the selector plus who manages it and the seed's labels."""
    labels = {**selector(component, instance), MANAGED_BY: MANAGER, CLUSTER: cluster}
    if user is not None:
        labels[USER] = user
    return labels
