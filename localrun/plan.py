"""From synthesized stacks to what should run: evaluation, objects, pods, routes.

WHY separate from ``apply``: everything here is decided before the engine is touched, so a
stack the local run cannot express (an unknown resource type, a missing Secret, a Service
that remaps a port) fails with nothing created, and the plan can be inspected in tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import catalog, services
from .errors import UsageError
from .evaluation import AppEvaluation
from .notes import Notes
from .objects import KubeObject, Namespaces, blocks, make_object
from .pods import PodPlan, deployment_pods
from .state import State
from .synth import SynthApp


#: The viewer construct's outputs are ``<prefix>_url`` and ``<prefix>_password``.
URL_OUTPUT, PASSWORD_OUTPUT = "_url", "_password"


@dataclass
class StackResult:
    name: str
    objects: list[KubeObject]
    outputs: dict[str, Any]


@dataclass
class Plan:
    workspace: str
    stacks: list[StackResult]
    namespaces: Namespaces
    pods: list[PodPlan]
    routes: list[services.Route]
    notes: Notes = field(default_factory=Notes)

    @property
    def stack_names(self) -> list[str]:
        return [s.name for s in self.stacks]

    def objects(self) -> list[KubeObject]:
        return [o for s in self.stacks for o in s.objects]

    def viewer_password(self, route: services.Route) -> str | None:
        """The password a viewer construct declares for the viewer behind ``route``: the output
        ``<prefix>_password`` next to the output ``<prefix>_url`` that names the route's Ingress
        host (``https://<host>/``). None when the stack has no such outputs (``outputs=False``,
        or a stack not made by the library): the local run does not read containers' secrets."""
        hosts = {rule.get("host") for rule in blocks(route.source.spec.get("rule")) if rule.get("host")}
        outputs = next((s.outputs for s in self.stacks if s.name == route.source.stack), {})
        for name, value in outputs.items():
            prefix = name.removesuffix(URL_OUTPUT)
            if name.endswith(URL_OUTPUT) and isinstance(value, str) and urlsplit(value).hostname in hosts:
                password = outputs.get(prefix + PASSWORD_OUTPUT)
                return password if isinstance(password, str) else None
        return None


def _ignored_parts(notes: Notes, stack_config: Mapping[str, Any], objects: list[KubeObject]) -> None:
    if stack_config.get("provider"):
        notes.add("provider", catalog.IGNORED_PARTS["provider"])
    if stack_config.get("terraform", {}).get("backend"):
        notes.add("backend", catalog.IGNORED_PARTS["backend"])
    for obj in objects:
        if obj.kind == "Ingress" and (blocks(obj.spec.get("tls")) or any(r.get("host") for r in blocks(obj.spec.get("rule")))):
            notes.add("Ingress TLS and host", catalog.IGNORED_PARTS["ingress-tls"])


def make_plan(
    app: SynthApp,
    *,
    workspace: str,
    stacks: list[str] | None,
    state: State,
    variables: Mapping[str, str],
) -> Plan:
    names = stacks or list(app.stacks)
    unknown = [n for n in names if n not in app.stacks]
    if unknown:
        raise UsageError(f"--stack {unknown[0]}: no such stack; the app has {', '.join(sorted(app.stacks))}")
    evaluation = AppEvaluation(app, state=state, variables=variables)
    notes = Notes()
    results: list[StackResult] = []
    for stack in app.ordered(names):
        evaluator = evaluation.evaluator(stack.name, workspace)
        # Classify first: an unknown type is reported before anything is evaluated or generated.
        for resource_type, named in stack.config.get("resource", {}).items():
            for name in named:
                kind = catalog.classify(resource_type, stack=stack.name, address=f"{resource_type}.{name}")
                if kind == "ignored":
                    notes.add(resource_type, catalog.IGNORED[resource_type])
        resources = evaluator.resources()
        paths = evaluator.construct_paths()
        objects = [
            make_object(catalog.OBJECT_KINDS[t], workspace=workspace, stack=stack.name, address=f"{t}.{n}",
                        path=paths[(t, n)], body=body)
            for (t, n), body in resources.items()
            if t in catalog.OBJECT_KINDS
        ]
        _ignored_parts(notes, stack.config, objects)
        results.append(StackResult(stack.name, objects, evaluator.outputs()))

    namespaces = Namespaces()
    selected = {s.name for s in results}
    for other_workspace, stack_name, applied in state.applied_stacks():
        if other_workspace == workspace and stack_name in selected:
            continue  # replaced by this run
        namespaces.extend(KubeObject.from_state(other_workspace, o) for o in applied.get("objects", []))
    for result in results:
        namespaces.extend(result.objects)

    pods = [
        pod
        for result in results
        for obj in result.objects
        if obj.kind == "Deployment"
        for pod in deployment_pods(obj, namespaces, notes)
    ]
    routes = services.routes([o for r in results for o in r.objects], namespaces)
    return Plan(workspace=workspace, stacks=results, namespaces=namespaces, pods=pods, routes=routes, notes=notes)


def engines_of(viewer_env: Mapping[str, str], namespaces: Namespaces) -> int:
    """How many engines the cluster a viewer is linked to declares (0 when it has none).

    The link is the image's public interface: the viewer's IPYTHON_CLUSTER_LABEL equals the
    engines' IPYTHON_CLUSTER_LABEL, engines have IPYTHON_CONTAINER_TYPE=engine.
    """
    label = viewer_env.get("IPYTHON_CLUSTER_LABEL")
    if not label:
        return 0
    total = 0
    for deployment in namespaces.of_kind("Deployment"):
        for container in deployment.pod_template.containers:
            env = {e.get("name"): e.get("value") for e in blocks(container.get("env"))}
            if env.get("IPYTHON_CONTAINER_TYPE") == "engine" and env.get("IPYTHON_CLUSTER_LABEL") == label:
                total += int(deployment.spec.get("replicas", 1))
                break
    return total
