"""Viewers and clusters link by label: two viewers share one cluster, a viewer of another
cluster does not reach it, and a viewer of a cluster that is not up is refused before anything
starts (its key Secret does not exist, as in Kubernetes)."""

from __future__ import annotations

import contextlib
import json
import re
import time

import pytest

from .deployment import IMAGE, Deployment, engine_ids, owned, run_python, up_json

OTHER_CLUSTER = "elsewhere"

FOREIGN_CLIENT = """
import json, os, pathlib, time
import ipyparallel as ipp
own = pathlib.Path.home() / ".ipython/profile_default/security/ipcontroller-client.json"
info = json.loads(own.read_text())
host = os.environ["FOREIGN_HOST"]
info["interface"], info["location"] = f"tcp://{host}", host
foreign = pathlib.Path("/tmp/foreign-client.json")
foreign.write_text(json.dumps(info))
started = time.monotonic()
try:
    client = ipp.Client(str(foreign), timeout=5)
    outcome = {"connected": sorted(client.ids)}
except Exception as error:
    outcome = {"refused": type(error).__name__}
outcome["seconds"] = time.monotonic() - started
print(json.dumps(outcome))
"""


@contextlib.contextmanager
def _deployment(local, engine_client, workspace: str, *args: str, **parameters: str):
    """`up` in a workspace of its own, and `down` afterwards (also when `up` failed half-way)."""
    try:
        printed, _ = up_json(local, "--workspace", workspace, *args, **parameters)
        yield Deployment(url=printed["url"], password=printed["password"], engines=printed["engines"],
                         workspace=workspace, parameters=parameters, client=engine_client)
    finally:
        local("down", "--workspace", workspace)


@pytest.fixture(scope="module")
def carol(local, cluster, engine_client):
    """A second viewer, in its own workspace, linked to the e2e cluster by its label only."""
    with _deployment(local, engine_client, "e2e-carol", "--stack", "viewer-stack",
                     IPYTHON_CLUSTER_LABEL=cluster.cluster_label, IPYTHON_USER_LABEL="carol",
                     IPYTHON_IMAGE=IMAGE) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def elsewhere(local, cluster, engine_client):
    """Another cluster (no engines) with its own viewer."""
    with _deployment(local, engine_client, "e2e-elsewhere", IPYTHON_CLUSTER_LABEL=OTHER_CLUSTER,
                     IPYTHON_USER_LABEL="olga", IPYTHON_ENGINES="0", IPYTHON_IMAGE=IMAGE) as deployment:
        yield deployment


def test_two_viewers_linked_to_one_cluster_both_reach_it(cluster, carol):
    assert carol.url != cluster.url and carol.password != cluster.password
    assert carol.engines == cluster.engines  # counted from the cluster the label names
    ids = engine_ids(cluster.viewer(), cluster.engines)
    assert engine_ids(carol.viewer(), cluster.engines) == ids and len(ids) == cluster.engines


def test_a_viewer_of_another_cluster_does_not_reach_it(cluster, elsewhere):
    assert elsewhere.engines == 0
    assert engine_ids(elsewhere.viewer(), 0) == []  # its own cluster, without engines
    assert elsewhere.viewer_environment()["IPYTHON_CLUSTER_KEY"] != cluster.viewer_environment()["IPYTHON_CLUSTER_KEY"]
    # The network reaches the other controller (NetworkPolicies are not enforced locally), the
    # key does not: messages signed with another key get no answer.
    outcome = json.loads(run_python(elsewhere.viewer(), FOREIGN_CLIENT,
                                    FOREIGN_HOST=f"ipcluster-{cluster.cluster_label}").strip().splitlines()[-1])
    assert "refused" in outcome, outcome
    assert outcome["seconds"] < 30


def test_a_viewer_of_a_cluster_that_is_not_up_is_refused_before_anything_starts(local, engine_client):
    started = time.monotonic()
    result = local("up", "--workspace", "e2e-absent", "--stack", "viewer-stack",
                   IPYTHON_CLUSTER_LABEL="absent", IPYTHON_USER_LABEL="nobody", IPYTHON_IMAGE=IMAGE)
    assert result.returncode == 1
    assert re.fullmatch(
        r"local: error: Deployment ([a-z0-9-]+)/nbviewer-nobody-absent \(viewer-stack: viewer-stack/viewer/deployment\) "
        r"container ipython env IPYTHON_CLUSTER_KEY: Secret \1/ipcluster-absent-key does not exist \(not declared "
        r"by these stacks nor by any stack that is up locally\); in Kubernetes the pod would not start either",
        result.stderr.strip().splitlines()[-1],
    ), result.stderr
    assert owned(engine_client, workspace="e2e-absent") == {"containers": [], "volumes": [], "networks": []}
    assert time.monotonic() - started < 60
