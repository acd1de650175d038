"""Placement and GPUs (issue 12): one ``Placement`` per role, rendered into the pod spec, valid for
Kubernetes, refused in one line when wrong; the stack parameters set the common ones."""

from __future__ import annotations

import pytest
from ipython_k8s import (
    Affinity,
    EngineCluster,
    EngineGroup,
    InvalidValue,
    NodePreference,
    NodeRequirement,
    NotebookViewer,
    Placement,
    Toleration,
)

from .kube_validate import validation_errors
from .synth import named, pod_spec, resources, synth_stack

GPU_NODES = Placement(
    node_selector={"cloud.google.com/gke-accelerator": "nvidia-l4"},
    tolerations=(Toleration(key="dedicated", value="science", effect="NoSchedule"),
                 Toleration(key="spot", effect="NoExecute", toleration_seconds=60)),
    affinity=Affinity(
        required_nodes=(NodeRequirement(key="kubernetes.io/arch", values=("amd64",)),),
        preferred_nodes=(NodePreference(weight=50, requirements=(
            NodeRequirement(key="topology.kubernetes.io/zone", operator="In", values=("a", "b")),
            NodeRequirement(key="gpu-memory-gib", operator="Gt", values=("16",)),
        )),),
        spread=True,
    ),
    gpus=2,
    extra_limits={"example.com/fpga": "1"},
    image_pull_secrets=("registry-login",),
    priority_class="science-high",
)


@pytest.fixture(scope="module")
def placed(tmp_path_factory):
    """A viewer, a controller, the default engines and a group, each with its own placement."""
    def build(stack):
        cluster = EngineCluster(
            stack, "cluster", cluster_label="demo",
            controller_placement=Placement(priority_class="system-cluster-critical", node_selector={"pool": "system"}),
            engine_placement=GPU_NODES,
            engine_groups=(EngineGroup(name="amd", engines=1,
                                       placement=Placement(gpus=1, gpu_resource="amd.com/gpu")),),
        )
        NotebookViewer(stack, "viewer", domain="example.org", user_label="alice", cluster=cluster,
                       placement=Placement(image_pull_secrets=["registry-login", "mirror-login"]))
    return synth_stack(tmp_path_factory.mktemp("placed"), build)


def test_each_role_gets_its_own_placement(placed):
    engines = pod_spec(named(placed, "kubernetes_deployment_v1", "ipcluster-demo-engine"))
    assert engines["node_selector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    assert engines["toleration"] == [
        {"key": "dedicated", "operator": "Equal", "value": "science", "effect": "NoSchedule"},
        {"key": "spot", "operator": "Exists", "effect": "NoExecute", "toleration_seconds": "60"},
        # added for the GPUs: GPU node pools carry this taint
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
    ]
    assert engines["container"][0]["resources"]["limits"] == {
        "cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "2", "example.com/fpga": "1"}
    assert engines["container"][0]["resources"]["requests"] == {"cpu": "250m", "memory": "256Mi"}
    assert engines["image_pull_secrets"] == [{"name": "registry-login"}]
    assert engines["priority_class_name"] == "science-high"
    node = engines["affinity"]["node_affinity"]
    assert node["required_during_scheduling_ignored_during_execution"] == {"node_selector_term": [
        {"match_expressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}]}
    assert node["preferred_during_scheduling_ignored_during_execution"] == [{"weight": 50, "preference": {
        "match_expressions": [
            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["a", "b"]},
            {"key": "gpu-memory-gib", "operator": "Gt", "values": ["16"]},
        ]}}]
    spread = engines["affinity"]["pod_anti_affinity"]["preferred_during_scheduling_ignored_during_execution"]
    assert spread == [{"weight": 100, "pod_affinity_term": {
        "topology_key": "kubernetes.io/hostname",
        "label_selector": [{"match_labels": {"app.kubernetes.io/name": "ipython", "app.kubernetes.io/component": "engine",
                                             "app.kubernetes.io/instance": "ipcluster-demo"}}]}}]

    controller = pod_spec(named(placed, "kubernetes_deployment_v1", "ipcluster-demo-controller"))
    assert controller["priority_class_name"] == "system-cluster-critical"
    assert controller["node_selector"] == {"pool": "system"}
    assert not {"toleration", "affinity", "image_pull_secrets"} & set(controller)

    group = pod_spec(named(placed, "kubernetes_deployment_v1", "ipcluster-demo-engine-amd"))
    assert group["container"][0]["resources"]["limits"]["amd.com/gpu"] == "1"
    assert group["toleration"] == [{"key": "amd.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert "node_selector" not in group and "nvidia.com/gpu" not in group["container"][0]["resources"]["limits"]

    viewer = pod_spec(named(placed, "kubernetes_deployment_v1", "nbviewer-alice-demo"))
    assert viewer["image_pull_secrets"] == [{"name": "registry-login"}, {"name": "mirror-login"}]
    assert not {"node_selector", "toleration", "affinity", "priority_class_name"} & set(viewer)


def test_placed_objects_are_valid_for_kubernetes(placed):
    assert validation_errors(placed) == []


def test_no_placement_sets_no_field(given):
    """The default placement leaves the pod specs as they were (the golden files show it too)."""
    for stack in given.values():
        for deployment in resources(stack, "kubernetes_deployment_v1"):
            spec = pod_spec(deployment)
            assert not {"node_selector", "toleration", "affinity", "image_pull_secrets",
                        "priority_class_name"} & set(spec)
            assert set(spec["container"][0]["resources"]["limits"]) == {"cpu", "memory"}


def test_a_list_is_kept_as_a_tuple_and_placements_compare_equal():
    assert Placement(image_pull_secrets=["a"]) == Placement(image_pull_secrets=("a",))
    assert Placement(tolerations=[Toleration(key="k")]).tolerations == (Toleration(key="k"),)


@pytest.mark.parametrize("make, message", [
    (lambda: Placement(gpus=-1), r"^placement\.gpus=-1: an integer from 0 to 16$"),
    (lambda: Placement(gpus=True), r"^placement\.gpus=True: an integer from 0 to 16$"),
    (lambda: Placement(node_selector={}), r"^placement\.node_selector=\{\}: None or at least one label$"),
    (lambda: Placement(node_selector={"Pool Name": "gpu"}), r"^placement\.node_selector='Pool Name': a Kubernetes qualified name"),
    (lambda: Placement(node_selector={"pool": "GPU nodes"}), r"^placement\.node_selector='GPU nodes': a label value"),
    (lambda: Placement(extra_limits={"gpu": "1"}), r"^placement\.extra_limits='gpu': an extended resource name with a domain prefix"),
    (lambda: Placement(extra_limits={"cpu": "1"}), r"^placement\.extra_limits='cpu': an extended resource name"),
    (lambda: Placement(extra_limits={"example.com/fpga": "one"}), r"^placement\.extra_limits\['example\.com/fpga'\]='one': a positive Kubernetes quantity"),
    (lambda: Placement(gpus=1, extra_limits={"nvidia.com/gpu": "2"}), r"^placement\.extra_limits=.*: no 'nvidia\.com/gpu' when gpus is given$"),
    (lambda: Placement(gpu_resource="kubernetes.io/gpu"), r"^placement\.gpu_resource='kubernetes\.io/gpu': an extended resource name"),
    (lambda: Placement(image_pull_secrets=("Registry_Login",)), r"^placement\.image_pull_secrets='Registry_Login': a DNS name"),
    (lambda: Placement(image_pull_secrets="registry-login"), r"^placement\.image_pull_secrets='registry-login': a tuple of Secret names$"),
    (lambda: Placement(priority_class="High"), r"^placement\.priority_class='High': a DNS name"),
    (lambda: Placement(tolerations=("dedicated",)), r"^placement\.tolerations=\('dedicated',\): a tuple of Toleration$"),
    (lambda: Placement(affinity="spread"), r"^placement\.affinity='spread': None or an Affinity$"),
    (lambda: Toleration(effect="Never"), r"^placement\.tolerations\.effect='Never': one of NoSchedule, PreferNoSchedule, NoExecute$"),
    (lambda: Toleration(value="x"), r"^placement\.tolerations\.value='x': None when key is None"),
    (lambda: Toleration(key="k", toleration_seconds=5), r"^placement\.tolerations\.toleration_seconds=5: None unless effect is 'NoExecute'$"),
    (lambda: NodeRequirement(key="zone", operator="In"), r"^placement\.affinity\.values=\(\): at least one value for In$"),
    (lambda: NodeRequirement(key="zone", operator="Exists", values=("a",)), r"^placement\.affinity\.values=\('a',\): no values for Exists$"),
    (lambda: NodeRequirement(key="mem", operator="Gt", values=("lots",)), r"^placement\.affinity\.values=\('lots',\): one integer for Gt$"),
    (lambda: NodeRequirement(key="zone", operator="Near", values=("a",)), r"^placement\.affinity\.operator='Near': one of In, NotIn"),
    (lambda: NodePreference(weight=0, requirements=(NodeRequirement(key="a", values=("b",)),)), r"^placement\.affinity\.weight=0: an integer from 1 to 100$"),
    (lambda: Affinity(), r"^placement\.affinity=Affinity\(\): at least one of required_nodes, preferred_nodes, spread"),
    (lambda: Affinity(required_nodes=("zone=a",)), r"^placement\.affinity\.required_nodes=\('zone=a',\): a tuple of NodeRequirement$"),
    (lambda: NodeRequirement(key="zone", values="a"), r"^placement\.affinity\.values='a': a tuple of label values$"),
    (lambda: NodePreference(weight=1, requirements=()), r"^placement\.affinity\.requirements=\(\): a non-empty tuple of NodeRequirement$"),
], ids=lambda value: "" if callable(value) else None)
def test_a_bad_placement_is_refused_in_one_line(make, message):
    with pytest.raises(InvalidValue, match=message) as caught:
        make()
    assert "\n" not in str(caught.value)


def test_a_construct_refuses_a_placement_of_the_wrong_type_before_any_child(tmp_path):
    from cdktf import App, TerraformStack

    stack = TerraformStack(App(outdir=str(tmp_path)), "s")
    with pytest.raises(InvalidValue, match=r"^engine_placement=\{'gpus': 1\}: a Placement$"):
        EngineCluster(stack, "cluster", engine_placement={"gpus": 1})  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^placement=None: a Placement$"):
        NotebookViewer(stack, "viewer", domain="example.org", placement=None)  # type: ignore[arg-type]
    assert stack.node.children == []


# -- the stack parameters ------------------------------------------------------------------------

def test_the_parameters_place_the_default_engines_and_pull_with_the_secret_everywhere(tmp_path):
    from .synth import synth_in_process

    stacks = synth_in_process({
        "IPYTHON_CLUSTER_LABEL": "demo",
        "IPYTHON_ENGINE_GPUS": "1",
        "IPYTHON_ENGINE_NODE_SELECTOR": "pool=gpu,topology.kubernetes.io/zone=a",
        "IPYTHON_ENGINE_TOLERATIONS": "dedicated=science:NoSchedule,spot",
        "IPYTHON_IMAGE_PULL_SECRET": "registry-login",
        "IPYTHON_ENGINE_GROUPS": "cpu:4",
    }, tmp_path / "cdktf.out")
    cluster, viewer = stacks["cluster-stack"], stacks["viewer-stack"]
    engines = pod_spec(named(cluster, "kubernetes_deployment_v1", "ipcluster-demo-engine"))
    assert engines["node_selector"] == {"pool": "gpu", "topology.kubernetes.io/zone": "a"}
    assert engines["toleration"] == [
        {"key": "dedicated", "operator": "Equal", "value": "science", "effect": "NoSchedule"},
        {"key": "spot", "operator": "Exists"},
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
    ]
    assert engines["container"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    # the other roles and the group: only the pull secret
    for spec in (pod_spec(named(cluster, "kubernetes_deployment_v1", "ipcluster-demo-controller")),
                 pod_spec(named(cluster, "kubernetes_deployment_v1", "ipcluster-demo-engine-cpu")),
                 pod_spec(resources(viewer, "kubernetes_deployment_v1")[0])):
        assert spec["image_pull_secrets"] == [{"name": "registry-login"}]
        assert not {"node_selector", "toleration"} & set(spec)
        assert "nvidia.com/gpu" not in spec["container"][0]["resources"]["limits"]
    assert validation_errors(cluster) == [] and validation_errors(viewer) == []


def test_zero_gpus_sets_no_limit():
    from infra.parameters import read_settings

    assert read_settings({"IPYTHON_ENGINE_GPUS": "0"}).cluster.engine_placement.limits() == {}
    assert read_settings({"IPYTHON_ENGINE_GPUS": "3"}).cluster.engine_placement.limits() == {"nvidia.com/gpu": "3"}
