"""Shared data (issue 12): an optional ReadWriteMany claim owned by the cluster, mounted at
/home/ipython/shared in every engine (every group) and every viewer linked to the cluster,
whether by the EngineCluster object or by its label alone."""

from __future__ import annotations

import pytest
from ipython_k8s import EngineCluster, EngineGroup, InvalidValue, NotebookViewer
from ipython_k8s.defaults import SHARED_DIR

from .kube_validate import validation_errors
from .synth import claims_of, mounts_of, named, resources, synth_in_process, synth_stack

CLAIM = "ipcluster-demo-shared"


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """A cluster with shared storage and two groups; viewers linked by object, by label (told
    of the storage or not), and one that opts out."""
    def build(stack):
        cluster = EngineCluster(stack, "cluster", cluster_label="demo", shared_storage_size="50Gi",
                                shared_storage_class="nfs-client", engine_groups=(EngineGroup(name="big"),))
        NotebookViewer(stack, "alice", domain="example.org", user_label="alice", cluster=cluster)
        told = EngineCluster.from_label(stack, "told", cluster_label="demo", shared_storage=True)
        NotebookViewer(stack, "bob", domain="example.org", user_label="bob", cluster=told)
        untold = EngineCluster.from_label(stack, "untold", cluster_label="demo")
        NotebookViewer(stack, "carol", domain="example.org", user_label="carol", cluster=untold)
        NotebookViewer(stack, "dave", domain="example.org", user_label="dave", cluster=cluster, shared_storage=False)
        other = EngineCluster.from_label(stack, "other", cluster_label="demo", shared_storage=True,
                                         shared_claim_name="team-data")
        NotebookViewer(stack, "erin", domain="example.org", user_label="erin", cluster=other)
    return synth_stack(tmp_path_factory.mktemp("shared"), build)


def test_the_cluster_owns_one_read_write_many_claim(shared):
    claims = {c["metadata"]["name"]: c for c in resources(shared, "kubernetes_persistent_volume_claim_v1")}
    claim = claims[CLAIM]
    assert claim["spec"]["access_modes"] == ["ReadWriteMany"]
    assert claim["spec"]["resources"]["requests"] == {"storage": "50Gi"}
    assert claim["spec"]["storage_class_name"] == "nfs-client"
    assert claim["wait_until_bound"] is False
    assert claim["metadata"]["labels"]["ipython-k8s.github.io/cluster"] == "demo"
    # one shared claim; the rest are the viewers' own workspaces
    assert sorted(claims) == sorted([CLAIM] + [f"nbviewer-{u}-demo-workspace" for u in ("alice", "bob", "carol", "dave", "erin")])
    address = next(a for a, c in shared["resource"]["kubernetes_persistent_volume_claim_v1"].items()
                   if c["metadata"]["name"] == CLAIM)
    assert address.startswith("cluster_shared_storage_")  # construct id shared_storage


def test_every_engine_and_every_linked_viewer_mounts_it(shared):
    for name in ("ipcluster-demo-engine", "ipcluster-demo-engine-big", "nbviewer-alice-demo", "nbviewer-bob-demo"):
        deployment = named(shared, "kubernetes_deployment_v1", name)
        assert mounts_of(deployment)[SHARED_DIR] == "shared", name
        assert claims_of(deployment)["shared"] == CLAIM, name
    assert claims_of(named(shared, "kubernetes_deployment_v1", "nbviewer-erin-demo"))["shared"] == "team-data"


def test_the_controller_and_viewers_not_told_do_not(shared):
    for name in ("ipcluster-demo-controller", "nbviewer-carol-demo", "nbviewer-dave-demo"):
        deployment = named(shared, "kubernetes_deployment_v1", name)
        assert SHARED_DIR not in mounts_of(deployment), name
        assert "shared" not in claims_of(deployment), name


def test_shared_objects_are_valid_for_kubernetes(shared):
    assert validation_errors(shared) == []


def test_without_shared_storage_there_is_no_claim_and_no_mount(given):
    for stack in given.values():
        names = [c["metadata"]["name"] for c in resources(stack, "kubernetes_persistent_volume_claim_v1")]
        assert not any(name.endswith("-shared") for name in names)
        for deployment in resources(stack, "kubernetes_deployment_v1"):
            assert SHARED_DIR not in mounts_of(deployment)


@pytest.mark.parametrize("label", ["demo", None], ids=["label-given", "label-generated"])
def test_the_stack_parameter_mounts_it_in_both_stacks(tmp_path, label):
    """IPYTHON_SHARED_STORAGE: with a given label the viewer links by label (from_label with
    shared_storage) and finds the claim by name; with a generated one it is given the cluster."""
    env = {"IPYTHON_SHARED_STORAGE": "10Gi", "IPYTHON_SHARED_STORAGE_CLASS": "efs-sc"}
    if label:
        env["IPYTHON_CLUSTER_LABEL"] = label
    stacks = synth_in_process(env, tmp_path / "cdktf.out")
    cluster, viewer = stacks["cluster-stack"], stacks["viewer-stack"]
    claim = resources(cluster, "kubernetes_persistent_volume_claim_v1")
    assert len(claim) == 1 and claim[0]["spec"]["access_modes"] == ["ReadWriteMany"]
    assert claim[0]["spec"]["storage_class_name"] == "efs-sc"
    viewer_deployment = resources(viewer, "kubernetes_deployment_v1")[0]
    engine = [d for d in resources(cluster, "kubernetes_deployment_v1") if d["metadata"]["name"].endswith("-engine")][0]
    assert claims_of(engine)["shared"] == claim[0]["metadata"]["name"]
    if label:
        assert claims_of(viewer_deployment)["shared"] == CLAIM == claim[0]["metadata"]["name"]
    else:  # the generated label's name, read from cluster-stack's state
        assert claims_of(viewer_deployment)["shared"].startswith("ipcluster-${")
        assert claims_of(viewer_deployment)["shared"].endswith("-shared")
        assert "terraform_remote_state" in viewer["data"]
    assert validation_errors(cluster) == [] and validation_errors(viewer) == []


def test_bad_shared_storage_props_are_refused_before_any_child(tmp_path):
    from cdktf import App, TerraformStack

    stack = TerraformStack(App(outdir=str(tmp_path)), "s")
    with pytest.raises(InvalidValue, match=r"^shared_storage_size='10GB': a positive Kubernetes quantity"):
        EngineCluster(stack, "a", shared_storage_size="10GB")
    with pytest.raises(InvalidValue, match=r"^shared_storage_class='nfs': None unless shared_storage_size is given"):
        EngineCluster(stack, "b", shared_storage_class="nfs")
    with pytest.raises(InvalidValue, match=r"^shared_storage_class='Fast NFS': a DNS name"):
        EngineCluster(stack, "c", shared_storage_size="1Gi", shared_storage_class="Fast NFS")
    with pytest.raises(InvalidValue, match=r"^shared_storage='yes': True or False$"):
        NotebookViewer(stack, "d", domain="example.org", shared_storage="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^shared_claim_name='data': None unless shared_storage is True$"):
        EngineCluster.from_label(stack, "e", cluster_label="demo", shared_claim_name="data")
    assert stack.node.children == []
