"""``local down``: remove what ``up`` made for a workspace, found by its labels.

WHY by label and not from the state: an interrupted ``up`` may have made containers the state
does not list yet; the labels are on everything from the moment it exists. The workspace
volumes (PersistentVolumeClaims) go too unless ``--keep-volumes``; a network goes when no
container of any workspace uses it any more. The generated values stay in the state (the
next ``up`` gets the same password, key and labels) unless ``--forget``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import engine, labels
from .errors import UsageError
from .report import Reporter, plural
from .state import locked_state


@dataclass(frozen=True)
class DownOptions:
    state_dir: Path
    workspace: str
    stacks: list[str] | None
    keep_volumes: bool
    forget: bool


def down(options: DownOptions, say: Reporter) -> dict[str, int]:
    with locked_state(options.state_dir) as state:
        client = engine.connect(say, set_up=False)  # nothing to list or remove where no engine ever ran
        everything = engine.containers(client, workspace=options.workspace)
        if options.stacks:
            known = {c.labels.get(labels.STACK) for c in everything}
            known |= set(state.data["workspaces"].get(options.workspace, {}).get("stacks", {}))
            unknown = [s for s in options.stacks if s not in known]
            if unknown:
                raise UsageError(
                    f"--stack {unknown[0]}: workspace {options.workspace} has no such stack "
                    f"(it has: {', '.join(sorted(k for k in known if k)) or 'none'})"
                )
        stacks = options.stacks or sorted({c.labels.get(labels.STACK) for c in everything if c.labels.get(labels.STACK)}
                                          | set(state.data["workspaces"].get(options.workspace, {}).get("stacks", {})))
        doomed = [c for c in everything if c.labels.get(labels.STACK) in stacks]
        with say.step(f"removing {plural(len(doomed), 'container')} of workspace {options.workspace}",
                      still="removing") as step:
            for container in doomed:
                say.detail(f"removing container {container.name}")
            engine.remove_containers(doomed)
            volumes = [
                v for v in engine.volumes(client, workspace=options.workspace)
                if v.attrs.get("Labels", {}).get(labels.STACK) in stacks
                and (v.attrs.get("Labels", {}).get(labels.KIND) == labels.EMPTY_DIR or not options.keep_volumes)
            ]
            for volume in volumes:
                say.detail(f"removing volume {volume.name}")
            engine.remove_volumes(client, (v.name for v in volumes))
            networks = engine.remove_unused_networks(client)
            for network in networks:
                say.detail(f"removed network {network} (no container uses it)")
            for stack in stacks:
                state.set_applied(options.workspace, stack, None)
            if options.forget:
                state.forget(options.workspace, options.stacks)
                say.detail("forgot the generated values (password, key, labels)")
            state.save()
            kept = " (workspace volumes kept)" if options.keep_volumes else ""
            removed = ", ".join((plural(len(doomed), "container"), plural(len(volumes), "volume"),
                                 plural(len(networks), "network")))
            step.done(f"removed {removed}{kept}")
    return {"containers": len(doomed), "volumes": len(volumes), "networks": len(networks)}
