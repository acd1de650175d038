"""Kubernetes Deployments as containers: the heart of the local run.

WHY one pure function from objects to plans: what a container gets (image, command, args,
environment with Secret and field references, working dir, user and group, read-only root,
capabilities, no-new-privileges, limits, volumes) is decided here from the evaluated
Terraform alone, without an engine, so it can be read and tested as a table and a change in a
construct changes what runs. ``engine.py`` only carries the plans out.

A pod is ``<deployment>-<n>`` for each replica: its init containers run in order to
completion, then its containers start; they share the pod's volumes (an emptyDir is a volume
of the pod, a PersistentVolumeClaim a volume of the namespace) and the pod's network names
(the Services whose selector matches the pod's labels).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from . import labels, services
from .errors import LocalRunError
from .notes import Notes
from .objects import KubeObject, Namespaces, block, blocks
from .quantities import memory_bytes, nano_cpus, parse_quantity

LOCAL_NODE_NAME = "localhost"

POD_SPEC_HANDLED = {
    "container", "init_container", "volume", "security_context", "restart_policy", "hostname",
    "host_aliases", "termination_grace_period_seconds",
}
#: Pod fields that choose a node: one summary heading, "placement" (one node here).
PLACEMENT_FIELDS = ("node_selector", "affinity", "toleration", "topology_spread_constraint", "priority_class_name")
#: Resources the local run maps to the engine's limits; any other (nvidia.com/gpu, ...) is named.
MAPPED_RESOURCES = ("cpu", "memory")
POD_SPEC_IGNORED = {
    "automount_service_account_token": "there is no Kubernetes API server locally",
    "service_account_name": "there is no Kubernetes API server locally",
    "node_selector": "there is one node (this machine)",
    "affinity": "there is one node (this machine)",
    "toleration": "there is one node (this machine)",
    "topology_spread_constraint": "there is one node (this machine)",
    "priority_class_name": "there is no scheduler locally",
    "dns_policy": "names resolve through the engine's network DNS",
    "dns_config": "names resolve through the engine's network DNS",
    "image_pull_secrets": "images are built locally, never pulled",
}
CONTAINER_HANDLED = {
    "name", "image", "command", "args", "env", "env_from", "working_dir", "port", "security_context",
    "volume_mount", "resources",
}
CONTAINER_IGNORED = {
    "image_pull_policy": "images are built locally (under the declared name), never pulled",
    "liveness_probe": "failed probes restart nothing locally (exited containers are restarted)",
    "readiness_probe": "used only to wait for the published viewer",
    "startup_probe": "used only to wait for the published viewer",
    "termination_message_path": "not kept locally",
    "termination_message_policy": "not kept locally",
    "lifecycle": "postStart/preStop hooks are not run locally",
}
DEPLOYMENT_IGNORED = {
    "strategy": "a changed Deployment replaces all its pods at once",
    "min_ready_seconds": "a changed Deployment replaces all its pods at once",
    "progress_deadline_seconds": "`local up` waits for the published viewer only",
    "revision_history_limit": "no rollout history locally",
}


@dataclass(frozen=True)
class MountPlan:
    target: str
    type: str  # "volume" or "tmpfs"
    source: str | None = None
    read_only: bool = False
    tmpfs_size: int | None = None


@dataclass(frozen=True)
class VolumePlan:
    name: str
    kind: str  # labels.PVC or labels.EMPTY_DIR
    owner: str  # the object it belongs to, for messages and labels
    workspace: str
    stack: str


@dataclass
class ContainerPlan:
    name: str
    pod: str
    role: str  # labels.APP or labels.INIT
    container: str  # the name in the pod spec
    image: str
    entrypoint: list[str] | None
    command: list[str] | None
    environment: dict[str, str]
    working_dir: str | None
    user: str | None
    group_add: list[str]
    run_as_non_root: bool
    read_only: bool
    cap_add: list[str]
    cap_drop: list[str]
    security_opt: list[str]
    privileged: bool
    mounts: list[MountPlan]
    hostname: str
    aliases: list[str]
    labels: dict[str, str]
    ports: dict[str, int]  # name (or str(number)) -> container port
    nano_cpus: int | None
    mem_limit: int | None
    extra_hosts: dict[str, str]
    restart: str | None  # "always", "on-failure" or None
    stop_timeout: int
    readiness_path: str | None = None
    published: dict[int, int] = field(default_factory=dict)  # container port -> 127.0.0.1 port

    def fingerprint(self, image_id: str) -> str:
        """Everything that makes this container what it is: a change means a new container."""
        data = asdict(self)
        data.pop("labels")
        data["labels"] = {k: v for k, v in self.labels.items() if k != labels.SPEC_HASH}
        data["image_id"] = image_id
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class PodPlan:
    name: str
    namespace: str
    deployment: KubeObject
    init_containers: list[ContainerPlan]
    containers: list[ContainerPlan]
    volumes: list[VolumePlan]

    @property
    def all_containers(self) -> list[ContainerPlan]:
        return [*self.init_containers, *self.containers]


def container_name(namespace: str, pod: str, container: str, *, init: bool = False) -> str:
    return f"{namespace}_{pod}_{'init-' if init else ''}{container}"


def pvc_volume_name(namespace: str, claim: str) -> str:
    return f"{labels.PREFIX}_{namespace}_{claim}"


def empty_dir_volume_name(namespace: str, pod: str, volume: str) -> str:
    return f"{labels.PREFIX}_{namespace}_{pod}_{volume}"


def _filled(value: Any) -> bool:
    return value not in (None, "", [], {}, False)


def _note_fields(notes: Notes, where: str, spec: Mapping[str, Any], handled: set[str], ignored: Mapping[str, str]) -> None:
    for key, value in spec.items():
        if key in handled or not _filled(value):
            continue
        headline = ("placement", key) if where == "pod" and key in PLACEMENT_FIELDS else None
        notes.add(f"{where}.{key}", ignored.get(key, "not mapped by the local run"), headline=headline)


# -- environment ----------------------------------------------------------------------------
_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(text: str, environment: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion: known names are replaced, ``$$`` is a ``$``."""

    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return environment[name] if name in environment else match.group(0)

    return _REFERENCE.sub(substitute, text)


def _key_of(obj: KubeObject, key: str) -> str | None:
    data = obj.body.get("data") or {}
    if key in data:
        return str(data[key])
    binary = obj.body.get("binary_data") or {}
    if key in binary:
        return base64.b64decode(binary[key]).decode()
    return None


def _all_keys(obj: KubeObject) -> dict[str, str]:
    keys = {k: str(v) for k, v in (obj.body.get("data") or {}).items()}
    for key in obj.body.get("binary_data") or {}:
        keys[key] = _key_of(obj, key) or ""
    return keys


def _reference(namespaces: Namespaces, kind: str, namespace: str, ref: Mapping[str, Any], *, where: str) -> KubeObject | None:
    name = ref.get("name")
    obj = namespaces.get(kind, namespace, name)
    if obj is None and not ref.get("optional"):
        raise LocalRunError(
            f"{where}: {kind} {namespace}/{name} does not exist (not declared by these stacks nor by any "
            f"stack that is up locally); in Kubernetes the pod would not start either"
        )
    return obj


def _field_value(path: str, *, pod: str, namespace: str, pod_labels: Mapping[str, str], annotations: Mapping[str, str], where: str) -> str:
    if path == "metadata.name":
        return pod
    if path == "metadata.namespace":
        return namespace
    if path == "spec.nodeName":
        return LOCAL_NODE_NAME
    if path == "spec.serviceAccountName":
        return "default"
    match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if match:
        source = pod_labels if match.group(1) == "labels" else annotations
        return source.get(match.group(2), "")
    raise LocalRunError(
        f"{where}: field_ref {path!r} is not known before the container starts locally "
        f"(supported: metadata.name, metadata.namespace, metadata.labels['k'], metadata.annotations['k'], spec.nodeName)"
    )


def environment(
    container: Mapping[str, Any], *, namespaces: Namespaces, namespace: str, pod: str,
    pod_labels: Mapping[str, str], annotations: Mapping[str, str], where: str,
) -> dict[str, str]:
    """The container's environment, in Kubernetes order: env_from, then env (which wins)."""
    env: dict[str, str] = {}
    for source in blocks(container.get("env_from")):
        prefix = source.get("prefix") or ""
        for kind, key in (("Secret", "secret_ref"), ("ConfigMap", "config_map_ref")):
            ref = block(source.get(key))
            if ref:
                obj = _reference(namespaces, kind, namespace, ref, where=f"{where} env_from")
                if obj is not None:
                    for name, value in _all_keys(obj).items():
                        env[prefix + name] = value
    for item in blocks(container.get("env")):
        name = item["name"]
        value_from = block(item.get("value_from"))
        if value_from:
            value = _value_from(value_from, namespaces=namespaces, namespace=namespace, pod=pod,
                                pod_labels=pod_labels, annotations=annotations, where=f"{where} env {name}")
            if value is None:
                continue  # an optional reference to something absent: Kubernetes leaves it unset
            env[name] = value
        else:
            raw = item.get("value")
            env[name] = expand("" if raw is None else _text(raw), env)
    return env


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _value_from(value_from: Mapping[str, Any], *, namespaces: Namespaces, namespace: str, pod: str,
                pod_labels: Mapping[str, str], annotations: Mapping[str, str], where: str) -> str | None:
    for kind, key in (("Secret", "secret_key_ref"), ("ConfigMap", "config_map_key_ref")):
        ref = block(value_from.get(key))
        if ref:
            obj = _reference(namespaces, kind, namespace, ref, where=where)
            if obj is None:
                return None
            value = _key_of(obj, ref["key"])
            if value is None and not ref.get("optional"):
                raise LocalRunError(f"{where}: {kind} {namespace}/{obj.name} has no key {ref['key']!r}")
            return value
    ref = block(value_from.get("field_ref"))
    if ref:
        return _field_value(ref["field_path"], pod=pod, namespace=namespace, pod_labels=pod_labels,
                            annotations=annotations, where=where)
    raise LocalRunError(f"{where}: value_from {sorted(value_from)} is not supported locally (secret_key_ref, config_map_key_ref, field_ref are)")


# -- security -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Security:
    user: str | None
    group_add: list[str]
    run_as_non_root: bool
    read_only: bool
    cap_add: list[str]
    cap_drop: list[str]
    security_opt: list[str]
    privileged: bool


def security(pod_context: Mapping[str, Any], container_context: Mapping[str, Any], *, where: str) -> Security:
    """Pod and container securityContext merged the Kubernetes way (the container's wins)."""

    def pick(key: str) -> Any:
        value = container_context.get(key)
        return pod_context.get(key) if value is None else value

    uid, gid = pick("run_as_user"), pick("run_as_group")
    user = None
    if uid is not None:
        user = str(int(uid)) + (f":{int(gid)}" if gid is not None else "")
    elif gid is not None:
        raise LocalRunError(f"{where}: run_as_group without run_as_user cannot be expressed for a local container")
    groups = [str(int(g)) for g in (pod_context.get("supplemental_groups") or [])]
    if pod_context.get("fs_group") is not None:
        groups.insert(0, str(int(pod_context["fs_group"])))  # Kubernetes adds fsGroup to the groups
    capabilities = block(container_context.get("capabilities")) or {}
    options: list[str] = []
    if container_context.get("allow_privilege_escalation") is False:
        options.append("no-new-privileges")
    seccomp = block(container_context.get("seccomp_profile")) or block(pod_context.get("seccomp_profile")) or {}
    seccomp_type = seccomp.get("type", "RuntimeDefault")
    if seccomp_type == "Unconfined":
        options.append("seccomp=unconfined")
    elif seccomp_type != "RuntimeDefault":
        raise LocalRunError(f"{where}: seccomp profile {seccomp_type!r} is not supported locally (RuntimeDefault, Unconfined are)")
    return Security(
        user=user,
        group_add=list(dict.fromkeys(groups)),
        run_as_non_root=bool(pick("run_as_non_root")),
        read_only=bool(container_context.get("read_only_root_filesystem")),
        cap_add=[str(c) for c in capabilities.get("add") or []],
        cap_drop=[str(c) for c in capabilities.get("drop") or []],
        security_opt=options,
        privileged=bool(container_context.get("privileged")),
    )


def check_non_root(plan: ContainerPlan, image_user: str | None) -> None:
    """runAsNonRoot as the kubelet checks it, once the image (and its USER) is known."""
    if not plan.run_as_non_root:
        return
    user = plan.user or image_user or "0"
    uid = user.split(":")[0]
    if not uid.isdigit():
        raise LocalRunError(f"{plan.name}: runAsNonRoot with a non-numeric image user {uid!r} cannot be verified (set run_as_user)")
    if int(uid) == 0:
        raise LocalRunError(f"{plan.name}: runAsNonRoot is set but the container would run as root (uid 0)")


# -- volumes --------------------------------------------------------------------------------
def pod_volumes(
    spec: Mapping[str, Any], *, namespaces: Namespaces, deployment: KubeObject, pod: str, where: str, notes: Notes,
) -> tuple[dict[str, tuple[VolumePlan | None, MountPlan]], list[VolumePlan]]:
    """name -> (volume, mount template) for every volume of the pod."""
    namespace = deployment.namespace
    by_name: dict[str, tuple[VolumePlan | None, MountPlan]] = {}
    volumes: list[VolumePlan] = []
    for volume in blocks(spec.get("volume")):
        name = volume["name"]
        empty_dir = volume.get("empty_dir")
        claim = block(volume.get("persistent_volume_claim"))
        if empty_dir is not None:
            empty_dir = block(empty_dir) or {}
            if empty_dir.get("medium") == "Memory":
                size = empty_dir.get("size_limit")
                tmpfs_size = memory_bytes(size, where=f"{where} volume {name}") if size else None
                by_name[name] = (None, MountPlan(target="", type="tmpfs", tmpfs_size=tmpfs_size))
                continue
            if empty_dir.get("size_limit"):
                notes.add("emptyDir size_limit", "disk-backed emptyDirs are engine volumes without a size limit")
            plan = VolumePlan(empty_dir_volume_name(namespace, pod, name), labels.EMPTY_DIR,
                              f"{pod}/{name}", deployment.workspace, deployment.stack)
        elif claim:
            claim_name = claim["claim_name"]
            pvc = namespaces.get("PersistentVolumeClaim", namespace, claim_name)
            if pvc is None:
                raise LocalRunError(
                    f"{where}: volume {name}: PersistentVolumeClaim {namespace}/{claim_name} does not exist "
                    f"(not declared by these stacks nor by any stack that is up locally)"
                )
            storage = (block((pvc.spec.get("resources"))) or {}).get("requests", {}).get("storage")
            if storage:
                parse_quantity(storage, where=f"{pvc.describe()} storage")
                notes.add("PersistentVolumeClaim size", "a claim is an engine volume; its requested size is not enforced")
            plan = VolumePlan(pvc_volume_name(namespace, claim_name), labels.PVC, f"{namespace}/{claim_name}",
                              pvc.workspace, pvc.stack)
            by_name[name] = (plan, MountPlan(target="", type="volume", source=plan.name, read_only=bool(claim.get("read_only"))))
            volumes.append(plan)
            continue
        else:
            kinds = sorted(k for k, v in volume.items() if k != "name" and v is not None)
            raise LocalRunError(
                f"{where}: volume {name} of type {', '.join(kinds) or 'unknown'} is not supported locally "
                f"(empty_dir and persistent_volume_claim are)"
            )
        by_name[name] = (plan, MountPlan(target="", type="volume", source=plan.name))
        volumes.append(plan)
    return by_name, volumes


def _mounts(container: Mapping[str, Any], volumes: Mapping[str, tuple[VolumePlan | None, MountPlan]], *, where: str) -> list[MountPlan]:
    mounts = []
    for mount in blocks(container.get("volume_mount")):
        name = mount["name"]
        if name not in volumes:
            raise LocalRunError(f"{where}: volume_mount {name!r} names no volume of the pod")
        if mount.get("sub_path") or mount.get("sub_path_expr"):
            raise LocalRunError(f"{where}: volume_mount {name!r} uses sub_path, which the local run does not support")
        _, template = volumes[name]
        mounts.append(MountPlan(
            target=mount["mount_path"],
            type=template.type,
            source=template.source,
            read_only=bool(mount.get("read_only")) or template.read_only,
            tmpfs_size=template.tmpfs_size,
        ))
    # The engine mounts in path order anyway; sorting keeps the fingerprint stable.
    return sorted(mounts, key=lambda m: m.target)


# -- containers ------------------------------------------------------------------------------
def _ports(container: Mapping[str, Any]) -> dict[str, int]:
    ports: dict[str, int] = {}
    for port in blocks(container.get("port")):
        number = int(port["container_port"])
        ports[str(number)] = number
        if port.get("name"):
            ports[port["name"]] = number
    return ports


def _readiness_path(container: Mapping[str, Any]) -> str | None:
    for probe_key in ("readiness_probe", "startup_probe"):
        probe = block(container.get(probe_key)) or {}
        http = block(probe.get("http_get"))
        if http:
            return http.get("path") or "/"
    return None


def _limits(container: Mapping[str, Any], where: str, notes: Notes) -> tuple[int | None, int | None]:
    resources = block(container.get("resources")) or {}
    limits = resources.get("limits") or {}
    for kind in ("limits", "requests"):
        for name, amount in (resources.get(kind) or {}).items():
            if name in MAPPED_RESOURCES or not _filled(amount):
                continue
            if name == "ephemeral-storage":
                notes.add(f"resource {name}", "containers' writable layers are not limited locally")
            else:
                notes.add(f"resource {name}", "no device or extended resource is passed to containers locally",
                          headline=("not honoured", f"{name}: {amount}"))
    cpu = nano_cpus(limits["cpu"], where=f"{where} cpu limit") if limits.get("cpu") else None
    memory = memory_bytes(limits["memory"], where=f"{where} memory limit") if limits.get("memory") else None
    return cpu, memory


def _container_plan(
    container: Mapping[str, Any], *, role: str, pod: str, deployment: KubeObject, spec: Mapping[str, Any],
    namespaces: Namespaces, volumes: Mapping[str, tuple[VolumePlan | None, MountPlan]], pod_labels: Mapping[str, str],
    annotations: Mapping[str, str], aliases: list[str], notes: Notes,
) -> ContainerPlan:
    namespace = deployment.namespace
    where = f"{deployment.describe()} container {container.get('name')}"
    _note_fields(notes, "container", container, CONTAINER_HANDLED, CONTAINER_IGNORED)
    image = container.get("image")
    if not image:
        raise LocalRunError(f"{where}: no image")
    env = environment(container, namespaces=namespaces, namespace=namespace, pod=pod, pod_labels=pod_labels,
                      annotations=annotations, where=where)
    command = container.get("command")
    args = container.get("args")
    entrypoint = [expand(_text(c), env) for c in command] if command else None
    cmd = [expand(_text(a), env) for a in args] if args else ([] if command else None)
    sec = security(block(spec.get("security_context")) or {}, block(container.get("security_context")) or {}, where=where)
    cpu, memory = _limits(container, where, notes)
    restart_policy = spec.get("restart_policy") or "Always"
    if role == labels.INIT:
        restart = None
    else:
        restart = {"Always": "always", "OnFailure": "on-failure", "Never": None}.get(restart_policy, "always")
    grace = spec.get("termination_grace_period_seconds")
    extra_hosts = {}
    for alias in blocks(spec.get("host_aliases")):
        for hostname in alias.get("hostnames") or []:
            extra_hosts[hostname] = alias["ip"]
    name = container_name(namespace, pod, container["name"], init=role == labels.INIT)
    return ContainerPlan(
        name=name,
        pod=pod,
        role=role,
        container=container["name"],
        image=image,
        entrypoint=entrypoint,
        command=cmd,
        environment=env,
        working_dir=container.get("working_dir") or None,
        user=sec.user,
        group_add=sec.group_add,
        run_as_non_root=sec.run_as_non_root,
        read_only=sec.read_only,
        cap_add=sec.cap_add,
        cap_drop=sec.cap_drop,
        security_opt=sec.security_opt,
        privileged=sec.privileged,
        mounts=_mounts(container, volumes, where=where),
        hostname=spec.get("hostname") or pod,
        aliases=aliases if role == labels.APP else [],
        labels={
            **pod_labels,
            **labels.owned(workspace=deployment.workspace, stack=deployment.stack, namespace=namespace,
                           kind=role, obj=f"deployment/{namespace}/{deployment.name}", pod=pod),
        },
        ports=_ports(container),
        nano_cpus=cpu,
        mem_limit=memory,
        extra_hosts=extra_hosts,
        restart=restart,
        stop_timeout=min(int(grace if grace is not None else 30), 10),
        readiness_path=_readiness_path(container),
    )


def _replicas(deployment: KubeObject) -> int:
    raw = deployment.spec.get("replicas", 1)
    try:
        replicas = int(raw)
    except (TypeError, ValueError):
        raise LocalRunError(f"{deployment.describe()}: replicas={raw!r} is not a number") from None
    if replicas < 0:
        raise LocalRunError(f"{deployment.describe()}: replicas={replicas} is negative")
    return replicas


def _check_selector(deployment: KubeObject, pod_labels: Mapping[str, str]) -> None:
    selector = block(deployment.spec.get("selector")) or {}
    if selector.get("match_expressions"):
        raise LocalRunError(f"{deployment.describe()}: selector match_expressions are not supported locally")
    for key, value in (selector.get("match_labels") or {}).items():
        if pod_labels.get(key) != value:
            raise LocalRunError(f"{deployment.describe()}: the selector {key}={value} does not match the pod template's labels")


def deployment_pods(deployment: KubeObject, namespaces: Namespaces, notes: Notes) -> list[PodPlan]:
    """One PodPlan per replica of a Deployment."""
    spec = deployment.spec
    for key, reason in DEPLOYMENT_IGNORED.items():
        if _filled(spec.get(key)):
            notes.add(f"deployment.{key}", reason)
    if deployment.body.get("wait_for_rollout"):
        notes.add("deployment wait_for_rollout", "`local up` waits for the published viewer only")
    template = deployment.pod_template
    pod_labels, annotations, pod_spec = template.labels, template.annotations, template.spec
    _check_selector(deployment, pod_labels)
    _note_fields(notes, "pod", pod_spec, POD_SPEC_HANDLED, POD_SPEC_IGNORED)
    if pod_spec.get("enable_service_links") is not False:
        notes.add("pod.enable_service_links", "no <SERVICE>_SERVICE_HOST variables are injected locally")
    restart_policy = pod_spec.get("restart_policy") or "Always"
    if restart_policy != "Always":
        raise LocalRunError(f"{deployment.describe()}: a Deployment's restart_policy must be Always, not {restart_policy}")
    containers = template.containers
    if not containers:
        raise LocalRunError(f"{deployment.describe()}: the pod template has no container")
    aliases = services.aliases_for(pod_labels, deployment.namespace, namespaces, containers)
    pods = []
    for index in range(_replicas(deployment)):
        pod = f"{deployment.name}-{index}"
        where = f"{deployment.describe()} pod {pod}"
        volumes, volume_plans = pod_volumes(pod_spec, namespaces=namespaces, deployment=deployment, pod=pod,
                                            where=where, notes=notes)
        common = dict(pod=pod, deployment=deployment, spec=pod_spec, namespaces=namespaces, volumes=volumes,
                      pod_labels=pod_labels, annotations=annotations, aliases=aliases, notes=notes)
        pods.append(PodPlan(
            name=pod,
            namespace=deployment.namespace,
            deployment=deployment,
            init_containers=[_container_plan(c, role=labels.INIT, **common) for c in template.init_containers],
            containers=[_container_plan(c, role=labels.APP, **common) for c in containers],
            volumes=volume_plans,
        ))
    return pods
