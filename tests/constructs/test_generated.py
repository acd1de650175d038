"""The stacks with no parameter: generated labels and password, and the cross-stack link."""

from __future__ import annotations

from .synth import env_of, resources


def _only(items):
    assert len(items) == 1, items
    return items[0]


def test_cluster_stack_generates_its_label_and_key(generated):
    cluster = generated["cluster-stack"]
    label = _only(resources(cluster, "random_string"))
    assert {k: label[k] for k in ("length", "lower", "upper", "numeric", "special")} == {
        "length": 5, "lower": True, "upper": False, "numeric": True, "special": False
    }
    label_ref = "${random_string." + next(iter(cluster["resource"]["random_string"])) + ".result}"
    names = {r["metadata"]["name"] for r in resources(cluster, "kubernetes_deployment_v1")}
    assert names == {f"ipcluster-{label_ref}-controller", f"ipcluster-{label_ref}-engine"}
    assert _only(resources(cluster, "random_password"))["length"] == 48
    # The viewer stack reads the label through an output of this stack.
    assert any(
        name.startswith("cross-stack-output-") and out["value"] == label_ref
        for name, out in cluster["output"].items()
    )


def test_viewer_stack_links_to_the_generated_cluster_label_across_stacks(generated):
    viewer = generated["viewer-stack"]
    (remote,) = viewer["data"]["terraform_remote_state"].values()
    assert remote["backend"] == "local"
    assert remote["config"] == {
        "path": "../../../terraform.cluster-stack.tfstate",
        "workspace_dir": "../../../terraform.cluster-stack.tfstate.d",
    }
    assert remote["workspace"] == "${terraform.workspace}"
    (deployment,) = resources(viewer, "kubernetes_deployment_v1")
    env = env_of(deployment)
    cluster_ref = env["IPYTHON_CLUSTER_LABEL"]
    assert cluster_ref.startswith("${data.terraform_remote_state.")
    assert env["IPYTHON_CONTROLLER_HOST"] == f"ipcluster-{cluster_ref}"
    assert env["IPYTHON_CLUSTER_KEY"] == ("secret", f"ipcluster-{cluster_ref}-key", "key")
    # Only the user label is generated here: the cluster label belongs to cluster-stack.
    user = _only(resources(viewer, "random_string"))
    assert user["length"] == 5
    user_ref = "${random_string." + next(iter(viewer["resource"]["random_string"])) + ".result}"
    assert deployment["metadata"]["name"] == f"nbviewer-{user_ref}-{cluster_ref}"


def test_generated_password_is_a_sensitive_random_password(generated):
    viewer = generated["viewer-stack"]
    password = _only(resources(viewer, "random_password"))
    assert password["length"] >= 16 and password["special"] is False
    ref = "${random_password." + next(iter(viewer["resource"]["random_password"])) + ".result}"
    (secret,) = [s for s in resources(viewer, "kubernetes_secret_v1") if s["data"] == {"password": ref}]
    assert viewer["output"]["viewer_password"]["sensitive"] is True
    assert viewer["output"]["viewer_password"]["value"] == ref
    assert "variable" not in viewer


def test_defaults(generated):
    viewer, cluster = generated["viewer-stack"], generated["cluster-stack"]
    engines = [d for d in resources(cluster, "kubernetes_deployment_v1") if d["metadata"]["name"].endswith("-engine")]
    assert _only(engines)["spec"]["replicas"] == "2"
    (deployment,) = resources(viewer, "kubernetes_deployment_v1")
    container = deployment["spec"]["template"]["spec"]["container"][0]
    assert container["image"] == "ghcr.io/ipython-k8s/ipython-notebook:0.1.0"
    assert "IPYTHON_NOTEBOOK_REPOSITORY" not in env_of(deployment)
    assert deployment["metadata"]["namespace"] == "ipython"
    # Left to Kubernetes (IfNotPresent for a version tag): `kind load` and the local runner work.
    assert "image_pull_policy" not in container
    (ingress,) = resources(viewer, "kubernetes_ingress_v1")
    assert ingress["spec"]["rule"][0]["host"].endswith(".localhost")
    assert viewer["provider"]["kubernetes"] == [{"config_path": "~/.kube/config"}]
