"""The container engine: Docker, or Podman through its Docker API, via the ``docker`` SDK.

WHY only the Docker API: it is what both engines speak, so the same code runs on a laptop
with Docker Desktop and on this project's CI with rootful Podman. Which engine, and setting
one up where none answers, is engine_setup's business. Everything made here carries the
labels of ``labels.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import docker
import docker.errors
from docker.models.containers import Container
from docker.types import Mount

from . import engine_setup, labels
from .errors import LocalRunError
from .pods import ContainerPlan, MountPlan, VolumePlan

EMPTY_DIR_MODE = 0o777  # what the kubelet gives an emptyDir
INIT_TIMEOUT_SECONDS = 600


def connect(say: Callable[[str], None] | None = None, *, set_up: bool = True) -> docker.DockerClient:
    """A client of the engine engine_setup finds (or, as root on Debian, sets up)."""
    found = engine_setup.find_engine(os.environ, say or (lambda message: None), set_up=set_up)
    client = docker.DockerClient(base_url=found.docker_host)
    try:
        client.ping()
    except docker.errors.DockerException as error:
        raise LocalRunError(f"the container engine at {found.docker_host} answered a ping but not the Docker API: {error}") from None
    return client


def is_podman(client: docker.DockerClient) -> bool:
    version = client.version()
    return any("podman" in str(c.get("Name", "")).lower() for c in version.get("Components", []))


# -- images ---------------------------------------------------------------------------------
def image_details(client: docker.DockerClient, reference: str) -> tuple[str, str | None] | None:
    """(id, user) of a local image, or None when it is not there."""
    try:
        image = client.images.get(reference)
    except docker.errors.ImageNotFound:
        return None
    user = (image.attrs.get("Config") or {}).get("User") or None
    return image.id, user


# -- networks -------------------------------------------------------------------------------
def ensure_network(client: docker.DockerClient, namespace: str):
    name = labels.network_name(namespace)
    existing = client.networks.list(names=[name])
    for network in existing:
        if network.name == name:
            return network
    return client.networks.create(
        name,
        driver="bridge",
        labels={labels.MARKER: "true", labels.NAMESPACE: namespace, labels.KIND: labels.NETWORK},
    )


def networks(client: docker.DockerClient, namespace: str | None = None) -> list:
    """Our networks (of one namespace). The label is checked here too, as for volumes: a network
    of another namespace must never be taken for this one's."""
    filters = [f"{labels.MARKER}=true"] + ([f"{labels.NAMESPACE}={namespace}"] if namespace else [])
    found = client.networks.list(filters={"label": filters})
    return [n for n in found if namespace is None or (n.attrs.get("Labels") or {}).get(labels.NAMESPACE) == namespace]


def network_users(client: docker.DockerClient, network) -> list[str]:
    """Names of the containers that use a network: the local run's (of any workspace, running or
    not, by the namespace label) and any other container attached to it (the engine's view)."""
    namespace = (network.attrs.get("Labels") or {}).get(labels.NAMESPACE)
    users = {c.name for c in containers(client, namespace=namespace)} if namespace else set()
    try:
        network.reload()
    except docker.errors.NotFound:
        return []
    users |= {entry.get("Name") or key[:12] for key, entry in (network.attrs.get("Containers") or {}).items()}
    return sorted(users)


def remove_unused_networks(client: docker.DockerClient, namespaces: Iterable[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Remove the networks of these namespaces that no container uses: (removed, kept -> users).

    WHY check first: Podman 4.3's Docker API removes a network even while containers use it
    (they then lose it, and a stopped one cannot start again), so "in use" is never left to the
    engine to refuse. A network is shared by every workspace using its namespace."""
    removed: list[str] = []
    kept: dict[str, list[str]] = {}
    for namespace in sorted(set(namespaces)):
        for network in networks(client, namespace):
            users = network_users(client, network)
            if users:
                kept[network.name] = users
                continue
            try:
                network.remove()
                removed.append(network.name)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as error:
                raise LocalRunError(f"cannot remove network {network.name}: {error.explanation or error}") from None
    return removed, kept


# -- volumes --------------------------------------------------------------------------------
def ensure_volume(client: docker.DockerClient, plan: VolumePlan, *, namespace: str, pod: str | None) -> None:
    try:
        client.volumes.get(plan.name)
        return
    except docker.errors.NotFound:
        pass
    client.volumes.create(
        name=plan.name,
        labels=labels.owned(workspace=plan.workspace, stack=plan.stack, namespace=namespace, kind=plan.kind,
                            obj=plan.owner, pod=pod if plan.kind == labels.EMPTY_DIR else None),
    )


def volumes(client: docker.DockerClient, **selector: str) -> list:
    """Our volumes with every given label. The filter is applied here: Podman 4.3 ORs several
    label filters of a volume list (containers and Docker AND them)."""
    wanted = [item.split("=", 1) for item in labels.selector(**selector)]
    found = client.volumes.list(filters={"label": [f"{labels.MARKER}=true"]})
    return [v for v in found if all((v.attrs.get("Labels") or {}).get(k) == value for k, value in wanted)]


def remove_volumes(client: docker.DockerClient, names: Iterable[str]) -> None:
    for name in names:
        try:
            client.volumes.get(name).remove(force=True)
        except docker.errors.NotFound:
            pass


# -- containers -----------------------------------------------------------------------------
def containers(client: docker.DockerClient, **selector: str) -> list[Container]:
    return client.containers.list(all=True, filters={"label": labels.selector(**selector)})


def _mount(plan: MountPlan) -> Mount:
    if plan.type == "tmpfs":
        return Mount(plan.target, None, type="tmpfs", read_only=plan.read_only,
                     tmpfs_size=plan.tmpfs_size, tmpfs_mode=EMPTY_DIR_MODE)
    return Mount(plan.target, plan.source, type="volume", read_only=plan.read_only)


def create_container(client: docker.DockerClient, plan: ContainerPlan, *, network: str, fingerprint: str) -> Container:
    """Create (not start) the container of a plan, on the namespace's network."""
    endpoint = client.api.create_endpoint_config(aliases=plan.aliases or None)
    options = dict(
        image=plan.image,
        name=plan.name,
        hostname=plan.hostname,
        labels={**plan.labels, labels.SPEC_HASH: fingerprint, labels.STOP_TIMEOUT: str(plan.stop_timeout)},
        environment=plan.environment,
        working_dir=plan.working_dir,
        user=plan.user,
        group_add=plan.group_add or None,
        read_only=plan.read_only,
        cap_add=plan.cap_add or None,
        cap_drop=plan.cap_drop or None,
        security_opt=plan.security_opt or None,
        privileged=plan.privileged,
        mounts=[_mount(m) for m in plan.mounts],
        network=network,
        networking_config={network: endpoint},
        extra_hosts=plan.extra_hosts or None,
        nano_cpus=plan.nano_cpus,
        mem_limit=plan.mem_limit,
        # Kubernetes does not run an image's HEALTHCHECK; probes are the Deployment's business.
        healthcheck={"test": ["NONE"]},
        detach=True,
    )
    if plan.entrypoint is not None:
        options["entrypoint"] = plan.entrypoint
    if plan.command is not None:
        options["command"] = plan.command
    if plan.restart:
        options["restart_policy"] = {"Name": plan.restart}
    if plan.published:
        options["ports"] = {f"{port}/tcp": ("127.0.0.1", host) for port, host in plan.published.items()}
    try:
        return client.containers.create(**options)
    except docker.errors.APIError as error:
        raise LocalRunError(f"cannot create container {plan.name}: {error.explanation or error}") from None


def start(container: Container) -> None:
    """Start a created container; one that cannot start is removed (nothing stays "Created")."""
    try:
        container.start()
    except docker.errors.APIError as error:
        try:
            container.remove(force=True)
        except docker.errors.APIError:
            pass
        raise LocalRunError(f"cannot start container {container.name}: {error.explanation or error}") from None


def run_to_completion(client: docker.DockerClient, plan: ContainerPlan, *, network: str, fingerprint: str) -> None:
    """An init container: start it and wait until it exits; fail with its log if it fails."""
    existing = _get(client, plan.name)
    if existing is not None:
        existing.remove(force=True)
    container = create_container(client, plan, network=network, fingerprint=fingerprint)
    start(container)
    try:
        status = container.wait(timeout=INIT_TIMEOUT_SECONDS).get("StatusCode", 1)
    except Exception:  # noqa: BLE001 - a timeout of the wait
        container.remove(force=True)
        raise LocalRunError(f"init container {plan.name} did not finish within {INIT_TIMEOUT_SECONDS} s") from None
    log = container.logs(tail=20).decode(errors="replace")
    container.remove(force=True)
    if status != 0:
        raise LocalRunError(f"init container {plan.name} exited with status {status}:\n{log}")


def _get(client: docker.DockerClient, name: str) -> Container | None:
    try:
        return client.containers.get(name)
    except docker.errors.NotFound:
        return None


def get_container(client: docker.DockerClient, name: str) -> Container | None:
    return _get(client, name)


def remove_containers(items: Iterable[Container]) -> None:
    """Stop (SIGTERM, then SIGKILL after the pod's grace period, at most 10 s) and remove, all at once."""

    def remove(container: Container) -> None:
        try:
            if container.status == "running":
                container.stop(timeout=int(container.labels.get(labels.STOP_TIMEOUT, "10")))
            container.remove(force=True)
        except docker.errors.NotFound:
            pass

    items = list(items)
    if not items:
        return
    with ThreadPoolExecutor(max_workers=min(8, len(items))) as pool:
        for future in [pool.submit(remove, c) for c in items]:
            future.result()


def logs_tail(container: Container, lines: int = 20) -> str:
    try:
        return container.logs(tail=lines).decode(errors="replace").rstrip()
    except docker.errors.APIError:
        return "(no log)"


def published_port(container: Container, container_port: int) -> int | None:
    bindings = (container.attrs.get("HostConfig") or {}).get("PortBindings") or {}
    for binding in bindings.get(f"{container_port}/tcp") or []:
        if binding.get("HostPort"):
            return int(binding["HostPort"])
    return None
