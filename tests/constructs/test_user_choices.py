"""repository_required and cluster_encryption reach the pods of the roles that read them."""

from __future__ import annotations

import json

import pytest
import cdktf
from cdktf import App, TerraformStack
from ipython_k8s import ClusterLink, EngineCluster, NotebookViewer
from ipython_k8s.labels import Label

from .synth import env_of, named

REPOSITORY = "https://example.org/notebooks.git#v1"


def synthesized(build) -> dict:
    app = App()
    stack = TerraformStack(app, "stack")
    build(stack)
    return json.loads(cdktf.Testing.synth(stack))


def envs(stack: dict) -> dict[str, dict]:
    deployments = stack["resource"]["kubernetes_deployment_v1"].values()
    return {d["metadata"]["name"]: env_of(d) for d in deployments}


def test_defaults_curve_everywhere_and_no_required_repository():
    stack = synthesized(lambda s: NotebookViewer(
        s, "viewer", domain="example.org", user_label="alice",
        cluster=EngineCluster(s, "cluster", cluster_label="demo", notebook_repository=REPOSITORY),
        notebook_repository=REPOSITORY,
    ))
    for name, env in envs(stack).items():
        assert env["IPYTHON_CLUSTER_ENCRYPTION"] == "curve", name
        assert "IPYTHON_REPOSITORY_REQUIRED" not in env, name  # the image's default: false


def test_cluster_choices_reach_its_pods_and_a_viewer_given_the_cluster_object():
    def build(s):
        cluster = EngineCluster(s, "cluster", cluster_label="demo", cluster_encryption="none",
                                notebook_repository=REPOSITORY, repository_required=True)
        NotebookViewer(s, "viewer", domain="example.org", user_label="alice", cluster=cluster,
                       notebook_repository=REPOSITORY, repository_required=True)

    found = envs(synthesized(build))
    assert {name: env["IPYTHON_CLUSTER_ENCRYPTION"] for name, env in found.items()} == {
        "ipcluster-demo-controller": "none", "ipcluster-demo-engine": "none", "nbviewer-alice-demo": "none",
    }
    assert found["ipcluster-demo-engine"]["IPYTHON_REPOSITORY_REQUIRED"] == "true"
    assert found["nbviewer-alice-demo"]["IPYTHON_REPOSITORY_REQUIRED"] == "true"
    assert "IPYTHON_REPOSITORY_REQUIRED" not in found["ipcluster-demo-controller"]


@pytest.mark.parametrize("link", [{"cluster_label": "demo"}, {"cluster": ClusterLink(Label("demo", 4, False))}],
                         ids=["cluster_label", "ClusterLink"])
@pytest.mark.parametrize("chosen, expected", [(None, "curve"), ("none", "none"), ("curve", "curve")])
def test_viewer_linked_by_label_has_its_own_prop(link, chosen, expected):
    stack = synthesized(lambda s: NotebookViewer(
        s, "viewer", domain="example.org", user_label="alice", cluster_encryption=chosen, **link))
    assert env_of(named(stack, "kubernetes_deployment_v1", "nbviewer-alice-demo"))["IPYTHON_CLUSTER_ENCRYPTION"] == expected


def test_viewer_without_a_cluster_gets_no_encryption_variable():
    stack = synthesized(lambda s: NotebookViewer(s, "viewer", domain="example.org", user_label="alice"))
    env = env_of(next(iter(stack["resource"]["kubernetes_deployment_v1"].values())))
    assert "IPYTHON_CLUSTER_ENCRYPTION" not in env and "IPYTHON_CLUSTER_LABEL" not in env
