"""Kubernetes API manifests from the synthesized Terraform JSON, to validate them offline.

The stacks are Terraform JSON for the hashicorp/kubernetes provider: resources such as
``kubernetes_deployment_v1`` whose blocks are snake_case, single blocks written as an object or
a list of one, repeated blocks named in the singular (``container``, ``port``, ``volume``),
numbers the provider parses from strings (``replicas``, ``run_as_user``), and Secret data in
plain text. :func:`manifests` turns them into what the provider sends to the API server
(``apiVersion``, ``kind``, ``metadata``, ``spec`` in camelCase), so that ``kubernetes-validate``
can check them against the API's schemas.

WHY a table of every attribute and no generic snake_case-to-camelCase fallback: an attribute
missing here raises :class:`UnknownAttribute`, so a new construct feature fails the validation
test until its mapping is added here (and is then validated too) instead of being dropped
unseen. The table holds what the stacks use, and the neighbours a prop can switch on
(annotations, image_pull_policy, the pod spec's placement fields).

Terraform expressions (``${...}``) are replaced by placeholders of the field's type: in strings
by a generated label's shape (5 lowercase letters and digits: the names stay valid DNS names of
their real length), in numbers by 1, in booleans by true.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

#: What an interpolation becomes inside a string: shaped like a generated label (random_string).
STRING_PLACEHOLDER = "x0y1z"
INT_PLACEHOLDER = 1
BOOL_PLACEHOLDER = True

#: Terraform meta-arguments and cdktf's comment object: no Kubernetes counterpart.
META_ARGUMENTS = frozenset({"//", "depends_on", "lifecycle", "provider"})
#: Resource types of the stacks that are not Kubernetes objects.
NOT_KUBERNETES = frozenset({"random_password", "random_string"})


class UnknownAttribute(AssertionError):
    """An attribute (or resource type) this converter has no mapping for: add it to the tables."""


Path = str
Convert = Callable[[Any, Path], Any]


# --- Values ---------------------------------------------------------------------------------------


def _substitute(text: str, path: Path) -> tuple[str, bool]:
    """``text`` with every ``${...}`` replaced; whether the whole of it was one expression."""
    out: list[str] = []
    i = 0
    whole = False
    while i < len(text):
        if text.startswith("$${", i):  # Terraform's escape for a literal "${"
            out.append("${")
            i += 3
        elif text.startswith("%{", i):
            raise UnknownAttribute(f"{path}: a Terraform template directive: {text!r}")
        elif text.startswith("${", i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            if depth:
                raise UnknownAttribute(f"{path}: unbalanced expression in {text!r}")
            whole = i == 0 and j == len(text)
            out.append(STRING_PLACEHOLDER)
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out), whole


def string(value: Any, path: Path) -> str:
    if not isinstance(value, str):
        raise UnknownAttribute(f"{path}: expected a string, got {value!r}")
    return _substitute(value, path)[0]


def integer(value: Any, path: Path) -> int:
    """A number; the provider also takes (and parses) strings, e.g. ``replicas = "3"``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise UnknownAttribute(f"{path}: expected a number, got {value!r}")
    text, whole = _substitute(value, path)
    if whole:
        return INT_PLACEHOLDER
    try:
        return int(text)
    except ValueError:
        raise UnknownAttribute(f"{path}: expected a number, got {value!r}") from None


def boolean(value: Any, path: Path) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and _substitute(value, path)[1]:
        return BOOL_PLACEHOLDER
    raise UnknownAttribute(f"{path}: expected a boolean, got {value!r}")


def int_or_string(value: Any, path: Path) -> int | str:
    """IntOrString as the provider sends it: a string of digits becomes a number (intstr.Parse)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise UnknownAttribute(f"{path}: expected a number or a string, got {value!r}")
    text, whole = _substitute(value, path)
    if whole:
        return INT_PLACEHOLDER
    return int(text) if text.isdigit() else text


def string_list(value: Any, path: Path) -> list[str]:
    if not isinstance(value, list):
        raise UnknownAttribute(f"{path}: expected a list, got {value!r}")
    return [string(item, f"{path}[{n}]") for n, item in enumerate(value)]


def string_map(value: Any, path: Path) -> dict[str, str]:
    if not isinstance(value, dict):
        raise UnknownAttribute(f"{path}: expected a map, got {value!r}")
    return {string(k, path): string(v, f"{path}.{k}") for k, v in value.items()}


def base64_map(value: Any, path: Path) -> dict[str, str]:
    """Secret ``data``: plain text in Terraform, base64 in the API object."""
    return {k: base64.b64encode(v.encode()).decode() for k, v in string_map(value, path).items()}


# --- Blocks ---------------------------------------------------------------------------------------

Fields = Mapping[str, tuple[str, Convert]]


def _object(value: Any, fields: Fields, path: Path) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UnknownAttribute(f"{path}: expected a block, got {value!r}")
    result: dict[str, Any] = {}
    for name, item in value.items():
        if name not in fields:
            raise UnknownAttribute(f"{path}.{name}: no Kubernetes mapping known (add it to {__name__})")
        k8s_name, convert = fields[name]
        result[k8s_name] = convert(item, f"{path}.{name}")
    return result


def block(fields: Fields) -> Convert:
    """A single nested block: an object, or a list holding one."""

    def convert(value: Any, path: Path) -> dict[str, Any]:
        if isinstance(value, list):
            if len(value) != 1:
                raise UnknownAttribute(f"{path}: a single block given {len(value)} times")
            value = value[0]
        return _object(value, fields, path)

    return convert


def blocks(fields: Fields) -> Convert:
    """A repeated block: a list of objects (one object alone stands for a list of one)."""

    def convert(value: Any, path: Path) -> list[dict[str, Any]]:
        items = value if isinstance(value, list) else [value]
        return [_object(item, fields, f"{path}[{n}]") for n, item in enumerate(items)]

    return convert


# --- The provider's schema, as far as the stacks use it ------------------------------------------

METADATA: Fields = {
    "name": ("name", string),
    "namespace": ("namespace", string),
    "labels": ("labels", string_map),
    "annotations": ("annotations", string_map),
}
LABEL_SELECTOR: Fields = {"match_labels": ("matchLabels", string_map)}
PROBE: Fields = {
    "exec": ("exec", block({"command": ("command", string_list)})),
    "http_get": ("httpGet", block({"path": ("path", string), "port": ("port", int_or_string)})),
    "tcp_socket": ("tcpSocket", block({"port": ("port", int_or_string)})),
    "initial_delay_seconds": ("initialDelaySeconds", integer),
    "period_seconds": ("periodSeconds", integer),
    "timeout_seconds": ("timeoutSeconds", integer),
    "failure_threshold": ("failureThreshold", integer),
    "success_threshold": ("successThreshold", integer),
}
CONTAINER: Fields = {
    "name": ("name", string),
    "image": ("image", string),
    "image_pull_policy": ("imagePullPolicy", string),
    "env": ("env", blocks({
        "name": ("name", string),
        "value": ("value", string),
        "value_from": ("valueFrom", block({
            "secret_key_ref": ("secretKeyRef", block({
                "name": ("name", string),
                "key": ("key", string),
                "optional": ("optional", boolean),
            })),
        })),
    })),
    "port": ("ports", blocks({
        "name": ("name", string),
        "container_port": ("containerPort", integer),
        "protocol": ("protocol", string),
    })),
    "liveness_probe": ("livenessProbe", block(PROBE)),
    "readiness_probe": ("readinessProbe", block(PROBE)),
    "startup_probe": ("startupProbe", block(PROBE)),
    "resources": ("resources", block({
        "limits": ("limits", string_map),
        "requests": ("requests", string_map),
    })),
    "security_context": ("securityContext", block({
        "allow_privilege_escalation": ("allowPrivilegeEscalation", boolean),
        "capabilities": ("capabilities", block({
            "add": ("add", string_list),
            "drop": ("drop", string_list),
        })),
        "privileged": ("privileged", boolean),
        "read_only_root_filesystem": ("readOnlyRootFilesystem", boolean),
        "run_as_non_root": ("runAsNonRoot", boolean),
        "run_as_user": ("runAsUser", integer),
        "run_as_group": ("runAsGroup", integer),
    })),
    "volume_mount": ("volumeMounts", blocks({
        "name": ("name", string),
        "mount_path": ("mountPath", string),
        "read_only": ("readOnly", boolean),
        "sub_path": ("subPath", string),
    })),
}
NODE_SELECTOR_TERM: Fields = {
    "match_expressions": ("matchExpressions", blocks({
        "key": ("key", string),
        "operator": ("operator", string),
        "values": ("values", string_list),
    })),
}
LABEL_SELECTOR_BLOCK: Fields = {"match_labels": ("matchLabels", string_map)}
AFFINITY: Fields = {
    "node_affinity": ("nodeAffinity", block({
        "required_during_scheduling_ignored_during_execution": (
            "requiredDuringSchedulingIgnoredDuringExecution",
            block({"node_selector_term": ("nodeSelectorTerms", blocks(NODE_SELECTOR_TERM))}),
        ),
        "preferred_during_scheduling_ignored_during_execution": (
            "preferredDuringSchedulingIgnoredDuringExecution",
            blocks({"weight": ("weight", integer), "preference": ("preference", block(NODE_SELECTOR_TERM))}),
        ),
    })),
    "pod_anti_affinity": ("podAntiAffinity", block({
        "preferred_during_scheduling_ignored_during_execution": (
            "preferredDuringSchedulingIgnoredDuringExecution",
            blocks({
                "weight": ("weight", integer),
                "pod_affinity_term": ("podAffinityTerm", block({
                    "topology_key": ("topologyKey", string),
                    "label_selector": ("labelSelector", block(LABEL_SELECTOR_BLOCK)),
                })),
            }),
        ),
    })),
}
POD_SPEC: Fields = {
    "node_selector": ("nodeSelector", string_map),
    "toleration": ("tolerations", blocks({
        "key": ("key", string),
        "operator": ("operator", string),
        "value": ("value", string),
        "effect": ("effect", string),
        "toleration_seconds": ("tolerationSeconds", integer),
    })),
    "affinity": ("affinity", block(AFFINITY)),
    "image_pull_secrets": ("imagePullSecrets", blocks({"name": ("name", string)})),
    "priority_class_name": ("priorityClassName", string),
    "automount_service_account_token": ("automountServiceAccountToken", boolean),
    "enable_service_links": ("enableServiceLinks", boolean),
    "security_context": ("securityContext", block({
        "fs_group": ("fsGroup", integer),
        "run_as_group": ("runAsGroup", integer),
        "run_as_non_root": ("runAsNonRoot", boolean),
        "run_as_user": ("runAsUser", integer),
        "seccomp_profile": ("seccompProfile", block({"type": ("type", string)})),
    })),
    "container": ("containers", blocks(CONTAINER)),
    "volume": ("volumes", blocks({
        "name": ("name", string),
        "empty_dir": ("emptyDir", block({
            "medium": ("medium", string),
            "size_limit": ("sizeLimit", string),
        })),
        "persistent_volume_claim": ("persistentVolumeClaim", block({
            "claim_name": ("claimName", string),
            "read_only": ("readOnly", boolean),
        })),
    })),
}
DEPLOYMENT_SPEC: Fields = {
    "replicas": ("replicas", integer),
    "selector": ("selector", block(LABEL_SELECTOR)),
    "strategy": ("strategy", block({"type": ("type", string)})),
    "template": ("template", block({
        "metadata": ("metadata", block(METADATA)),
        "spec": ("spec", block(POD_SPEC)),
    })),
}
SERVICE_SPEC: Fields = {
    "type": ("type", string),
    "selector": ("selector", string_map),
    "port": ("ports", blocks({
        "name": ("name", string),
        "port": ("port", integer),
        "target_port": ("targetPort", int_or_string),
        "protocol": ("protocol", string),
    })),
}
PVC_SPEC: Fields = {
    "access_modes": ("accessModes", string_list),
    "resources": ("resources", block({
        "requests": ("requests", string_map),
        "limits": ("limits", string_map),
    })),
    "storage_class_name": ("storageClassName", string),
}
NETWORK_POLICY_SPEC: Fields = {
    "pod_selector": ("podSelector", block(LABEL_SELECTOR)),
    "policy_types": ("policyTypes", string_list),
    "ingress": ("ingress", blocks({
        "from": ("from", blocks({"pod_selector": ("podSelector", block(LABEL_SELECTOR))})),
        "ports": ("ports", blocks({
            "port": ("port", int_or_string),
            "end_port": ("endPort", integer),
            "protocol": ("protocol", string),
        })),
    })),
}
INGRESS_SPEC: Fields = {
    "ingress_class_name": ("ingressClassName", string),
    "rule": ("rules", blocks({
        "host": ("host", string),
        "http": ("http", block({
            "path": ("paths", blocks({
                "path": ("path", string),
                "path_type": ("pathType", string),
                "backend": ("backend", block({
                    "service": ("service", block({
                        "name": ("name", string),
                        "port": ("port", block({
                            "number": ("number", integer),
                            "name": ("name", string),
                        })),
                    })),
                })),
            })),
        })),
    })),
    "tls": ("tls", blocks({
        "hosts": ("hosts", string_list),
        "secret_name": ("secretName", string),
    })),
}

#: resource type -> (apiVersion, kind, top-level fields). A field mapped to None is dropped: the
#: provider's own arguments (waiting for a rollout, a binding, a load balancer), not the object's.
RESOURCES: dict[str, tuple[str, str, Mapping[str, tuple[str, Convert] | None]]] = {
    "kubernetes_deployment_v1": ("apps/v1", "Deployment", {
        "metadata": ("metadata", block(METADATA)),
        "spec": ("spec", block(DEPLOYMENT_SPEC)),
        "wait_for_rollout": None,
    }),
    "kubernetes_service_v1": ("v1", "Service", {
        "metadata": ("metadata", block(METADATA)),
        "spec": ("spec", block(SERVICE_SPEC)),
        "wait_for_load_balancer": None,
    }),
    "kubernetes_secret_v1": ("v1", "Secret", {
        "metadata": ("metadata", block(METADATA)),
        "type": ("type", string),
        "data": ("data", base64_map),
    }),
    "kubernetes_persistent_volume_claim_v1": ("v1", "PersistentVolumeClaim", {
        "metadata": ("metadata", block(METADATA)),
        "spec": ("spec", block(PVC_SPEC)),
        "wait_until_bound": None,
    }),
    "kubernetes_network_policy_v1": ("networking.k8s.io/v1", "NetworkPolicy", {
        "metadata": ("metadata", block(METADATA)),
        "spec": ("spec", block(NETWORK_POLICY_SPEC)),
    }),
    "kubernetes_ingress_v1": ("networking.k8s.io/v1", "Ingress", {
        "metadata": ("metadata", block(METADATA)),
        "spec": ("spec", block(INGRESS_SPEC)),
        "wait_for_load_balancer": None,
    }),
}


def manifest(resource_type: str, address: str, resource: Mapping[str, Any]) -> dict[str, Any]:
    """The Kubernetes object of one Terraform resource of a ``kubernetes_*`` type."""
    if resource_type not in RESOURCES:
        raise UnknownAttribute(f"{resource_type}: no Kubernetes mapping known (add it to {__name__})")
    api_version, kind, fields = RESOURCES[resource_type]
    result: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    path = f"{resource_type}.{address}"
    for name, value in resource.items():
        if name in META_ARGUMENTS:
            continue
        if name not in fields:
            raise UnknownAttribute(f"{path}.{name}: no Kubernetes mapping known (add it to {__name__})")
        mapping = fields[name]
        if mapping is not None:
            k8s_name, convert = mapping
            result[k8s_name] = convert(value, f"{path}.{name}")
    return result


def manifests(stack: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every Kubernetes object of a synthesized stack (its parsed cdk.tf.json), in file order.

    Raises :class:`UnknownAttribute` for a resource type that is neither mapped nor known not to
    be a Kubernetes object, and for any attribute without a mapping.
    """
    result = []
    for resource_type, by_address in stack.get("resource", {}).items():
        if resource_type in NOT_KUBERNETES:
            continue
        for address, resource in by_address.items():
            result.append(manifest(resource_type, address, resource))
    return result
