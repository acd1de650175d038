"""``local status``: what runs, per workspace, as the engine reports it.

WHY the engine and the state together: the state says which stacks are up (and their
outputs), the engine says whether their containers actually run; a stack whose containers are
gone shows up as such instead of looking healthy.

WHY no lock: ``status`` only reads. The state file is replaced atomically by the writers
(state.py), so ``status`` answers while an ``up`` holds the lock (up to --timeout waiting for
the viewer) and never sees half a file.

A container that is not running is shown as such with its last exit in words (``exit 137:
OOM-killed``; engine.health tells how that is known), and a viewer whose container is not
running is shown ``down`` without a URL: nothing answers there. The engine restarts a
container whose process dies (a crash, an OOM kill), as Kubernetes' ``restartPolicy: Always``
does; one stopped with ``podman kill``/``docker kill`` or ``stop`` stays down, as the engine
takes that as deliberate, and ``local up`` starts it again.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from . import engine, labels
from .report import Reporter
from .state import read_state


#: Statuses of a container the engine itself looks after (no `local up` needed).
ENGINE_KEEPS = ("running", "restarting", "paused")


def _published_urls(container) -> list[str]:
    urls = []
    bindings = (container.attrs.get("HostConfig") or {}).get("PortBindings") or {}
    for binding_list in bindings.values():
        for binding in binding_list or []:
            if binding.get("HostPort"):
                urls.append(f"http://{binding.get('HostIp') or '127.0.0.1'}:{binding['HostPort']}/")
    return urls


def _restart_command(workspace: str) -> str:
    return "local up" + ("" if workspace == "default" else f" --workspace {workspace}")


def collect(state_dir: Path, workspace: str | None, say: Reporter | None = None) -> dict[str, Any]:
    state = read_state(state_dir)
    client = engine.connect(say, set_up=False)  # nothing to list or remove where no engine ever ran
    report: dict[str, Any] = defaultdict(lambda: {"stacks": [], "containers": [], "urls": [], "viewers": []})
    for ws, stack, applied in state.applied_stacks():
        if workspace is None or ws == workspace:
            report[ws]["stacks"].append(stack)
    selector = {"workspace": workspace} if workspace else {}
    found = sorted(engine.containers(client, **selector), key=lambda c: c.name)
    kernel_kills = engine.kernel_oom_kills() if found else None
    for container in found:
        ws = container.labels.get(labels.WORKSPACE, "?")
        entry = report[ws]
        health = engine.health(container, kernel_kills)
        urls = _published_urls(container)
        entry["containers"].append({
            "name": container.name,
            "stack": container.labels.get(labels.STACK),
            "pod": container.labels.get(labels.POD),
            "status": container.status,
            "image": (container.attrs.get("Config") or {}).get("Image"),
            **health.as_json(),
        })
        for url in urls:
            entry["viewers"].append({"url": url, "container": container.name, "up": health.running,
                                     "status": container.status,
                                     "detail": health.words() if container.status in ENGINE_KEEPS else health.exit_words()})
            if health.running:
                entry["urls"].append(url)
    return {"workspaces": dict(sorted(report.items()))}


def render(report: dict[str, Any], verbose: bool = False) -> str:
    """One line per workspace, container and viewer; ``verbose`` adds each container's pod and
    image. A viewer is printed with its URL only while its container runs."""
    if not report["workspaces"]:
        return "nothing is up"
    lines = []
    for ws, entry in report["workspaces"].items():
        stacks = ", ".join(entry["stacks"]) or "no stack applied"
        lines.append(f"workspace {ws}: {stacks}")
        restart = f"`{_restart_command(ws)}` restarts it"
        for container in entry["containers"]:
            more = f", pod {container['pod']}, image {container['image']}" if verbose else ""
            detail = container.get("detail") or ""
            if container["status"] not in ENGINE_KEEPS:
                detail = f"{detail}; {restart}" if detail else restart
            lines.append(f"  {container['status']:<10} {container['name']}  ({container['stack']}{more})"
                         + (f": {detail}" if detail else ""))
        for viewer in entry.get("viewers", []):
            if viewer["up"]:
                lines.append(f"  viewer     {viewer['url']}")
            else:
                why = f" ({viewer['detail']})" if viewer["detail"] else ""
                then = "" if viewer["status"] in ENGINE_KEEPS else f"; {restart}"
                lines.append(f"  viewer     down: {viewer['container']} is {viewer['status']}{why}{then}")
    return "\n".join(lines)
