"""What the local run makes of the synthesized stacks, before any container exists.

The Kubernetes -> container mapping is read off the plan: each row of the mapping table in
docs/local-run.md has its check here, on the stacks this project really synthesizes.
"""

from __future__ import annotations

import json

import pytest

from localrun import labels
from localrun.errors import LocalRunError, UsageError
from localrun.plan import make_plan
from localrun.pods import MountPlan
from localrun.state import locked_state
from localrun.synth import read_app

from tests.e2e.synthesis import GIVEN, PASSWORD


@pytest.fixture(scope="module")
def given(given_outdir):
    return read_app(given_outdir)


@pytest.fixture(scope="module")
def generated(generated_outdir):
    return read_app(generated_outdir)


def plan_of(app, state_dir, **kwargs):
    variables = kwargs.pop("variables", {"TF_VAR_user_password": PASSWORD})
    with locked_state(state_dir) as state:
        plan = make_plan(app, workspace=kwargs.pop("workspace", "default"), stacks=kwargs.pop("stacks", None),
                         state=state, variables=variables)
        state.save()
    return plan


def containers(plan):
    return {c.name: c for pod in plan.pods for c in pod.containers}


def test_every_replica_is_a_container_with_the_declared_image(given, tmp_path):
    plan = plan_of(given, tmp_path)
    names = sorted(containers(plan))
    assert names == [
        "science_ipcluster-plan-controller-0_ipython",
        "science_ipcluster-plan-engine-0_ipython",
        "science_ipcluster-plan-engine-1_ipython",
        "science_ipcluster-plan-engine-2_ipython",
        "science_nbviewer-ana-plan-0_ipython",
    ]
    assert {c.image for c in containers(plan).values()} == {"localhost/some-image:1"}


def test_environment_resolves_values_and_secret_references(given, tmp_path):
    plan = plan_of(given, tmp_path)
    viewer = containers(plan)["science_nbviewer-ana-plan-0_ipython"]
    controller = containers(plan)["science_ipcluster-plan-controller-0_ipython"]
    engine = containers(plan)["science_ipcluster-plan-engine-0_ipython"]
    assert viewer.environment["IPYTHON_CONTAINER_TYPE"] == "viewer"
    assert viewer.environment["IPYTHON_USER_PASSWORD"] == PASSWORD  # var -> Secret -> secretKeyRef
    assert viewer.environment["IPYTHON_NOTEBOOK_REPOSITORY"] == GIVEN["IPYTHON_NOTEBOOK_REPOSITORY"]
    key = controller.environment["IPYTHON_CLUSTER_KEY"]
    assert len(key) == 48 and key == engine.environment["IPYTHON_CLUSTER_KEY"] == viewer.environment["IPYTHON_CLUSTER_KEY"]
    assert engine.environment["IPYTHON_CONTROLLER_HOST"] == "ipcluster-plan"


def test_security_context_becomes_user_read_only_root_and_dropped_capabilities(given, tmp_path):
    for container in containers(plan_of(given, tmp_path)).values():
        assert container.user == "1000:0"
        assert container.group_add == ["0"]  # fsGroup
        assert container.read_only is True
        assert container.cap_drop == ["ALL"]
        assert container.security_opt == ["no-new-privileges"]
        assert container.privileged is False
        assert container.run_as_non_root is True


def test_limits_become_engine_limits(given, tmp_path):
    viewer = containers(plan_of(given, tmp_path))["science_nbviewer-ana-plan-0_ipython"]
    assert (viewer.nano_cpus, viewer.mem_limit) == (2 * 10**9, 2 * 2**30)


def test_services_are_network_aliases_of_the_pods_they_select(given, tmp_path):
    by_name = containers(plan_of(given, tmp_path))
    assert by_name["science_ipcluster-plan-controller-0_ipython"].aliases == [
        "ipcluster-plan", "ipcluster-plan.science", "ipcluster-plan.science.svc", "ipcluster-plan.science.svc.cluster.local",
    ]
    assert by_name["science_ipcluster-plan-engine-0_ipython"].aliases == []  # no Service selects engines
    assert by_name["science_nbviewer-ana-plan-0_ipython"].aliases[0] == "nbviewer-ana-plan"


def test_volumes_claims_are_shared_empty_dirs_are_per_pod(given, tmp_path):
    by_name = containers(plan_of(given, tmp_path))
    viewer_mounts = {m.target: m for m in by_name["science_nbviewer-ana-plan-0_ipython"].mounts}
    assert viewer_mounts["/home/ipython/work"] == MountPlan("/home/ipython/work", "volume", "ipython-k8s-local_science_nbviewer-ana-plan-workspace")
    assert viewer_mounts["/home/ipython"].source == "ipython-k8s-local_science_nbviewer-ana-plan-0_home"
    assert viewer_mounts["/tmp"].source == "ipython-k8s-local_science_nbviewer-ana-plan-0_tmp"
    engine_mounts = {m.target: m.source for m in by_name["science_ipcluster-plan-engine-1_ipython"].mounts}
    assert engine_mounts["/home/ipython/work"] == "ipython-k8s-local_science_ipcluster-plan-engine-1_workspace"


def test_the_ingress_publishes_the_viewer_port_and_its_readiness_path(given, tmp_path):
    plan = plan_of(given, tmp_path)
    [route] = plan.routes
    assert (route.service.name, route.container_port, route.path) == ("nbviewer-ana-plan", 8888, "/")
    assert containers(plan)["science_nbviewer-ana-plan-0_ipython"].readiness_path == "/api"


def test_labels_mark_every_container_with_workspace_stack_and_pod(given, tmp_path):
    viewer = containers(plan_of(given, tmp_path, workspace="w1"))["science_nbviewer-ana-plan-0_ipython"]
    assert viewer.labels[labels.MARKER] == "true"
    assert viewer.labels[labels.WORKSPACE] == "w1"
    assert viewer.labels[labels.STACK] == "viewer-stack"
    assert viewer.labels[labels.POD] == "nbviewer-ana-plan-0"
    assert viewer.labels["app.kubernetes.io/component"] == "viewer"  # the pod template's labels too


def test_ignored_parts_are_listed_with_their_reason(given, tmp_path):
    lines = "\n".join(plan_of(given, tmp_path).notes.lines())
    assert "ignored locally: kubernetes_network_policy_v1 (x3): not enforced" in lines
    assert "ignored locally: Ingress TLS and host" in lines
    assert "ignored locally: provider (x2)" in lines


def test_generated_values_are_kept_in_the_state_and_follow_the_cross_stack_reference(generated, tmp_path):
    first = containers(plan_of(generated, tmp_path, variables={}))
    second = containers(plan_of(generated, tmp_path, variables={}))
    assert sorted(first) == sorted(second)
    [viewer] = [c for c in first.values() if c.environment["IPYTHON_CONTAINER_TYPE"] == "viewer"]
    [controller] = [c for c in first.values() if c.environment["IPYTHON_CONTAINER_TYPE"] == "controller"]
    # the viewer's label comes from cluster-stack through terraform_remote_state
    assert viewer.environment["IPYTHON_CLUSTER_LABEL"] == controller.environment["IPYTHON_CLUSTER_LABEL"]
    assert viewer.environment["IPYTHON_CLUSTER_KEY"] == controller.environment["IPYTHON_CLUSTER_KEY"]
    password = viewer.environment["IPYTHON_USER_PASSWORD"]
    assert len(password) == 24 and password == next(
        c for c in second.values() if c.environment["IPYTHON_CONTAINER_TYPE"] == "viewer"
    ).environment["IPYTHON_USER_PASSWORD"]
    state = json.loads((tmp_path / "state.json").read_text())
    assert (tmp_path / "state.json").stat().st_mode & 0o777 == 0o600
    assert password in json.dumps(state)
    # another workspace is another state: new values
    other = containers(plan_of(generated, tmp_path, workspace="other", variables={}))
    assert not set(other) & set(first)


def test_a_changed_random_configuration_gives_a_new_value(generated, tmp_path):
    import copy

    first = containers(plan_of(generated, tmp_path, variables={}))
    app = copy.deepcopy(generated)
    [password] = app.stacks["viewer-stack"].config["resource"]["random_password"].values()
    password["length"] = 30
    changed = containers(plan_of(app, tmp_path, variables={}))
    old = next(c for c in first.values() if c.environment["IPYTHON_CONTAINER_TYPE"] == "viewer")
    new = next(c for c in changed.values() if c.environment["IPYTHON_CONTAINER_TYPE"] == "viewer")
    assert len(new.environment["IPYTHON_USER_PASSWORD"]) == 30
    assert new.environment["IPYTHON_CLUSTER_KEY"] == old.environment["IPYTHON_CLUSTER_KEY"]


@pytest.mark.parametrize(
    ("variables", "error", "message"),
    [
        ({}, UsageError, r"TF_VAR_user_password is unset: viewer-stack declares the variable user_password"),
        ({"TF_VAR_user_password": "short"}, UsageError, r"TF_VAR_user_password=<hidden: sensitive>: The password must have at least 8"),
    ],
)
def test_the_password_variable_is_read_and_validated_as_terraform_does(given, tmp_path, variables, error, message):
    with pytest.raises(error, match=message):
        plan_of(given, tmp_path, variables=variables)


def test_a_viewer_alone_needs_the_clusters_secret_to_be_up(given, tmp_path):
    with pytest.raises(LocalRunError, match=r"Secret science/ipcluster-plan-key does not exist"):
        plan_of(given, tmp_path, stacks=["viewer-stack"])


def test_the_viewer_password_comes_from_the_stacks_outputs_not_the_containers(given, tmp_path):
    plan = plan_of(given, tmp_path)
    [route] = plan.routes
    viewer_stack = next(s for s in plan.stacks if s.name == route.source.stack)
    assert viewer_stack.outputs["viewer_password"] == PASSWORD
    assert plan.viewer_password(route) == PASSWORD
    # The output names the viewer by its Ingress host: another host is another viewer.
    viewer_stack.outputs["viewer_url"] = "https://elsewhere.example/"
    assert plan.viewer_password(route) is None


def test_a_deployments_pod_template_is_read_once_through_its_accessor(given, tmp_path):
    plan = plan_of(given, tmp_path)
    engine = next(o for o in plan.objects() if o.kind == "Deployment" and o.name == "ipcluster-plan-engine")
    template = engine.pod_template
    assert template.labels["app.kubernetes.io/component"] == "engine"
    assert [c["name"] for c in template.containers] == ["ipython"]
    assert template.spec["security_context"]  # the pod's spec, unwrapped from its one-element list
    assert [p.name for p in plan.pods if p.deployment is engine] == [f"ipcluster-plan-engine-{i}" for i in range(3)]


@pytest.mark.parametrize(("raw", "expected"), [("3", 3), ("-2", -2), ("1.5", 1.5), ("1e3", 1000)])
def test_a_number_variable_is_parsed_as_terraform_parses_it(raw, expected, tmp_path):
    assert _number_variable(raw, tmp_path) == expected


@pytest.mark.parametrize("raw", ["inf", "nan", " 3", "3 ", "0x10", "1_000", ""])
def test_a_number_variable_terraform_would_refuse_is_one_line_naming_it(raw, tmp_path):
    with pytest.raises(UsageError, match=rf"^TF_VAR_engines={raw}: a number is required$"):
        _number_variable(raw, tmp_path)


def _number_variable(raw, tmp_path):
    from localrun.evaluation import StackEvaluator
    from localrun.synth import SynthStack

    stack = SynthStack("s", (), "stacks/s", {"variable": {"engines": {"type": "number"}}})
    with locked_state(tmp_path) as state:
        evaluator = StackEvaluator(stack, workspace="default", state=state, variables={"TF_VAR_engines": raw},
                                   remote_outputs=lambda *args: {})
        return evaluator.variable("engines")


def test_placement_and_a_gpu_request_are_named_in_the_one_summary_line(given, tmp_path):
    import copy
    import dataclasses

    stacks = copy.deepcopy(given.stacks)
    cluster = next(s for s in stacks.values() if "kubernetes_deployment_v1" in s.config["resource"]
                   and any("engine" in n for n in s.config["resource"]["kubernetes_deployment_v1"]))
    [engine] = [d for n, d in cluster.config["resource"]["kubernetes_deployment_v1"].items() if "engine" in n]
    pod_spec = engine["spec"]["template"]["spec"]
    pod_spec = pod_spec[0] if isinstance(pod_spec, list) else pod_spec
    pod_spec["node_selector"] = {"pool": "gpu"}
    pod_spec["toleration"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    container = pod_spec["container"][0]
    container["resources"]["limits"]["nvidia.com/gpu"] = "1"
    plan = plan_of(dataclasses.replace(given, stacks=stacks), tmp_path)
    summary = plan.notes.summary(verbose=False)
    assert summary.startswith("ignored locally: ")
    assert "among them placement (node_selector, toleration); not honoured (nvidia.com/gpu: 1)" in summary
    assert "ignored locally: resource nvidia.com/gpu (x3): no device or extended resource is passed to containers locally" in plan.notes.lines()
    # the engines still run, with their CPU and memory limits
    engines = [c for name, c in containers(plan).items() if "engine" in name]
    assert len(engines) == 3 and all(c.mem_limit for c in engines)
