"""``local down``: remove what ``up`` made for a workspace, found by its labels.

WHY by label and not from the state: an interrupted ``up`` may have made containers the state
does not list yet; the labels are on everything from the moment it exists. The workspace
volumes (PersistentVolumeClaims) go too unless ``--keep-volumes``. The generated values stay in
the state (the next ``up`` gets the same password, key and labels) unless ``--forget``.

Networks: a namespace is one network, shared by every workspace whose stacks use that
namespace (two viewers of one cluster). ``down`` only considers the networks of the namespaces
this workspace's stacks used (their containers' and volumes' labels, and the namespaces the
state noted at each ``up``, which ``down`` keeps unless ``--forget``), and removes one only when no container at all uses it any more: a
container of any workspace, running or stopped, or any other container attached to it. Idle
networks of other namespaces are another workspace's business (its own ``down``).

The state is written first: a state that cannot be written (read-only, full disk) stops
``down`` before it removed anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import engine, labels
from .errors import UsageError
from .report import Reporter, plural
from .state import State, locked_state


@dataclass(frozen=True)
class DownOptions:
    state_dir: Path
    workspace: str
    stacks: list[str] | None
    keep_volumes: bool
    forget: bool


def _recorded_namespaces(state: State, workspace: str, stacks: list[str]) -> set[str]:
    """The namespaces the state says these stacks used: those `up` noted (kept by `down`, so a
    network left because another container still used it is looked at again), and those of
    the objects applied."""
    namespaces = set()
    for stack in stacks:
        namespaces.update(state.namespaces(workspace, stack))
        for obj in (state.applied(workspace, stack) or {}).get("objects", []):
            if obj.get("namespace"):
                namespaces.add(obj["namespace"])
    return namespaces


def down(options: DownOptions, say: Reporter) -> dict[str, int]:
    with locked_state(options.state_dir) as state:
        client = engine.connect(say, set_up=False)  # nothing to list or remove where no engine ever ran
        everything = engine.containers(client, workspace=options.workspace)
        recorded = set(state.data["workspaces"].get(options.workspace, {}).get("stacks", {}))
        if options.stacks:
            known = {c.labels.get(labels.STACK) for c in everything} | recorded
            unknown = [s for s in options.stacks if s not in known]
            if unknown:
                raise UsageError(
                    f"--stack {unknown[0]}: workspace {options.workspace} has no such stack "
                    f"(it has: {', '.join(sorted(k for k in known if k)) or 'none'})"
                )
        stacks = options.stacks or sorted({c.labels.get(labels.STACK) for c in everything if c.labels.get(labels.STACK)}
                                          | recorded)
        doomed = [c for c in everything if c.labels.get(labels.STACK) in stacks]
        workspace_volumes = [v for v in engine.volumes(client, workspace=options.workspace)
                             if v.attrs.get("Labels", {}).get(labels.STACK) in stacks]
        namespaces = (
            {c.labels.get(labels.NAMESPACE) for c in doomed}
            | {v.attrs.get("Labels", {}).get(labels.NAMESPACE) for v in workspace_volumes}
            | _recorded_namespaces(state, options.workspace, stacks)
        ) - {None, ""}
        with say.step(f"removing {plural(len(doomed), 'container')} of workspace {options.workspace}",
                      still="removing") as step:
            for stack in stacks:
                state.set_applied(options.workspace, stack, None)
            if options.forget:
                state.forget(options.workspace, options.stacks)
                say.detail("forgot the generated values (password, key, labels)")
            state.save()
            for container in doomed:
                say.detail(f"removing container {container.name}")
            engine.remove_containers(doomed)
            volumes = [
                v for v in workspace_volumes
                if v.attrs.get("Labels", {}).get(labels.KIND) == labels.EMPTY_DIR or not options.keep_volumes
            ]
            for volume in volumes:
                say.detail(f"removing volume {volume.name}")
            engine.remove_volumes(client, (v.name for v in volumes))
            networks, kept_networks = engine.remove_unused_networks(client, namespaces)
            for network in networks:
                say.detail(f"removed network {network} (no container uses it)")
            for network, users in kept_networks.items():
                named = ", ".join(users[:3]) + (f" and {len(users) - 3} more" if len(users) > 3 else "")
                say.detail(f"kept network {network}: used by {named}")
            kept = " (workspace volumes kept)" if options.keep_volumes else ""
            removed = ", ".join((plural(len(doomed), "container"), plural(len(volumes), "volume"),
                                 plural(len(networks), "network")))
            step.done(f"removed {removed}{kept}")
    return {"containers": len(doomed), "volumes": len(volumes), "networks": len(networks)}
