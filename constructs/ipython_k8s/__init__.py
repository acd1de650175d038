"""CDK for Terraform constructs: a Jupyter notebook viewer and an ipyparallel engine cluster on
Kubernetes, deploying the role-switching image. See README.md for usage.

The names below are re-exported lazily (PEP 562): ``import ipython_k8s.validation`` stays plain
Python, so a program can check its inputs before cdktf and its Node.js process are loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {
    "EngineCluster": "cluster",
    "NotebookViewer": "viewer",
    "EngineClusterProps": "props",
    "NotebookViewerProps": "props",
    "EngineGroup": "props",
    "Placement": "placement",
    "NO_PLACEMENT": "placement",
    "Toleration": "placement",
    "Affinity": "placement",
    "NodeRequirement": "placement",
    "NodePreference": "placement",
    "IEngineCluster": "linking",
    "ImportedEngineCluster": "cluster",
    "ClusterLink": "linking",
    "Label": "labels",
    "PodSecurity": "security",
    "RESTRICTED": "security",
    "Resources": "resources",
    "VIEWER_RESOURCES": "resources",
    "CONTROLLER_RESOURCES": "resources",
    "ENGINE_RESOURCES": "resources",
    "DEFAULT_IMAGE": "defaults",
    "InvalidValue": "validation",
    "OutputClash": "outputs",
    "password_variable": "passwords",
    "repository_variable": "repository",
    "add_kubernetes_provider": "providers",
    "ensure_random_provider": "providers",
    "provider_submodule": "provider_import",
}

__all__ = [
    "Affinity",
    "CONTROLLER_RESOURCES",
    "ClusterLink",
    "DEFAULT_IMAGE",
    "ENGINE_RESOURCES",
    "EngineCluster",
    "EngineClusterProps",
    "EngineGroup",
    "IEngineCluster",
    "ImportedEngineCluster",
    "InvalidValue",
    "Label",
    "NO_PLACEMENT",
    "NodePreference",
    "NodeRequirement",
    "NotebookViewer",
    "NotebookViewerProps",
    "OutputClash",
    "Placement",
    "PodSecurity",
    "RESTRICTED",
    "Resources",
    "Toleration",
    "VIEWER_RESOURCES",
    "add_kubernetes_provider",
    "ensure_random_provider",
    "password_variable",
    "provider_submodule",
    "repository_variable",
]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from .cluster import EngineCluster, ImportedEngineCluster
    from .defaults import DEFAULT_IMAGE
    from .labels import Label
    from .outputs import OutputClash
    from .linking import ClusterLink, IEngineCluster
    from .passwords import password_variable
    from .placement import NO_PLACEMENT, Affinity, NodePreference, NodeRequirement, Placement, Toleration
    from .props import EngineClusterProps, EngineGroup, NotebookViewerProps
    from .provider_import import provider_submodule
    from .repository import repository_variable
    from .providers import add_kubernetes_provider, ensure_random_provider
    from .resources import (
        CONTROLLER_RESOURCES,
        ENGINE_RESOURCES,
        VIEWER_RESOURCES,
        Resources,
    )
    from .security import RESTRICTED, PodSecurity
    from .validation import InvalidValue
    from .viewer import NotebookViewer
