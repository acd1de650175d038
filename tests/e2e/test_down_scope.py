"""`local down` removes only what belongs to the workspace it was told.

A namespace is one network, shared by the workspaces whose stacks use it. `down` looks only at
the networks of the namespaces its workspace used, and removes one only when no container at
all uses it: not another workspace's (running or stopped), not one a user attached by hand.
Podman's Docker API would remove a network in use, so this is `down`'s own check. Idle
networks of other namespaces belong to other workspaces (other sessions share this engine).

Small stacks of sleeping containers (tiny_apps.py), namespaces and workspaces of this module.
"""

from __future__ import annotations

import uuid

import pytest

from localrun import engine, labels

from .deployment import IMAGE, owned
from .tiny_apps import SLEEP, deployment, stack, write_app

pytestmark = pytest.mark.container

TEST_LABEL = "io.ipython-k8s.test"
#: Names of this session only: sessions sharing the engine may run this module at once.
SESSION = uuid.uuid4().hex[:6]
NAMESPACE = f"issue14-shared-{SESSION}"
FIRST, SECOND = f"issue14-down-a-{SESSION}", f"issue14-down-b-{SESSION}"
NOTHING = {"containers": [], "volumes": [], "networks": []}


def _network_exists(client, name: str) -> bool:
    return any(n.name == name for n in client.networks.list(names=[name]))


@pytest.fixture
def apps(tmp_path):
    """Two apps with a Deployment each in the one namespace, as two viewers of one cluster."""
    return {
        workspace: write_app(tmp_path / workspace, {"sleep-stack": stack(NAMESPACE, {
            f"sleeper-{suffix}": deployment(f"sleeper-{suffix}", NAMESPACE, SLEEP)})})
        for workspace, suffix in ((FIRST, "a"), (SECOND, "b"))
    }


@pytest.fixture
def cleanup(local, engine_client):
    """Brings both workspaces down and removes what a test made by hand, also on failure."""
    made: list = []
    yield made
    for thing in made:
        try:
            thing.remove(force=True) if hasattr(thing, "exec_run") else thing.remove()
        except Exception:  # noqa: BLE001 - removed by the test already
            pass
    for workspace in (FIRST, SECOND):
        local("down", "--workspace", workspace)
    for network in engine_client.networks.list(names=[labels.network_name(NAMESPACE)]):
        network.reload()
        if not network.attrs.get("Containers"):  # else another session's (its down removes it)
            network.remove()
    for workspace in (FIRST, SECOND):
        assert owned(engine_client, workspace=workspace) == NOTHING


def test_down_leaves_the_idle_networks_of_other_namespaces(local, engine_client, cleanup):
    foreign = engine.ensure_network(engine_client, f"issue14-other-{uuid.uuid4().hex[:6]}")
    cleanup.append(foreign)
    local.ok("down", "--workspace", FIRST)
    assert _network_exists(engine_client, foreign.name)


def test_a_shared_namespace_network_stays_until_no_workspace_uses_it(local, engine_client, apps, cleanup):
    network = labels.network_name(NAMESPACE)
    local.ok("up", "--workspace", FIRST, "--from", str(apps[FIRST]))
    local.ok("up", "--workspace", SECOND, "--from", str(apps[SECOND]))

    result = local.ok("down", "--workspace", FIRST, "-v")
    [second] = engine.containers(engine_client, workspace=SECOND)
    assert f"local:   kept network {network}: used by {second.name}" in result.stderr.splitlines()
    assert _network_exists(engine_client, network)
    second.reload()
    assert second.status == "running" and network in second.attrs["NetworkSettings"]["Networks"]

    second.stop(timeout=1)  # a stopped container still needs its network to start again
    local.ok("down", "--workspace", FIRST)
    assert _network_exists(engine_client, network)

    local.ok("down", "--workspace", SECOND)
    assert not _network_exists(engine_client, network)


def test_a_network_a_user_attached_a_container_to_is_kept(local, engine_client, apps, cleanup):
    network = labels.network_name(NAMESPACE)
    local.ok("up", "--workspace", FIRST, "--from", str(apps[FIRST]))
    own = engine_client.containers.run(IMAGE, entrypoint=SLEEP, network=network, detach=True,
                                       name=f"issue14-by-hand-{uuid.uuid4().hex[:6]}", labels={TEST_LABEL: "down-scope"})
    cleanup.append(own)

    result = local.ok("down", "--workspace", FIRST, "-v")
    assert f"local:   kept network {network}: used by {own.name}" in result.stderr.splitlines()
    assert _network_exists(engine_client, network)
    own.reload()
    assert own.status == "running" and network in own.attrs["NetworkSettings"]["Networks"]

    own.remove(force=True)
    local.ok("down", "--workspace", FIRST)
    assert not _network_exists(engine_client, network)
