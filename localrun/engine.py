"""The container engine: Docker, or Podman through its Docker API, via the ``docker`` SDK.

WHY only the Docker API: it is what both engines speak, so the same code runs on a laptop
with Docker Desktop and on this project's CI with rootful Podman. Which engine, and setting
one up where none answers, is engine_setup's business. Everything made here carries the
labels of ``labels.py``.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import docker
import docker.errors
import requests
from docker.models.containers import Container
from docker.types import Mount

from . import engine_setup, labels
from .errors import LocalRunError
from .pods import ContainerPlan, MountPlan, VolumePlan
from .report import plural

EMPTY_DIR_MODE = 0o777  # what the kubelet gives an emptyDir
INIT_TIMEOUT_SECONDS = 600


def connect(say: Callable[[str], None] | None = None, *, set_up: bool = True) -> docker.DockerClient:
    """A client of the engine engine_setup finds (or, as root on Debian, sets up)."""
    found = engine_setup.find_engine(os.environ, say or (lambda message: None), set_up=set_up)
    try:
        return engine_setup.docker_client(found.docker_host)
    except (docker.errors.DockerException, requests.RequestException) as error:
        raise LocalRunError(f"the container engine at {found.docker_host} answered a ping but not the Docker API: {error}") from None


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


@dataclass(frozen=True)
class Listed:
    """A container as the engine's list shows it: enough to tell whether it is as planned."""

    id: str
    name: str
    status: str  # running, exited, created, ...
    labels: dict[str, str]


def listed(client: docker.DockerClient, **selector: str) -> dict[str, Listed]:
    """Our containers with every given label, by name, from one list call.

    WHY not :func:`containers`: the SDK's list inspects every container it lists (one more call
    each, 20-100 ms apiece on a busy Podman); the list itself has the names, labels and status."""
    found = client.api.containers(all=True, filters={"label": labels.selector(**selector)})
    entries = {}
    for entry in found:
        name = (entry.get("Names") or [""])[0].lstrip("/")
        state = entry.get("State")
        status = state.get("Status", "") if isinstance(state, dict) else str(state or "")
        entries[name] = Listed(id=entry["Id"], name=name, status=status, labels=entry.get("Labels") or {})
    return entries


def get_containers(client: docker.DockerClient, names: Iterable[str]) -> dict[str, Container | None]:
    """Each named container inspected (None: not there), the inspections at once."""
    names = list(dict.fromkeys(names))
    if not names:
        return {}
    with ThreadPoolExecutor(max_workers=min(8, len(names))) as pool:
        return dict(zip(names, pool.map(lambda name: _get(client, name), names)))


def _mount(plan: MountPlan) -> Mount:
    if plan.type == "tmpfs":
        return Mount(plan.target, None, type="tmpfs", read_only=plan.read_only,
                     tmpfs_size=plan.tmpfs_size, tmpfs_mode=EMPTY_DIR_MODE)
    return Mount(plan.target, plan.source, type="volume", read_only=plan.read_only)


#: The name containers reach this machine by: Podman's own name, given on Docker too.
HOST_NAME = "host.containers.internal"


def network_gateway(client: docker.DockerClient, network: str) -> str | None:
    """The gateway address of a network: this machine, as the network's containers reach it."""
    try:
        config = client.api.inspect_network(network).get("IPAM", {}).get("Config") or []
    except docker.errors.NotFound:
        return None
    return next((c["Gateway"] for c in config if c.get("Gateway") and ":" not in c["Gateway"]), None)


def create_container(client: docker.DockerClient, plan: ContainerPlan, *, network: str, fingerprint: str) -> Container:
    """Create (not start) the container of a plan, on the namespace's network.

    WHY ``host.containers.internal`` is given: a server on this machine (a notebook repository
    served by ``git daemon``, say) is reached by that name on both engines: Docker has no such
    name, and Podman takes it from this machine's /etc/hosts when that names it already (inside
    a container that is itself on a Podman network, where it is the outer host, not this one).
    The network's gateway is this machine on either. A pod's own ``host_aliases`` win."""
    gateway = network_gateway(client, network)
    extra_hosts = {**({HOST_NAME: gateway} if gateway else {}), **plan.extra_hosts}
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
        extra_hosts=extra_hosts or None,
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
    container.reload()
    how = health(container, kernel_oom_kills()) if status != 0 else None
    container.remove(force=True)
    if how is not None:
        raise LocalRunError(f"init container {plan.name} exited ({how.words()}):\n{log}")


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


# -- what happened to a container ----------------------------------------------------------
#
# WHY three sources for an OOM kill: the engine's State.OOMKilled is what Docker reports, but
# Podman 4.3 on cgroup v1 says false even when the kernel OOM-killed the container's main
# process (its exit code is then 137, as for any SIGKILL), and a container the engine restarted
# shows neither (ExitCode and OOMKilled are reset when it starts again). The kernel itself
# records every OOM kill: its log (/dev/kmsg: root, or kernel.dmesg_restrict=0) names the
# killed task's cgroup, which holds the container's id, and the running container's cgroup
# counts them (memory.events on cgroup v2, memory.oom_control on v1: ``oom_kill N``, readable by
# anyone). The counter is reset with each start and gone once the container exits, so the log is
# what tells that the last exit was an OOM kill.

KERNEL_LOG = Path("/dev/kmsg")
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: An OOM kill this long before the recorded exit (or after it: the clocks differ a little)
#: is taken as its cause when the exit status is 137 (SIGKILL).
OOM_BEFORE_EXIT_SECONDS = 10.0
OOM_AFTER_EXIT_SECONDS = 2.0
_OOM_TASK_CGROUP = re.compile(r"oom-kill:.*?\btask_memcg=([^,\s]+)|\bTask in (\S+) killed as a result of limit")
_TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?")


@dataclass(frozen=True)
class OomKill:
    at: float  # seconds since the epoch
    cgroup: str  # of the killed task; contains the container's id


def kernel_oom_kills(path: Path = KERNEL_LOG) -> list[OomKill] | None:
    """Every OOM kill the kernel's log still holds, or None when the log cannot be read here."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    boot = time.time() - time.clock_gettime(time.CLOCK_MONOTONIC)  # the log's clock starts at boot
    kills = []
    try:
        while True:
            try:
                record = os.read(descriptor, 16384)
            except BlockingIOError:
                break
            except OSError as error:
                if error.errno == errno.EPIPE:  # overwritten while we read: go on with the next
                    continue
                return None if error.errno in (errno.EPERM, errno.EACCES, errno.EINVAL) and not kills else kills
            if not record:
                break
            header, _, message = record.decode(errors="replace").partition(";")
            match = _OOM_TASK_CGROUP.search(message.split("\n", 1)[0])
            fields = header.split(",")
            if match and len(fields) >= 3 and fields[2].isdigit():
                kills.append(OomKill(boot + int(fields[2]) / 1e6, match.group(1) or match.group(2)))
    finally:
        os.close(descriptor)
    return kills


def _timestamp(text: str | None) -> float | None:
    """An engine time (``2024-05-01T10:00:00.123456789Z``) in seconds since the epoch; None for
    the engines' "never" (year 1) and anything else unreadable."""
    match = _TIMESTAMP.fullmatch(text or "")
    if not match or match.group(1).startswith("0001-"):
        return None
    zone = match.group(3) or "Z"
    zone = "+00:00" if zone == "Z" else zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    return datetime.fromisoformat(match.group(1) + zone).timestamp() + float(match.group(2) or 0)


def _cgroup_oom_kills(container: Container) -> int | None:
    """The OOM kills the running container's memory cgroup counted since it started, when this
    machine runs it (its PID's cgroup names the container's id) and the file is readable."""
    pid = (container.attrs.get("State") or {}).get("Pid")
    if not pid:
        return None
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, cgroup = line.split(":", 2)
        if container.id not in cgroup:
            continue  # not this container: another machine's PID, or not its cgroup
        relative = cgroup.lstrip("/")
        if controllers == "":
            candidates = [CGROUP_ROOT / relative / "memory.events", CGROUP_ROOT / "unified" / relative / "memory.events"]
        elif "memory" in controllers.split(","):
            candidates = [CGROUP_ROOT / "memory" / relative / "memory.oom_control"]
        else:
            continue
        for candidate in candidates:
            try:
                content = candidate.read_text()
            except OSError:
                continue
            for entry in content.splitlines():
                key, _, value = entry.partition(" ")
                if key == "oom_kill" and value.strip().isdigit():
                    return int(value)
    return None


def memory_words(size: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


@dataclass(frozen=True)
class Health:
    """What the engine and the kernel say about a container: is it running, how did it last
    exit (its status, an OOM kill), how often was it restarted."""

    name: str
    status: str  # the engine's: running, exited, restarting, created, ...
    exit_code: int | None  # of the last exit, while it is not running (None: running, or never ran)
    restarts: int  # by the engine's restart policy
    last_exit_oom: bool | None  # whether the last exit was an OOM kill (None: unknown, or no exit)
    oom_kills: int | None  # processes of it the kernel OOM-killed (None: nothing readable here)
    memory_limit: int | None  # bytes
    error: str | None  # the engine's own words about the last start or exit

    @property
    def running(self) -> bool:
        return self.status == "running"

    def as_json(self) -> dict:
        return {"exit_code": self.exit_code, "restarts": self.restarts, "oom_killed": self.last_exit_oom,
                "oom_kills": self.oom_kills, "memory_limit": self.memory_limit, "detail": self.words()}

    def exit_words(self) -> str:
        """``exit 137: OOM-killed``, ``exit 137: killed by SIGKILL``, ``exit 1``."""
        code = self.exit_code
        if code is None:
            return "never ran" if self.status == "created" else "no exit status"
        if self.last_exit_oom:
            return f"exit {code}: OOM-killed"
        words = f"exit {code}"
        if 128 < code < 128 + 65:
            try:
                words += f": killed by {signal.Signals(code - 128).name}"
            except ValueError:
                pass
            if code == 137 and self.last_exit_oom is None:
                words += " (an OOM kill or a kill: the kernel log, which tells, is not readable here)"
        return words

    def words(self) -> str:
        """Everything worth knowing beyond the status, in words ("" when nothing is)."""
        facts = []
        if self.status in ("running", "restarting", "paused"):
            if self.restarts:
                facts.append(f"restarted {plural(self.restarts, 'time')}"
                             + (", last exit: OOM-killed" if self.last_exit_oom else ""))
        else:
            facts.append(self.exit_words())
        others = (self.oom_kills or 0) - (1 if self.last_exit_oom else 0)
        if others > 0:
            more = " more" if self.last_exit_oom else ""
            facts.append(f"{others}{more} {'process' if others == 1 else 'processes'} OOM-killed")
        if (self.last_exit_oom or others > 0) and self.memory_limit:
            facts.append(f"memory limit {memory_words(self.memory_limit)}")
        if self.error:
            facts.append(f"the engine says: {self.error}")
        return "; ".join(facts)


def health(container: Container, kernel_kills: list[OomKill] | None) -> Health:
    """The container's :class:`Health`; ``kernel_kills`` is :func:`kernel_oom_kills` (read
    once for all containers), None when the kernel log is not readable."""
    state = container.attrs.get("State") or {}
    status = container.status
    restarts = int(container.attrs.get("RestartCount") or 0)
    running = status in ("running", "restarting", "paused")
    finished = _timestamp(state.get("FinishedAt"))
    exit_code = None if running or status == "created" or finished is None else state.get("ExitCode")
    mine = None if kernel_kills is None else [k for k in kernel_kills if container.id in k.cgroup]
    oom_kills = None if mine is None else len(mine)
    if running:
        live = _cgroup_oom_kills(container)
        if live is not None:
            oom_kills = max(oom_kills or 0, live)
    last_exit_oom: bool | None = None
    if finished is not None and (exit_code is not None or restarts):
        if state.get("OOMKilled"):
            last_exit_oom = True
        elif exit_code is not None and exit_code != 137:
            last_exit_oom = False  # an OOM kill is a SIGKILL
        elif mine is not None:
            last_exit_oom = any(finished - OOM_BEFORE_EXIT_SECONDS <= k.at <= finished + OOM_AFTER_EXIT_SECONDS for k in mine)
    memory = (container.attrs.get("HostConfig") or {}).get("Memory") or None
    return Health(name=container.name, status=status, exit_code=exit_code, restarts=restarts,
                  last_exit_oom=last_exit_oom, oom_kills=oom_kills, memory_limit=memory,
                  error=(state.get("Error") or "").strip() or None)
