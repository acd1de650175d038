"""The issue's secure defaults, asserted on every pod and object of both stacks, whatever labels
and passwords are given or generated (tests/policy has the third party's view of the same).

Each test names one property of the list: non-root and arbitrary-UID compatible, no privilege
escalation, no capabilities, seccomp, read-only root with writable volumes only where Jupyter and
ipyparallel write, requests and limits, no service-account token, probes, NetworkPolicies,
secrets only by Secret reference, secret-revealing outputs sensitive, a strong cluster key.
"""

from __future__ import annotations

import json
import re

import pytest
from cdktf import App, TerraformStack
from ipython_k8s import EngineCluster, NotebookViewer, PodSecurity, add_kubernetes_provider, metadata

from .synth import resources

WRITABLE = {
    metadata.VIEWER: {"/tmp", "/home/ipython", "/home/ipython/work"},
    metadata.CONTROLLER: {"/tmp", "/home/ipython"},
    metadata.ENGINE: {"/tmp", "/home/ipython", "/home/ipython/work"},
}
SECRET_TOKEN = re.compile(r"\$\{(random_password\.|var\.user_password)")


@pytest.fixture(scope="module", params=["given", "generated"])
def stacks(request):
    return request.getfixturevalue(request.param)


def pods(stacks):
    """(component, deployment) for the three Deployments of the app."""
    found = [
        (d["spec"]["template"]["metadata"]["labels"][metadata.COMPONENT], d)
        for stack in stacks.values()
        for d in resources(stack, "kubernetes_deployment_v1")
    ]
    assert sorted(component for component, _ in found) == ["controller", "engine", "viewer"]
    return found


def test_non_root_without_privilege_escalation_or_capabilities(stacks):
    for component, deployment in pods(stacks):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["security_context"]["run_as_non_root"] is True, component
        assert pod["security_context"]["seccomp_profile"] == {"type": "RuntimeDefault"}, component
        (container,) = pod["container"]
        context = container["security_context"]
        assert context["allow_privilege_escalation"] is False, component
        assert context["privileged"] is False, component
        assert context["capabilities"] == {"drop": ["ALL"]}, component
        assert "add" not in context["capabilities"]


def test_read_only_root_and_writable_volumes_only_where_the_image_writes(stacks):
    for component, deployment in pods(stacks):
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["container"]
        assert container["security_context"]["read_only_root_filesystem"] is True, component
        mounts = {m["mount_path"]: m["name"] for m in container["volume_mount"]}
        assert set(mounts) == WRITABLE[component], component
        volumes = {v["name"]: v for v in pod["volume"]}
        for path in ("/tmp", "/home/ipython"):
            assert volumes[mounts[path]]["empty_dir"]["size_limit"], (component, path)
        assert not any("host_path" in v for v in pod["volume"]), component


def test_requests_and_limits_for_cpu_and_memory(stacks):
    for component, deployment in pods(stacks):
        (container,) = deployment["spec"]["template"]["spec"]["container"]
        for part in ("requests", "limits"):
            assert set(container["resources"][part]) == {"cpu", "memory"}, (component, part)


def test_no_service_account_token_and_no_service_links(stacks):
    for component, deployment in pods(stacks):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["automount_service_account_token"] is False, component
        assert pod["enable_service_links"] is False, component
        assert "service_account_name" not in pod


def test_every_role_has_readiness_liveness_and_startup_probes(stacks):
    for component, deployment in pods(stacks):
        (container,) = deployment["spec"]["template"]["spec"]["container"]
        for probe in ("readiness_probe", "liveness_probe", "startup_probe"):
            assert container.get(probe), (component, probe)


def test_network_policies_admit_only_the_intended_traffic(stacks):
    policies = {
        policy["spec"]["pod_selector"]["match_labels"][metadata.COMPONENT]: policy["spec"]
        for stack in stacks.values()
        for policy in resources(stack, "kubernetes_network_policy_v1")
    }
    assert set(policies) == {"viewer", "controller", "engine"}
    for spec in policies.values():
        assert spec["policy_types"] == ["Ingress"]
        assert len(spec["ingress"]) == 1
    viewer = policies["viewer"]["ingress"][0]
    assert "from" not in viewer and viewer["ports"] == [{"port": "8888", "protocol": "TCP"}]
    controller = policies["controller"]["ingress"][0]
    assert controller["ports"] == [{"port": "10100", "end_port": 10115, "protocol": "TCP"}]
    (source,) = controller["from"]
    assert set(source) == {"pod_selector"} and list(source["pod_selector"]["match_labels"]) == [metadata.CLUSTER]
    engine = policies["engine"]["ingress"][0]
    (source,) = engine["from"]
    assert set(source) == {"pod_selector"} and list(source["pod_selector"]["match_labels"]) == [metadata.CLUSTER]
    assert "ports" not in engine  # all ports, but only from the cluster's own pods


def test_secrets_reach_pods_only_by_secret_reference(stacks):
    for component, deployment in pods(stacks):
        (container,) = deployment["spec"]["template"]["spec"]["container"]
        for entry in container["env"]:
            if entry["name"] in ("IPYTHON_USER_PASSWORD", "IPYTHON_CLUSTER_KEY"):
                assert "value" not in entry and "secret_key_ref" in entry["value_from"], (component, entry)
            else:
                assert not SECRET_TOKEN.search(json.dumps(entry)), (component, entry)
        assert not SECRET_TOKEN.search(json.dumps(deployment)), component


def test_outputs_that_reveal_a_secret_are_sensitive(stacks):
    revealing = 0
    for stack in stacks.values():
        for name, output in stack.get("output", {}).items():
            if SECRET_TOKEN.search(json.dumps(output["value"])):
                revealing += 1
                assert output.get("sensitive") is True, name
    assert revealing == 1  # the viewer password


def test_cluster_key_is_at_least_32_random_characters(stacks):
    (key,) = resources(stacks["cluster-stack"], "random_password")
    assert key["length"] >= 32
    assert "override_special" not in key and key["special"] is False
    (secret,) = [s for s in resources(stacks["cluster-stack"], "kubernetes_secret_v1") if "key" in s["data"]]
    assert secret["data"]["key"].startswith("${random_password.")


def test_arbitrary_uid_platforms_leave_the_ids_to_the_platform(tmp_path):
    """OpenShift's restricted SCC assigns a random UID: the pods must not pin one."""
    app = App(outdir=str(tmp_path))
    stack = TerraformStack(app, "openshift")
    add_kubernetes_provider(stack)
    security = PodSecurity(run_as_user=None, run_as_group=None, fs_group=None)
    cluster = EngineCluster(stack, "cluster", cluster_label="demo", security=security)
    NotebookViewer(stack, "viewer", domain="example.org", user_label="u", cluster=cluster, security=security)
    app.synth()
    document = json.loads((tmp_path / "stacks" / "openshift" / "cdk.tf.json").read_text())
    deployments = resources(document, "kubernetes_deployment_v1")
    assert len(deployments) == 3
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        assert pod["security_context"] == {"run_as_non_root": True, "seccomp_profile": {"type": "RuntimeDefault"}}
        assert pod["container"][0]["security_context"]["read_only_root_filesystem"] is True
