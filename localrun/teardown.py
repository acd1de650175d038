"""``local down``: remove what ``up`` made for a workspace, found by its labels.

WHY by label and not from the state: an interrupted ``up`` may have made containers the state
does not list yet; the labels are on everything from the moment it exists. The workspace
volumes (PersistentVolumeClaims) go too unless ``--keep-volumes``; a network goes when no
container of any workspace uses it any more. The generated values stay in the state (the
next ``up`` gets the same password, key and labels) unless ``--forget``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import engine, labels
from .errors import UsageError
from .state import locked_state


@dataclass(frozen=True)
class DownOptions:
    state_dir: Path
    workspace: str
    stacks: list[str] | None
    keep_volumes: bool
    forget: bool


def down(options: DownOptions, say: Callable[[str], None]) -> dict[str, int]:
    with locked_state(options.state_dir) as state:
        client = engine.connect()
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
        say(f"removing {len(doomed)} container(s) of workspace {options.workspace}")
        engine.remove_containers(doomed)
        volumes = [
            v for v in engine.volumes(client, workspace=options.workspace)
            if v.attrs.get("Labels", {}).get(labels.STACK) in stacks
            and (v.attrs.get("Labels", {}).get(labels.KIND) == labels.EMPTY_DIR or not options.keep_volumes)
        ]
        engine.remove_volumes(client, (v.name for v in volumes))
        networks = engine.remove_unused_networks(client)
        for stack in stacks:
            state.set_applied(options.workspace, stack, None)
        if options.forget:
            state.forget(options.workspace, options.stacks)
        state.save()
    kept = " (workspace volumes kept)" if options.keep_volumes else ""
    say(f"removed {len(doomed)} container(s), {len(volumes)} volume(s), {len(networks)} network(s){kept}")
    return {"containers": len(doomed), "volumes": len(volumes), "networks": len(networks)}
