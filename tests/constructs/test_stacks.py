"""The two stacks with every parameter given, resource by resource."""

from __future__ import annotations

import pytest
from ipython_k8s import metadata

from .synth import CHOSEN_PASSWORD, env_of, named, resources

VIEWER = "nbviewer-alice-demo"
CONTROLLER_SERVICE = "ipcluster-demo"
KEY_SECRET = "ipcluster-demo-key"


@pytest.fixture(scope="module")
def viewer(given):
    return given["viewer-stack"]


@pytest.fixture(scope="module")
def cluster(given):
    return given["cluster-stack"]


def test_names_derive_from_the_labels(viewer, cluster):
    assert named(viewer, "kubernetes_deployment_v1", VIEWER)
    assert named(viewer, "kubernetes_service_v1", VIEWER)
    assert named(viewer, "kubernetes_ingress_v1", VIEWER)
    assert named(viewer, "kubernetes_persistent_volume_claim_v1", f"{VIEWER}-workspace")
    assert named(viewer, "kubernetes_secret_v1", f"{VIEWER}-password")
    assert named(cluster, "kubernetes_service_v1", CONTROLLER_SERVICE)
    assert named(cluster, "kubernetes_deployment_v1", "ipcluster-demo-controller")
    assert named(cluster, "kubernetes_deployment_v1", "ipcluster-demo-engine")
    assert named(cluster, "kubernetes_secret_v1", KEY_SECRET)
    for stack in (viewer, cluster):
        for kind, items in stack["resource"].items():
            for item in items.values():
                if "metadata" in item:
                    assert item["metadata"]["namespace"] == "science", kind
                    assert len(item["metadata"]["name"]) <= 63


@pytest.mark.parametrize(
    "stack, name",
    [
        ("viewer-stack", VIEWER),
        ("cluster-stack", "ipcluster-demo-controller"),
        ("cluster-stack", "ipcluster-demo-engine"),
    ],
)
def test_selectors_match_pod_template_labels(given, stack, name):
    deployment = named(given[stack], "kubernetes_deployment_v1", name)
    selector = deployment["spec"]["selector"]["match_labels"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= pod_labels.items()
    assert pod_labels[metadata.CLUSTER] == "demo"


@pytest.mark.parametrize(
    "stack, service, deployment",
    [("viewer-stack", VIEWER, VIEWER), ("cluster-stack", CONTROLLER_SERVICE, "ipcluster-demo-controller")],
)
def test_services_select_their_pods_and_target_container_ports(given, stack, service, deployment):
    svc = named(given[stack], "kubernetes_service_v1", service)
    pods = named(given[stack], "kubernetes_deployment_v1", deployment)
    pod_labels = pods["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= pod_labels.items()
    container_ports = {
        (p["name"], p["container_port"]) for p in pods["spec"]["template"]["spec"]["container"][0]["port"]
    }
    service_ports = {(p["name"], int(p["target_port"])) for p in svc["spec"]["port"]}
    assert service_ports == container_ports


def test_controller_service_exposes_the_16_fixed_ports(cluster):
    ports = named(cluster, "kubernetes_service_v1", CONTROLLER_SERVICE)["spec"]["port"]
    assert [(p["name"], p["port"]) for p in ports] == [(f"ipp-{i}", 10100 + i) for i in range(16)]


def test_controller_is_one_replica_recreated(cluster):
    spec = named(cluster, "kubernetes_deployment_v1", "ipcluster-demo-controller")["spec"]
    assert spec["replicas"] == "1"
    assert spec["strategy"]["type"] == "Recreate"


def test_engine_count_is_the_parameter(cluster):
    assert named(cluster, "kubernetes_deployment_v1", "ipcluster-demo-engine")["spec"]["replicas"] == "3"


def test_viewer_and_engines_point_at_the_controller_service_and_key_secret(viewer, cluster):
    key_ref = ("secret", KEY_SECRET, "key")
    viewer_env = env_of(named(viewer, "kubernetes_deployment_v1", VIEWER))
    assert viewer_env["IPYTHON_CONTAINER_TYPE"] == "viewer"
    assert viewer_env["IPYTHON_CONTROLLER_HOST"] == CONTROLLER_SERVICE
    assert viewer_env["IPYTHON_CLUSTER_LABEL"] == "demo"
    assert viewer_env["IPYTHON_CLUSTER_KEY"] == key_ref
    for role, deployment in (("engine", "ipcluster-demo-engine"), ("controller", "ipcluster-demo-controller")):
        env = env_of(named(cluster, "kubernetes_deployment_v1", deployment))
        assert env["IPYTHON_CONTAINER_TYPE"] == role
        assert env["IPYTHON_CONTROLLER_HOST"] == CONTROLLER_SERVICE
        assert env["IPYTHON_CLUSTER_LABEL"] == "demo"
        assert env["IPYTHON_CLUSTER_KEY"] == key_ref
    # The key Secret the references name exists, with that key, filled from a random_password.
    key_secret = named(cluster, "kubernetes_secret_v1", KEY_SECRET)
    assert key_secret["data"]["key"].startswith("${random_password.")
    (key,) = resources(cluster, "random_password")
    assert key["length"] >= 32 and key["special"] is False


def test_repository_reaches_viewer_and_engines_but_not_the_controller(viewer, cluster):
    url = "https://github.com/ipython/ipyparallel.git#main"
    assert env_of(named(viewer, "kubernetes_deployment_v1", VIEWER))["IPYTHON_NOTEBOOK_REPOSITORY"] == url
    assert env_of(named(cluster, "kubernetes_deployment_v1", "ipcluster-demo-engine"))[
        "IPYTHON_NOTEBOOK_REPOSITORY"
    ] == url
    assert "IPYTHON_NOTEBOOK_REPOSITORY" not in env_of(
        named(cluster, "kubernetes_deployment_v1", "ipcluster-demo-controller")
    )


def test_encryption_and_required_repository_reach_the_roles_that_read_them(viewer, cluster):
    """Given by label, the viewer cannot read the cluster's choice: both stacks get the parameter."""
    viewer_env = env_of(named(viewer, "kubernetes_deployment_v1", VIEWER))
    engine_env = env_of(named(cluster, "kubernetes_deployment_v1", "ipcluster-demo-engine"))
    controller_env = env_of(named(cluster, "kubernetes_deployment_v1", "ipcluster-demo-controller"))
    assert [env["IPYTHON_CLUSTER_ENCRYPTION"] for env in (viewer_env, engine_env, controller_env)] == ["none"] * 3
    assert viewer_env["IPYTHON_REPOSITORY_REQUIRED"] == engine_env["IPYTHON_REPOSITORY_REQUIRED"] == "true"
    assert "IPYTHON_REPOSITORY_REQUIRED" not in controller_env


def test_encryption_defaults_to_curve_across_the_cross_stack_reference(generated):
    for stack in generated.values():
        for deployment in resources(stack, "kubernetes_deployment_v1"):
            assert env_of(deployment)["IPYTHON_CLUSTER_ENCRYPTION"] == "curve"


def test_chosen_password_only_by_secret_reference_and_sensitive_variable(viewer):
    env = env_of(named(viewer, "kubernetes_deployment_v1", VIEWER))
    assert env["IPYTHON_USER_PASSWORD"] == ("secret", f"{VIEWER}-password", "password")
    assert named(viewer, "kubernetes_secret_v1", f"{VIEWER}-password")["data"] == {
        "password": "${var.user_password}"
    }
    variable = viewer["variable"]["user_password"]
    assert variable["sensitive"] is True and "default" not in variable
    assert viewer["output"]["viewer_password"] == {
        "description": "The viewer password (sensitive: terraform output -raw viewer_password).",
        "sensitive": True,
        "value": "${var.user_password}",
    }
    assert "random_password" not in viewer.get("resource", {})


def test_chosen_password_is_in_no_synthesized_file(given_outdir):
    files = [path for path in given_outdir.rglob("*") if path.is_file()]
    assert len(files) >= 3
    for path in files:
        assert CHOSEN_PASSWORD not in path.read_text(), path


def test_ingress_serves_the_host_over_tls(viewer):
    ingress = named(viewer, "kubernetes_ingress_v1", VIEWER)
    host = f"{VIEWER}.notebooks.example.org"
    assert ingress["spec"]["tls"] == [{"hosts": [host], "secret_name": f"{VIEWER}-tls"}]
    (rule,) = ingress["spec"]["rule"]
    assert rule["host"] == host
    backend = rule["http"]["path"][0]["backend"]["service"]
    assert backend == {"name": VIEWER, "port": {"number": 8888}}
    assert viewer["output"]["viewer_url"]["value"] == f"https://{host}/"


def test_workspace_claim_is_mounted_and_separate_from_the_deployment(viewer):
    claim = named(viewer, "kubernetes_persistent_volume_claim_v1", f"{VIEWER}-workspace")
    assert claim["spec"]["resources"]["requests"] == {"storage": "1Gi"}
    assert claim["wait_until_bound"] is False
    pod = named(viewer, "kubernetes_deployment_v1", VIEWER)["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volume"]}
    mounts = {m["mount_path"]: m["name"] for m in pod["container"][0]["volume_mount"]}
    assert volumes[mounts["/home/ipython/work"]]["persistent_volume_claim"]["claim_name"] == f"{VIEWER}-workspace"
    assert "empty_dir" in volumes[mounts["/home/ipython"]] and "empty_dir" in volumes[mounts["/tmp"]]
    assert named(viewer, "kubernetes_deployment_v1", VIEWER)["spec"]["strategy"]["type"] == "Recreate"


@pytest.mark.parametrize(
    "stack, deployment",
    [
        ("viewer-stack", VIEWER),
        ("cluster-stack", "ipcluster-demo-controller"),
        ("cluster-stack", "ipcluster-demo-engine"),
    ],
)
def test_security_context_is_restricted(given, stack, deployment):
    pod = named(given[stack], "kubernetes_deployment_v1", deployment)["spec"]["template"]["spec"]
    assert pod["security_context"] == {
        "run_as_non_root": True,
        "run_as_user": "1000",
        "run_as_group": "0",
        "fs_group": "0",
        "seccomp_profile": {"type": "RuntimeDefault"},
    }
    assert pod["automount_service_account_token"] is False
    container = pod["container"][0]
    assert container["security_context"] == {
        "allow_privilege_escalation": False,
        "privileged": False,
        "read_only_root_filesystem": True,
        "run_as_non_root": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert set(container["resources"]) == {"requests", "limits"}
    mounts = {m["mount_path"] for m in container["volume_mount"]}
    assert {"/tmp", "/home/ipython"} <= mounts


def test_probes(viewer, cluster):
    container = named(viewer, "kubernetes_deployment_v1", VIEWER)["spec"]["template"]["spec"]["container"][0]
    for probe in ("readiness_probe", "liveness_probe", "startup_probe"):
        assert container[probe]["http_get"] == {"path": "/api", "port": "8888"}
    controller = named(cluster, "kubernetes_deployment_v1", "ipcluster-demo-controller")
    container = controller["spec"]["template"]["spec"]["container"][0]
    for probe in ("readiness_probe", "liveness_probe", "startup_probe"):
        assert container[probe]["tcp_socket"] == [{"port": "10100"}]
    engines = named(cluster, "kubernetes_deployment_v1", "ipcluster-demo-engine")
    container = engines["spec"]["template"]["spec"]["container"][0]
    for probe in ("readiness_probe", "liveness_probe", "startup_probe"):
        assert container[probe]["exec"] == {
            "command": ["/opt/venv/bin/python", "/opt/ipython/entrypoint.py", "healthcheck"]
        }
    # liveness: 3 failures 20 s apart; startup: up to 5 minutes for cloning and installing
    assert (container["liveness_probe"]["period_seconds"], container["liveness_probe"]["failure_threshold"]) == (20, 3)
    startup = container["startup_probe"]
    assert startup["period_seconds"] * startup["failure_threshold"] == 300


def test_idle_culling_default_reaches_the_viewer(viewer):
    assert env_of(named(viewer, "kubernetes_deployment_v1", VIEWER))["IPYTHON_CULL_IDLE_SECONDS"] == "3600"


def test_network_policies(viewer, cluster):
    policy = named(viewer, "kubernetes_network_policy_v1", VIEWER)["spec"]
    assert policy["policy_types"] == ["Ingress"]
    assert policy["ingress"] == [{"ports": [{"port": "8888", "protocol": "TCP"}]}]
    controller = named(cluster, "kubernetes_network_policy_v1", "ipcluster-demo-controller")["spec"]
    assert controller["pod_selector"]["match_labels"][metadata.COMPONENT] == "controller"
    assert controller["ingress"] == [
        {
            "from": [{"pod_selector": {"match_labels": {metadata.CLUSTER: "demo"}}}],
            "ports": [{"port": "10100", "end_port": 10115, "protocol": "TCP"}],
        }
    ]
    engines = named(cluster, "kubernetes_network_policy_v1", "ipcluster-demo-engine")["spec"]
    assert engines["pod_selector"]["match_labels"][metadata.COMPONENT] == "engine"
    assert engines["ingress"] == [{"from": [{"pod_selector": {"match_labels": {metadata.CLUSTER: "demo"}}}]}]
    # The viewer carries the cluster label, so the controller's policy admits it.
    pod_labels = named(viewer, "kubernetes_deployment_v1", VIEWER)["spec"]["template"]["metadata"]["labels"]
    assert pod_labels[metadata.CLUSTER] == "demo"


def test_given_labels_create_no_random_labels_and_no_cross_stack_reference(viewer, cluster):
    assert "random_string" not in viewer["resource"]
    assert "random_string" not in cluster["resource"]
    assert "data" not in viewer


def test_kubernetes_provider_and_local_state(viewer, cluster):
    for name, stack in (("viewer-stack", viewer), ("cluster-stack", cluster)):
        assert stack["provider"]["kubernetes"] == [
            {"config_path": "~/.kube/config", "config_context": "kind-ipython"}
        ]
        assert stack["terraform"]["backend"] == {
            "local": {
                "path": f"../../../terraform.{name}.tfstate",
                "workspace_dir": f"../../../terraform.{name}.tfstate.d",
            }
        }
