"""``local status``: what runs, per workspace, as the engine reports it.

WHY the engine and the state together: the state says which stacks are up (and their
outputs), the engine says whether their containers actually run; a stack whose containers are
gone shows up as such instead of looking healthy.

WHY no lock: ``status`` only reads. The state file is replaced atomically by the writers
(state.py), so ``status`` answers while an ``up`` holds the lock (up to --timeout waiting for
the viewer) and never sees half a file.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from . import engine, labels
from .report import Reporter
from .state import read_state


def collect(state_dir: Path, workspace: str | None, say: Reporter | None = None) -> dict[str, Any]:
    state = read_state(state_dir)
    client = engine.connect(say, set_up=False)  # nothing to list or remove where no engine ever ran
    report: dict[str, Any] = defaultdict(lambda: {"stacks": [], "containers": [], "urls": []})
    for ws, stack, applied in state.applied_stacks():
        if workspace is None or ws == workspace:
            report[ws]["stacks"].append(stack)
    selector = {"workspace": workspace} if workspace else {}
    for container in sorted(engine.containers(client, **selector), key=lambda c: c.name):
        ws = container.labels.get(labels.WORKSPACE, "?")
        entry = report[ws]
        entry["containers"].append({
            "name": container.name,
            "stack": container.labels.get(labels.STACK),
            "pod": container.labels.get(labels.POD),
            "status": container.status,
            "image": (container.attrs.get("Config") or {}).get("Image"),
        })
        bindings = (container.attrs.get("HostConfig") or {}).get("PortBindings") or {}
        for binding_list in bindings.values():
            for binding in binding_list or []:
                if binding.get("HostPort"):
                    entry["urls"].append(f"http://{binding.get('HostIp') or '127.0.0.1'}:{binding['HostPort']}/")
    return {"workspaces": dict(sorted(report.items()))}


def render(report: dict[str, Any], verbose: bool = False) -> str:
    """One line per workspace, container and viewer; ``verbose`` adds each container's pod and image."""
    if not report["workspaces"]:
        return "nothing is up"
    lines = []
    for ws, entry in report["workspaces"].items():
        stacks = ", ".join(entry["stacks"]) or "no stack applied"
        lines.append(f"workspace {ws}: {stacks}")
        for container in entry["containers"]:
            more = f", pod {container['pod']}, image {container['image']}" if verbose else ""
            lines.append(f"  {container['status']:<10} {container['name']}  ({container['stack']}{more})")
        for url in entry["urls"]:
            lines.append(f"  viewer     {url}")
    return "\n".join(lines)
