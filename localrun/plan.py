"""From synthesized stacks to what should run: evaluation, objects, pods, routes.

WHY separate from ``apply``: everything here is decided before the engine is touched, so a
stack the local run cannot express (an unknown resource type, a missing Secret, a Service
that remaps a port) fails with nothing created, and the plan can be inspected in tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import catalog, services
from .errors import LocalRunError, UsageError
from .evaluation import StackEvaluator, remote_state_path
from .notes import Notes
from .objects import KubeObject, Namespaces, blocks, make_object
from .pods import PodPlan, deployment_pods
from .state import State
from .synth import SynthApp


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


class AppEvaluation:
    """The evaluators of one app, per (stack, workspace), answering each other's remote state."""

    def __init__(self, app: SynthApp, *, state: State, variables: Mapping[str, str]):
        self.app = app
        self.state = state
        self.variables = variables
        self._evaluators: dict[tuple[str, str], StackEvaluator] = {}

    def evaluator(self, stack: str, workspace: str) -> StackEvaluator:
        key = (stack, workspace)
        if key not in self._evaluators:
            self._evaluators[key] = StackEvaluator(
                self.app.stacks[stack], workspace=workspace, state=self.state, variables=self.variables,
                remote_outputs=lambda source, backend, config, ws: self.remote_outputs(source, backend, config, ws),
            )
        return self._evaluators[key]

    def remote_outputs(self, source: str, backend: str, config: Mapping[str, Any], workspace: str) -> dict[str, Any]:
        """A terraform_remote_state answered by evaluating the stack that writes that state."""
        wanted = remote_state_path(self.app.stacks[source], backend, config)
        for name in self.app.stacks:
            if name != source and self.evaluator(name, workspace).state_path() == wanted:
                return self.evaluator(name, workspace).outputs()
        raise LocalRunError(
            f"{source}: terraform_remote_state reads {wanted}, which no stack of this app writes; "
            f"the local run can only answer remote states of stacks in the same app"
        )


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
        template = deployment.spec.get("template") or {}
        template = template[0] if isinstance(template, list) else template
        spec = template.get("spec") or {}
        spec = spec[0] if isinstance(spec, list) else spec
        for container in blocks(spec.get("container")):
            env = {e.get("name"): e.get("value") for e in blocks(container.get("env"))}
            if env.get("IPYTHON_CONTAINER_TYPE") == "engine" and env.get("IPYTHON_CLUSTER_LABEL") == label:
                total += int(deployment.spec.get("replicas", 1))
                break
    return total
