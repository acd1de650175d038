"""Engine groups (issue 12): several named groups of engines, all registering with the one
controller; the default group keeps its Terraform address and names, the others get computed
names, their own selectors and network policies, and report their group."""

from __future__ import annotations

import copy

import pytest
from ipython_k8s import ENGINE_RESOURCES, EngineCluster, EngineGroup, InvalidValue, Placement, Resources
from ipython_k8s.naming import max_engine_group_length

from .kube_validate import validation_errors
from .synth import env_of, named, resources, synth_in_process, synth_stack

BIG = Resources(cpu_request="2", memory_request="8Gi", cpu_limit="4", memory_limit="16Gi")


def _cluster(stack, groups=()):
    EngineCluster(stack, "cluster", cluster_label="demo", engines=3, engine_groups=groups)


@pytest.fixture(scope="module")
def grouped(tmp_path_factory):
    return synth_stack(tmp_path_factory.mktemp("grouped"), lambda stack: _cluster(stack, (
        EngineGroup(name="gpu", engines=2, placement=Placement(gpus=1)),
        EngineGroup(name="big-memory", engines=4, resources=BIG),
    )))


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return synth_stack(tmp_path_factory.mktemp("plain"), _cluster)


def _by_address(stack, kind):
    return stack["resource"][kind]


def test_the_default_group_is_unchanged_by_other_groups(grouped, plain):
    """Same Terraform addresses and the very same JSON for everything the cluster had before."""
    for kind, by_address in plain["resource"].items():
        for address, resource in by_address.items():
            assert _by_address(grouped, kind)[address] == resource, f"{kind}.{address}"
    engines = named(grouped, "kubernetes_deployment_v1", "ipcluster-demo-engine")
    assert "IPYTHON_ENGINE_GROUP" not in env_of(engines)  # the image's default: "default"


def test_each_group_is_a_deployment_with_a_computed_name(grouped):
    gpu = named(grouped, "kubernetes_deployment_v1", "ipcluster-demo-engine-gpu")
    big = named(grouped, "kubernetes_deployment_v1", "ipcluster-demo-engine-big-memory")
    assert (gpu["spec"]["replicas"], big["spec"]["replicas"]) == ("2", "4")
    addresses = {r["metadata"]["name"]: a for a, r in _by_address(grouped, "kubernetes_deployment_v1").items()}
    assert addresses["ipcluster-demo-engine-gpu"].startswith("cluster_engines_gpu_")
    assert addresses["ipcluster-demo-engine-big-memory"].startswith("cluster_engines_big-memory_")
    assert big["spec"]["template"]["spec"]["container"][0]["resources"] == {
        "requests": {"cpu": "2", "memory": "8Gi"}, "limits": {"cpu": "4", "memory": "16Gi"}}
    assert gpu["spec"]["template"]["spec"]["container"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"


def test_groups_register_with_the_one_controller_and_report_their_group(grouped):
    default_env = env_of(named(grouped, "kubernetes_deployment_v1", "ipcluster-demo-engine"))
    for group in ("gpu", "big-memory"):
        env = env_of(named(grouped, "kubernetes_deployment_v1", f"ipcluster-demo-engine-{group}"))
        assert env.pop("IPYTHON_ENGINE_GROUP") == group
        assert env == default_env  # the same controller, key, encryption, workspace
    assert default_env["IPYTHON_CONTROLLER_HOST"] == "ipcluster-demo"
    assert len(resources(grouped, "kubernetes_service_v1")) == 1


def test_no_two_deployments_select_the_same_pods(grouped):
    deployments = resources(grouped, "kubernetes_deployment_v1")
    for deployment in deployments:
        selector = deployment["spec"]["selector"]["match_labels"]
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= pod_labels.items()
        for other in deployments:
            if other is not deployment:
                labels = other["spec"]["template"]["metadata"]["labels"]
                assert not selector.items() <= labels.items(), (deployment["metadata"]["name"], other["metadata"]["name"])
    gpu_labels = named(grouped, "kubernetes_deployment_v1", "ipcluster-demo-engine-gpu")["spec"]["template"]["metadata"]["labels"]
    assert gpu_labels["ipython-k8s.github.io/engine-group"] == "gpu"
    assert gpu_labels["app.kubernetes.io/component"] == "engine"
    assert gpu_labels["app.kubernetes.io/instance"] == "ipcluster-demo-engine-gpu"
    assert gpu_labels["ipython-k8s.github.io/cluster"] == "demo"  # the controller's policy admits them


def test_each_group_has_its_network_policy(grouped):
    policy = named(grouped, "kubernetes_network_policy_v1", "ipcluster-demo-engine-gpu")
    group = named(grouped, "kubernetes_deployment_v1", "ipcluster-demo-engine-gpu")
    assert policy["spec"]["pod_selector"]["match_labels"] == group["spec"]["selector"]["match_labels"]
    assert policy["spec"]["ingress"][0]["from"][0]["pod_selector"]["match_labels"] == {
        "ipython-k8s.github.io/cluster": "demo"}
    assert len(resources(grouped, "kubernetes_network_policy_v1")) == 4


def test_grouped_objects_are_valid_for_kubernetes(grouped):
    assert validation_errors(grouped) == []


def test_a_group_name_fits_the_name_budget(tmp_path):
    from cdktf import App, TerraformStack

    assert max_engine_group_length(42) == 3 and max_engine_group_length(5) == 40
    stack = TerraformStack(App(outdir=str(tmp_path)), "s")
    longest = "g" * 40  # next to a generated (5-character) label
    EngineCluster(stack, "fits", engine_groups=(EngineGroup(name=longest),))
    with pytest.raises(InvalidValue, match=r"^engine_groups='g{41}': group names of at most 40 characters, so that "
                       r"'ipcluster-<cluster>-engine-<group>' stays within 63 characters next to a 5-character cluster label$"):
        EngineCluster(stack, "long", engine_groups=(EngineGroup(name="g" * 41),))
    with pytest.raises(InvalidValue, match=r"^engine_groups='gpus': group names of at most 3 characters.* next to a 42-character"):
        EngineCluster(stack, "long-label", cluster_label="c" * 42, engine_groups=(EngineGroup(name="gpus"),))
    longest_names = synth_stack(tmp_path / "fits", lambda s: EngineCluster(
        s, "c", cluster_label="c" * 42, engine_groups=(EngineGroup(name="abc"),)))
    names = [d["metadata"]["name"] for d in resources(longest_names, "kubernetes_deployment_v1")]
    assert max(map(len, names)) == 63 and validation_errors(longest_names) == []


@pytest.mark.parametrize("make, message", [
    (lambda: EngineGroup(name="default"), r"^engine_group\.name='default': a name other than 'default'"),
    (lambda: EngineGroup(name="GPU"), r"^engine_group\.name='GPU': a DNS label"),
    (lambda: EngineGroup(name="gpu", engines=-1), r"^engine_group\.engines=-1: an integer from 0 to 1000$"),
    (lambda: EngineGroup(name="gpu", resources=ENGINE_RESOURCES.limits()), r"^engine_group\.resources=.*: a Resources$"),
    (lambda: EngineGroup(name="gpu", placement={"gpus": 1}), r"^engine_group\.placement=.*: a Placement$"),
])
def test_a_bad_group_is_refused_in_one_line(make, message):
    with pytest.raises(InvalidValue, match=message):
        make()


def test_a_cluster_refuses_duplicate_groups_and_other_types_before_any_child(tmp_path):
    from cdktf import App, TerraformStack

    stack = TerraformStack(App(outdir=str(tmp_path)), "s")
    with pytest.raises(InvalidValue, match=r"^engine_groups='gpu': distinct group names$"):
        EngineCluster(stack, "a", engine_groups=(EngineGroup(name="gpu"), EngineGroup(name="gpu")))
    with pytest.raises(InvalidValue, match=r"^engine_groups=\('gpu',\): a tuple of EngineGroup$"):
        EngineCluster(stack, "b", engine_groups=("gpu",))  # type: ignore[arg-type]
    assert stack.node.children == []
    # a list is accepted and kept as a tuple
    EngineCluster(stack, "c", engine_groups=[EngineGroup(name="gpu")])  # type: ignore[arg-type]


def test_the_stack_parameter_makes_the_groups(tmp_path):
    stacks = synth_in_process({"IPYTHON_CLUSTER_LABEL": "demo", "IPYTHON_ENGINES": "0",
                               "IPYTHON_ENGINE_GROUPS": "gpu:2:1, cpu:8"}, tmp_path / "cdktf.out")
    cluster = stacks["cluster-stack"]
    replicas = {d["metadata"]["name"]: d["spec"]["replicas"] for d in resources(cluster, "kubernetes_deployment_v1")}
    assert replicas == {"ipcluster-demo-controller": "1", "ipcluster-demo-engine": "0",
                        "ipcluster-demo-engine-gpu": "2", "ipcluster-demo-engine-cpu": "8"}
    gpu = named(cluster, "kubernetes_deployment_v1", "ipcluster-demo-engine-gpu")
    assert gpu["spec"]["template"]["spec"]["container"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    cpu = named(cluster, "kubernetes_deployment_v1", "ipcluster-demo-engine-cpu")
    assert "nvidia.com/gpu" not in cpu["spec"]["template"]["spec"]["container"][0]["resources"]["limits"]
    assert env_of(cpu)["IPYTHON_ENGINE_GROUP"] == "cpu"
    assert validation_errors(cluster) == []


def test_groups_with_a_generated_label_are_named_by_interpolation(generated):
    cluster = copy.deepcopy(generated["cluster-stack"])
    assert all("engine-" not in d["metadata"]["name"] for d in resources(cluster, "kubernetes_deployment_v1"))
