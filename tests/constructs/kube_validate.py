"""``kubernetes-validate --strict`` over every Kubernetes object of a synthesized stack, for the
oldest and the newest Kubernetes the library supports (see test_kubernetes_validate.py)."""

from __future__ import annotations

from typing import Any

import kubernetes_validate

from .kube_manifests import manifests

#: The oldest and the newest Kubernetes the objects are validated for.
KUBERNETES_VERSIONS = ("1.32", "1.37")


def validation_errors(stack: dict[str, Any]) -> list[str]:
    """One line per object and version that the API's schema refuses (empty: all valid)."""
    errors = []
    objects = manifests(stack)
    assert objects, "no Kubernetes object to validate"
    for version in KUBERNETES_VERSIONS:
        for obj in objects:
            try:
                checked = kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                errors.append(f"{version}: {obj['kind']} {obj['metadata']['name']}: "
                              f"{'.'.join(map(str, error.path))}: {error.message}")
            else:
                assert checked == version
    return errors
