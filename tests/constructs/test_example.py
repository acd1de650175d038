"""examples/one_cluster_two_viewers: a second app that composes the library as users will."""

from __future__ import annotations

import runpy

import pytest

from .synth import REPO, env_of, named, read_stacks, resources

EXAMPLE = REPO / "examples" / "one_cluster_two_viewers" / "main.py"


@pytest.fixture(scope="module")
def stacks(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("example") / "cdktf.out"
    runpy.run_path(str(EXAMPLE), run_name="example")["build"](str(outdir)).synth()
    return read_stacks(outdir)


def test_all_viewers_use_the_same_controller_service_and_key_secret(stacks):
    team, carol = stacks["team-stack"], stacks["carol-stack"]
    assert named(team, "kubernetes_service_v1", "ipcluster-team")
    assert named(team, "kubernetes_secret_v1", "ipcluster-team-key")
    viewers = [
        named(team, "kubernetes_deployment_v1", "nbviewer-alice-team"),
        named(team, "kubernetes_deployment_v1", "nbviewer-bob-team"),
        named(carol, "kubernetes_deployment_v1", "nbviewer-carol-team"),
    ]
    for deployment in viewers:
        env = env_of(deployment)
        assert env["IPYTHON_CONTROLLER_HOST"] == "ipcluster-team"
        assert env["IPYTHON_CLUSTER_KEY"] == ("secret", "ipcluster-team-key", "key")
        assert env["IPYTHON_CLUSTER_LABEL"] == "team"
    assert named(team, "kubernetes_deployment_v1", "ipcluster-team-engine")["spec"]["replicas"] == "4"


def test_one_cluster_and_separate_viewer_objects(stacks):
    team = stacks["team-stack"]
    assert len(resources(team, "random_password")) == 2  # the cluster key and alice's password
    assert len(resources(team, "kubernetes_persistent_volume_claim_v1")) == 2
    assert set(team["output"]) == {
        "cluster_label", "cluster_controller_host", "cluster_key_secret",
        "alice_url", "alice_password", "bob_url", "bob_password",
    }
    assert team["variable"]["bob_password"]["sensitive"] is True
    assert named(team, "kubernetes_secret_v1", "nbviewer-bob-team-password")["data"] == {
        "password": "${var.bob_password}"
    }
    # Linking by label alone creates no dependency between the stacks.
    assert "data" not in stacks["carol-stack"]
