"""Kubernetes object names derived from the user and cluster labels (a public contract).

    viewer           nbviewer-<user>-<cluster>            Deployment, Service, Ingress, NetworkPolicy
                     nbviewer-<user>-<cluster>-workspace  PersistentVolumeClaim
                     nbviewer-<user>-<cluster>-password   Secret (key ``password``)
                     nbviewer-<user>-<cluster>-repo       Secret (key ``url``): a repository URL
                                                          with credentials (only then)
                     nbviewer-<user>-<cluster>-tls        TLS Secret of the Ingress (default name)
    cluster          ipcluster-<cluster>                  Service of the controller (16 ports)
                     ipcluster-<cluster>-controller       Deployment, NetworkPolicy
                     ipcluster-<cluster>-engine           Deployment, NetworkPolicy
                     ipcluster-<cluster>-key              Secret (key ``key``)
                     ipcluster-<cluster>-repo             Secret (key ``url``), as the viewer's
                     ipcluster-<cluster>-shared           PersistentVolumeClaim (ReadWriteMany),
                                                          only with shared storage
                     ipcluster-<cluster>-engine-<group>   Deployment, NetworkPolicy of an engine
                                                          group other than the default one

WHY the budgets: every name must be a valid Kubernetes name of at most 63 characters (Services
are DNS labels). The label budgets below are computed from the longest suffix, so a label that
passes validation can never produce an invalid name.

The functions accept Terraform tokens as well as literal labels: with a generated label the
names are Terraform interpolations such as ``ipcluster-${random_string.x.result}``.
"""

from __future__ import annotations

MAX_NAME_LENGTH = 63

VIEWER_PREFIX = "nbviewer-"
CLUSTER_PREFIX = "ipcluster-"

WORKSPACE_SUFFIX = "-workspace"
PASSWORD_SUFFIX = "-password"
TLS_SUFFIX = "-tls"
CONTROLLER_SUFFIX = "-controller"
ENGINE_SUFFIX = "-engine"
KEY_SUFFIX = "-key"
REPOSITORY_SUFFIX = "-repo"
SHARED_SUFFIX = "-shared"

VIEWER_SUFFIXES = ("", WORKSPACE_SUFFIX, PASSWORD_SUFFIX, TLS_SUFFIX, REPOSITORY_SUFFIX)
CLUSTER_SUFFIXES = ("", CONTROLLER_SUFFIX, ENGINE_SUFFIX, KEY_SUFFIX, REPOSITORY_SUFFIX, SHARED_SUFFIX)

#: Longest cluster label: ``ipcluster-<cluster>-controller`` stays within 63 characters.
MAX_CLUSTER_LABEL_LENGTH = MAX_NAME_LENGTH - len(CLUSTER_PREFIX) - max(map(len, CLUSTER_SUFFIXES))
#: Longest user and cluster labels together: ``nbviewer-<user>-<cluster>-workspace`` within 63.
MAX_VIEWER_LABELS_LENGTH = (
    MAX_NAME_LENGTH - len(VIEWER_PREFIX) - len("-") - max(map(len, VIEWER_SUFFIXES))
)
#: The longest name is in the message that explains a label budget.
LONGEST_VIEWER_NAME = f"{VIEWER_PREFIX}<user>-<cluster>{max(VIEWER_SUFFIXES, key=len)}"
LONGEST_CLUSTER_NAME = f"{CLUSTER_PREFIX}<cluster>{max(CLUSTER_SUFFIXES, key=len)}"


#: An engine group's Deployment: ``ipcluster-<cluster>-engine-<group>``.
LONGEST_ENGINE_GROUP_NAME = f"{CLUSTER_PREFIX}<cluster>{ENGINE_SUFFIX}-<group>"


def max_engine_group_length(cluster_label_length: int) -> int:
    """An engine group name's budget next to a cluster label of the given length."""
    return MAX_NAME_LENGTH - len(CLUSTER_PREFIX) - cluster_label_length - len(ENGINE_SUFFIX) - len("-")


def max_user_label_length(cluster_label_length: int) -> int:
    """The user label's budget next to a cluster label of the given length."""
    return MAX_VIEWER_LABELS_LENGTH - cluster_label_length


def viewer_name(user: str, cluster: str) -> str:
    return f"{VIEWER_PREFIX}{user}-{cluster}"


def workspace_claim_name(viewer: str) -> str:
    return viewer + WORKSPACE_SUFFIX


def password_secret_name(viewer: str) -> str:
    return viewer + PASSWORD_SUFFIX


def viewer_repository_secret_name(viewer: str) -> str:
    return viewer + REPOSITORY_SUFFIX


def default_tls_secret_name(viewer: str) -> str:
    return viewer + TLS_SUFFIX


def viewer_host(user: str, cluster: str, domain: str) -> str:
    return f"{viewer_name(user, cluster)}.{domain}"


def controller_service_name(cluster: str) -> str:
    """The DNS name engines and clients connect to (``IPYTHON_CONTROLLER_HOST``)."""
    return f"{CLUSTER_PREFIX}{cluster}"


def controller_deployment_name(cluster: str) -> str:
    return controller_service_name(cluster) + CONTROLLER_SUFFIX


def engine_deployment_name(cluster: str) -> str:
    return controller_service_name(cluster) + ENGINE_SUFFIX


def cluster_key_secret_name(cluster: str) -> str:
    """The key Secret's name follows from the label, so a viewer in another stack needs only the label."""
    return controller_service_name(cluster) + KEY_SUFFIX


def cluster_repository_secret_name(cluster: str) -> str:
    return controller_service_name(cluster) + REPOSITORY_SUFFIX


def shared_claim_name(cluster: str) -> str:
    """The cluster's shared ReadWriteMany claim; a viewer linked by label alone finds it by this name."""
    return controller_service_name(cluster) + SHARED_SUFFIX


def engine_group_deployment_name(cluster: str, group: str) -> str:
    """The Deployment (and NetworkPolicy) of an engine group other than the default one."""
    return f"{engine_deployment_name(cluster)}-{group}"
