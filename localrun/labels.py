"""The labels on every container, volume and network the local run makes.

WHY labels and not a list of ids: ``down`` and ``status`` find what belongs to a workspace by
asking the engine, so nothing is orphaned when the state file is lost or a run was interrupted
half-way; ``podman ps --filter label=io.ipython-k8s.local`` shows it all.
"""

from __future__ import annotations

#: Every object made by the local run carries MARKER=true.
MARKER = "io.ipython-k8s.local"
WORKSPACE = f"{MARKER}.workspace"
STACK = f"{MARKER}.stack"
NAMESPACE = f"{MARKER}.namespace"
KIND = f"{MARKER}.kind"
OBJECT = f"{MARKER}.object"
POD = f"{MARKER}.pod"
SPEC_HASH = f"{MARKER}.spec-hash"
#: Seconds between SIGTERM and SIGKILL when the container is removed (terminationGracePeriodSeconds).
STOP_TIMEOUT = f"{MARKER}.stop-timeout"

#: Values of KIND.
APP = "container"
INIT = "init-container"
PVC = "persistent-volume-claim"
EMPTY_DIR = "empty-dir"
NETWORK = "network"

#: Prefix of the names of networks and volumes.
PREFIX = "ipython-k8s-local"


def owned(*, workspace: str, stack: str, namespace: str, kind: str, obj: str, pod: str | None = None) -> dict[str, str]:
    values = {
        MARKER: "true",
        WORKSPACE: workspace,
        STACK: stack,
        NAMESPACE: namespace,
        KIND: kind,
        OBJECT: obj,
    }
    if pod is not None:
        values[POD] = pod
    return values


def selector(**values: str) -> list[str]:
    """An engine label filter: MARKER plus the given label=value pairs."""
    keys = {"workspace": WORKSPACE, "stack": STACK, "namespace": NAMESPACE, "kind": KIND, "pod": POD}
    return [f"{MARKER}=true", *(f"{keys[k]}={v}" for k, v in values.items())]


def network_name(namespace: str) -> str:
    return f"{PREFIX}-{namespace}"
