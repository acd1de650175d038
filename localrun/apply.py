"""``local up``: make the engine run what the plan says, then wait for the viewer.

WHY declarative, like ``terraform apply``: a second ``up`` compares each container's
fingerprint (its whole plan plus the image id) with the running one and only replaces what
changed, so raising IPYTHON_ENGINES adds engines and keeps the viewer (and its kernels), and
containers the stacks no longer declare are removed. A pod is replaced as a whole (its init
containers run again, its emptyDir volumes start empty), as Kubernetes replaces pods.

A container that is as planned but stopped (``podman kill``/``docker kill`` or ``stop``, which
the engine's restart policy takes as deliberate, or one the engine gave up on) is started
again in its pod, keeping its emptyDirs and without the init containers, as the kubelet
restarts a container of a pod.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from . import engine, images, labels
from .errors import LocalRunError, UsageError
from .plan import Plan, engines_of, make_plan
from .pods import ContainerPlan, PodPlan, check_non_root
from .report import Reporter, elapsed, plural
from .services import Route
from .state import State, locked_state
from .synth import SynthApp, read_app, synthesize

READY_POLL_SECONDS = 1.0
#: While nothing listens on the viewer's port yet (connection refused), it is asked this often:
#: a refused connection costs the viewer nothing, and the viewer is what `up` waits for.
REFUSED_POLL_SECONDS = 0.1
#: Pods started at once (each runs its init containers, then its containers, in order).
PARALLEL_PODS = 8
CRASH_RESTARTS = 3
#: Statuses of a container that `up` starts again in place (when it is otherwise as planned).
RESTARTABLE = ("exited", "created", "stopped", "configured")


@dataclass(frozen=True)
class UpOptions:
    project: Path
    state_dir: Path
    workspace: str
    stacks: list[str] | None
    from_dir: Path | None
    port: int | None
    rebuild: bool
    allow_build: bool
    timeout: float
    environ: Mapping[str, str]


@dataclass(frozen=True)
class Viewer:
    url: str
    password: str | None
    engines: int
    container: str

    def as_json(self) -> dict:
        return {"url": self.url, "password": self.password, "engines": self.engines}


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _published_plan(plan: Plan, route: Route) -> ContainerPlan:
    first_pod = next(p for p in plan.pods if p.deployment is route.deployment)
    return next(c for c in first_pod.containers if c.container == route.container)


def assign_ports(client, plan: Plan, state: State, requested: int | None) -> list[tuple[Route, ContainerPlan]]:
    """Give every route a port on 127.0.0.1: --port, else the one it had, else a free one."""
    if requested is not None and len(plan.routes) != 1:
        raise UsageError(f"--port {requested}: these stacks publish {len(plan.routes)} viewers; --port needs exactly one")
    published = []
    for route in plan.routes:
        if not any(p.deployment is route.deployment for p in plan.pods):
            raise LocalRunError(f"{route.source.describe()}: Deployment {route.deployment.name} has 0 replicas; nothing to publish")
        container_plan = _published_plan(plan, route)
        existing = engine.get_container(client, container_plan.name)
        held = engine.published_port(existing, route.container_port) if existing is not None else None
        remembered = state.published_port(plan.workspace, route.key)
        if requested is not None:
            if requested != held and not _port_is_free(requested):
                raise UsageError(f"--port {requested}: 127.0.0.1:{requested} is in use")
            port = requested
        elif remembered is not None and (remembered == held or _port_is_free(remembered)):
            port = remembered
        else:
            port = _free_port()
        container_plan.published[route.container_port] = port
        state.set_published_port(plan.workspace, route.key, port)
        published.append((route, container_plan))
    return published


class Applier:
    def __init__(self, client, plan: Plan, image_ids: Mapping[str, str], say: Reporter):
        self.client = client
        self.plan = plan
        self.image_ids = image_ids
        self.say = say

    def fingerprint(self, container: ContainerPlan) -> str:
        return container.fingerprint(self.image_ids[container.image])

    def _stopped_containers(self, pod: PodPlan, listed: Mapping[str, engine.Listed]) -> list | None:
        """The pod's containers that are stopped but otherwise as planned ([] when all run), or
        None when the pod must be replaced (a container missing, changed or in another state)."""
        stopped = []
        for container in pod.containers:
            existing = listed.get(container.name)
            if existing is None or existing.labels.get(labels.SPEC_HASH) != self.fingerprint(container):
                return None
            if existing.status in RESTARTABLE:
                stopped.append(existing)
            elif existing.status not in ("running", "restarting"):
                return None
        return stopped

    def _remove_pod(self, pod_name: str) -> None:
        owned = engine.containers(self.client, workspace=self.plan.workspace, pod=pod_name)
        engine.remove_containers(owned)
        engine.remove_volumes(self.client, (v.name for v in engine.volumes(self.client, workspace=self.plan.workspace, pod=pod_name)))

    def apply(self) -> tuple[int, int]:
        """(started, kept) containers.

        WHY one list: what runs is read once (names, labels, status); a second ``up`` with every
        container as planned makes no other call of the engine here. Containers are inspected
        only to be removed or restarted."""
        workspace = self.plan.workspace
        wanted_pods = {pod.name for pod in self.plan.pods}
        listed = engine.listed(self.client, workspace=workspace)
        stale_names = [
            name for name, c in listed.items()
            if c.labels.get(labels.STACK) in self.plan.stack_names and c.labels.get(labels.POD) not in wanted_pods
        ]
        stale = [c for c in engine.get_containers(self.client, stale_names).values() if c is not None]
        if stale:
            doomed = plural(len(stale), "container")
            with self.say.step(f"removing {doomed} the stacks no longer declare", still="removing",
                               done=f"removed {doomed}"):
                for container in stale:
                    self.say.detail(f"removing container {container.name}")
                engine.remove_containers(stale)
                for pod_name in {c.labels.get(labels.POD) for c in stale}:
                    self._remove_pod(pod_name)
        stopped = {pod.name: self._stopped_containers(pod, listed) for pod in self.plan.pods}
        to_start = [pod for pod in self.plan.pods if stopped[pod.name] is None]
        to_restart = [c for pod in self.plan.pods for c in stopped[pod.name] or []]
        kept = sum(len(p.containers) for p in self.plan.pods if p not in to_start) - len(to_restart)
        if to_start or to_restart:
            for namespace in sorted({pod.namespace for pod in self.plan.pods}):
                engine.ensure_network(self.client, namespace)
        if to_restart:
            self._restart([c for c in engine.get_containers(self.client, (c.name for c in to_restart)).values()
                           if c is not None])
        count = sum(len(p.containers) for p in to_start)
        if not to_start:
            return count + len(to_restart), kept
        containers = plural(count, "container")
        keeping = f", keeping {kept}" if kept else ""
        with self.say.step(f"starting {containers} in {plural(len(to_start), 'pod')}{keeping}",
                           still="starting containers", done=f"started {containers}") as step:
            self._start_pods(to_start, listed, step)
        return count + len(to_restart), kept

    def _start_pods(self, pods: list[PodPlan], listed: Mapping[str, engine.Listed], step) -> None:
        """Start the pods at once, the viewer's (the published ones) first.

        WHY at once: a container's creation and start are mostly the engine's own work (storage,
        network, the runtime), 0.5-1 s each on a busy 2-core machine; one after the other, the
        viewer, which `up` and its user wait for, started last. Each pod still runs its init
        containers to completion before its containers, as the kubelet does. Volumes shared by
        pods (claims) are made first, once; a pod's emptyDirs are its own."""
        pods = sorted(pods, key=lambda pod: not any(c.published for c in pod.containers))
        for pod in pods:
            for volume in pod.volumes:
                if volume.kind != labels.EMPTY_DIR:
                    engine.ensure_volume(self.client, volume, namespace=pod.namespace, pod=pod.name)
        names = {pod.name for pod in pods}
        leftover = {c.labels.get(labels.POD) for c in listed.values()} & names
        leftover |= {(v.attrs.get("Labels") or {}).get(labels.POD)
                     for v in engine.volumes(self.client, workspace=self.plan.workspace)} & names
        # Daemon threads, not a pool: Ctrl-C ends `up` at once (`local down` removes what was
        # made), instead of waiting at exit for a pod whose init container runs for minutes.
        outcomes: queue.Queue[BaseException | None] = queue.Queue()
        slots = threading.BoundedSemaphore(PARALLEL_PODS)

        def start(pod: PodPlan) -> None:
            with slots:
                try:
                    self._start_pod(pod, pod.name in leftover)
                    outcomes.put(None)
                except BaseException as error:  # noqa: BLE001 - handed to the main thread
                    outcomes.put(error)

        for pod in pods:  # in this order: the viewer's first
            threading.Thread(target=start, args=(pod,), name=f"start {pod.name}", daemon=True).start()
        failures = []
        for done in range(len(pods)):
            step.status = f"{done} of {len(pods)} pods started"
            outcome = outcomes.get()
            if outcome is not None:
                failures.append(outcome)  # every pod gets its chance; the first failure is raised
        if failures:
            raise failures[0]

    def _restart(self, stopped: list) -> None:
        """Start stopped containers again in their pod, as the kubelet restarts a container:
        the pod's volumes (emptyDirs) and the other containers stay, init containers do not
        run again. The engine restarts a container whose process died by itself; one stopped
        with ``podman kill``/``docker kill``/``stop`` it leaves down, as deliberately stopped."""
        kernel_kills = engine.kernel_oom_kills()
        containers = plural(len(stopped), "stopped container")
        with self.say.step(f"restarting {containers}", still="restarting", done=f"restarted {containers}"):
            for container in stopped:
                self.say(f"restarting container {container.name} "
                         f"({engine.health(container, kernel_kills).words() or container.status})")
                engine.start(container)

    def _start_pod(self, pod: PodPlan, leftover: bool = True) -> None:
        """``leftover``: the pod may have containers or emptyDirs of an earlier run to remove."""
        if leftover:
            self._remove_pod(pod.name)
        network = labels.network_name(pod.namespace)
        for volume in pod.volumes:
            engine.ensure_volume(self.client, volume, namespace=pod.namespace, pod=pod.name)
        for init in pod.init_containers:
            self.say(f"running init container {init.container} of {pod.name}")
            engine.run_to_completion(self.client, init, network=network, fingerprint=self.fingerprint(init))
        created = [
            engine.create_container(self.client, c, network=network, fingerprint=self.fingerprint(c))
            for c in pod.containers
        ]
        for container in created:
            engine.start(container)
        self.say.detail(f"started pod {pod.name}: {', '.join(c.name for c in created)}")


def _viewer(route: Route, container: ContainerPlan, plan: Plan) -> Viewer:
    port = container.published[route.container_port]
    path = route.path if route.path.startswith("/") else f"/{route.path}"
    return Viewer(
        url=f"http://127.0.0.1:{port}{path}",
        password=plan.viewer_password(route),
        engines=engines_of(container.environment, plan.namespaces),
        container=container.name,
    )


def _check_running(client, plan: Plan) -> None:
    plans = [c for pod in plan.pods for c in pod.containers]
    found = engine.get_containers(client, (c.name for c in plans))  # inspected at once
    for container_plan in plans:
        container = found[container_plan.name]
        if container is None:
            raise LocalRunError(f"container {container_plan.name} disappeared")
        restarts = container.attrs.get("RestartCount", 0) or 0
        if container.status in ("exited", "dead") and not container_plan.restart or restarts >= CRASH_RESTARTS:
            health = engine.health(container, engine.kernel_oom_kills())
            raise LocalRunError(
                f"container {container_plan.name} keeps exiting (status {container.status}, {restarts} restarts"
                f"{'; ' + health.words() if health.words() else ''}); its log ends with:\n{engine.logs_tail(container)}"
            )


def _check_listed(client, plan: Plan) -> None:
    """:func:`_check_running` from one list of the workspace's containers, for an ``up`` that
    started nothing: every container there and running (or being restarted by the engine) is
    all a list can tell, and all that matters when nothing new was started; anything else gets
    the whole check (inspecting each, the restart counts, the words)."""
    found = engine.listed(client, workspace=plan.workspace)
    for pod in plan.pods:
        for container_plan in pod.containers:
            listed = found.get(container_plan.name)
            if listed is None or listed.status not in ("running", "restarting"):
                _check_running(client, plan)
                return


def _refused(error: BaseException) -> bool:
    """Whether a request failed because nothing listens on the port (the connection refused, or
    reset before an answer by a port forwarder with no server behind it)."""
    pending: list[object] = [error]
    seen: set[int] = set()
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (ConnectionRefusedError, ConnectionResetError)):
            return True
        pending.extend((item.__cause__, item.__context__, getattr(item, "reason", None), *item.args))
    return False


def wait_for_viewers(client, plan: Plan, published: list[tuple[Route, ContainerPlan]], *, timeout: float,
                     say: Reporter, started: bool = True) -> list[Viewer]:
    """Poll each published viewer until it answers, checking the containers meanwhile; at the
    end every container must still be there and not keep exiting. ``started``: this ``up``
    started or restarted containers (when it did not, the last check is one list)."""
    viewers = [_viewer(route, container, plan) for route, container in published]
    deadline = time.monotonic() + timeout
    for (route, container), viewer in zip(published, viewers):
        port = container.published[route.container_port]
        probe = f"http://127.0.0.1:{port}{container.readiness_path or '/'}"
        with say.step(f"waiting for the viewer at {viewer.url}", still="waiting for the viewer",
                      done="the viewer answered"):
            say.detail(f"polling {probe} every {READY_POLL_SECONDS:.0f} s (every {REFUSED_POLL_SECONDS} s while "
                       f"nothing listens there) until it answers (--timeout {timeout:.0f} s)")
            checked = time.monotonic()
            while True:
                refused = False
                try:
                    if requests.get(probe, timeout=3, allow_redirects=False).status_code < 400:
                        break
                except requests.ConnectionError as error:
                    refused = _refused(error)
                except requests.RequestException:
                    pass
                if not refused or time.monotonic() - checked >= READY_POLL_SECONDS:
                    _check_running(client, plan)  # the containers: at most every READY_POLL_SECONDS
                    checked = time.monotonic()
                if time.monotonic() > deadline:
                    log = engine.logs_tail(engine.get_container(client, container.name))
                    raise LocalRunError(
                        f"the viewer {container.name} did not answer {probe} within {timeout:.0f} s "
                        f"(--timeout); its log ends with:\n{log}"
                    )
                time.sleep(REFUSED_POLL_SECONDS if refused else READY_POLL_SECONDS)
    if started:
        _check_running(client, plan)
    else:
        _check_listed(client, plan)
    return viewers


def _read_stacks(options: UpOptions, say: Reporter) -> SynthApp:
    if options.from_dir is not None:
        app = read_app(options.from_dir)
        say(f"read {plural(len(app.stacks), 'stack')} from {options.from_dir}")
        return app
    with say.step("synthesizing the stacks (python infra/main.py)", still="synthesizing") as step:
        app = synthesize(options.project, options.state_dir / "synth", options.environ)
        step.done(f"synthesized {plural(len(app.stacks), 'stack')}")
    say.detail(f"stacks: {', '.join(app.stacks)} (in {app.directory})")
    return app


def up(options: UpOptions, say: Reporter) -> list[Viewer]:
    started_at = time.monotonic()
    with locked_state(options.state_dir) as state:
        app = _read_stacks(options, say)
        plan = make_plan(app, workspace=options.workspace, stacks=options.stacks, state=state, variables=options.environ)
        plan.notes.report(say)
        client = engine.connect(say)
        published = assign_ports(client, plan, state, options.port)
        for result in plan.stacks:  # the networks `down` will look at (see teardown.py)
            state.add_namespaces(options.workspace, result.name,
                                 {pod.namespace for pod in plan.pods if pod.deployment.stack == result.name})
        state.save()  # generated values are kept even if what follows fails (as Terraform does)
        image_details = images.ensure_images(
            client, {c.image for pod in plan.pods for c in pod.all_containers},
            rebuild=options.rebuild, allow_build=options.allow_build, say=say,
        )
        for pod in plan.pods:
            for container in pod.all_containers:
                check_non_root(container, image_details[container.image][1])
        applier = Applier(client, plan, {ref: d[0] for ref, d in image_details.items()}, say)
        started, kept = applier.apply()
        if not started:
            say({0: "the stacks declare no container", 1: "the container is up to date"}.get(
                kept, f"all {kept} containers are up to date"))
        for result in plan.stacks:
            state.set_applied(options.workspace, result.name, {
                "objects": [o.to_state() for o in result.objects],
                "outputs": result.outputs,
            })
        state.save()
        viewers = wait_for_viewers(client, plan, published, timeout=options.timeout, say=say, started=bool(started))
    say(f"up in {elapsed(time.monotonic() - started_at)}")
    return viewers
