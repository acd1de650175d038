"""`local status` shows what runs; `local down` removes it: with --keep-volumes only the
workspace volume stays, and after a plain `down` nothing with the local run's label is left.

Runs last in this folder (file order): the shared cluster of the other tests is brought down.
"""

from __future__ import annotations

import json

from localrun import engine, labels

from .deployment import owned

WORKSPACES = ("e2e", "e2e-carol", "e2e-elsewhere", "e2e-absent", "e2e-probe", "e2e-groups", "cli")


def test_status_lists_the_stacks_containers_and_viewer(local, cluster):
    report = json.loads(local.ok("status", "--workspace", cluster.workspace, "--json").stdout)
    entry = report["workspaces"][cluster.workspace]
    assert entry["stacks"] == ["cluster-stack", "viewer-stack"]
    assert len(entry["containers"]) == cluster.engines + 2  # controller, engines, viewer
    assert {c["status"] for c in entry["containers"]} == {"running"}
    assert entry["urls"] == [cluster.url]


def test_down_keeps_only_the_workspace_volume_with_keep_volumes_then_leaves_nothing(local, cluster, engine_client):
    workspace_volume = [v.name for v in engine.volumes(engine_client, workspace=cluster.workspace, kind=labels.PVC)]
    assert len(workspace_volume) == 1
    local.ok("down", "--workspace", cluster.workspace, "--keep-volumes")
    assert owned(engine_client, workspace=cluster.workspace) == {"containers": [], "volumes": workspace_volume, "networks": []}
    local.ok("down", "--workspace", cluster.workspace)
    for workspace in WORKSPACES:
        assert owned(engine_client, workspace=workspace) == {"containers": [], "volumes": [], "networks": []}
    if not engine.containers(engine_client):  # no other local run on this machine
        assert owned(engine_client) == {"containers": [], "volumes": [], "networks": []}
