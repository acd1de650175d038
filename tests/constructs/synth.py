"""Helpers shared by the construct and stack tests: synthesizing, and finding things in the result."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from infra.node_runtime import use_pinned_node

REPO = Path(__file__).resolve().parents[2]
STACKS = ("cluster-stack", "viewer-stack")

#: The parameters of the golden files and of most stack tests: everything given.
GIVEN_ENV = {
    "IPYTHON_USER_LABEL": "alice",
    "IPYTHON_CLUSTER_LABEL": "demo",
    "IPYTHON_NOTEBOOK_REPOSITORY": "https://github.com/ipython/ipyparallel.git#main",
    "IPYTHON_REPOSITORY_REQUIRED": "true",
    "IPYTHON_CLUSTER_ENCRYPTION": "none",
    "IPYTHON_USER_PASSWORD": "correct-horse-battery",
    "TF_VAR_user_password": "correct-horse-battery",
    "IPYTHON_ENGINES": "3",
    "IPYTHON_DOMAIN": "notebooks.example.org",
    "IPYTHON_NAMESPACE": "science",
    "KUBE_CONTEXT": "kind-ipython",
}
CHOSEN_PASSWORD = GIVEN_ENV["IPYTHON_USER_PASSWORD"]


def synth_in_process(env: dict[str, str], outdir: Path) -> dict[str, dict[str, Any]]:
    """Synthesize the app of infra/ with these parameters into ``outdir``; the parsed stacks."""
    from infra.parameters import read_settings
    from infra.stacks import build_app

    build_app(read_settings(env), outdir=str(outdir)).synth()
    return read_stacks(outdir)


def read_stacks(outdir: Path) -> dict[str, dict[str, Any]]:
    return {
        path.parent.name: json.loads(path.read_text())
        for path in sorted((outdir / "stacks").glob("*/cdk.tf.json"))
    }


def resources(stack: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return list(stack.get("resource", {}).get(kind, {}).values())


def named(stack: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    """The one resource of ``kind`` whose metadata.name is ``name``."""
    found = [r for r in resources(stack, kind) if r["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name!r}: {len(found)} found among " + str(
        [r["metadata"]["name"] for r in resources(stack, kind)]
    )
    return found[0]


def env_of(deployment: dict[str, Any]) -> dict[str, Any]:
    """name -> value, or name -> ("secret", secret name, key) for a secretKeyRef."""
    result: dict[str, Any] = {}
    for entry in deployment["spec"]["template"]["spec"]["container"][0]["env"]:
        if "value_from" in entry:
            ref = entry["value_from"]["secret_key_ref"]
            result[entry["name"]] = ("secret", ref["name"], ref["key"])
        else:
            result[entry["name"]] = entry["value"]
    return result


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a subprocess: this machine's basics, no IPYTHON_* or TF_VAR_* leaking in."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PIPENV_VENV_IN_PROJECT", "VIRTUAL_ENV",
            "CHECKPOINT_DISABLE", "CDKTF_DISABLE_PLUGIN_CACHE_ENV", "DISABLE_VERSION_CHECK",
            "TF_CLI_CONFIG_FILE", "JSII_NODE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    use_pinned_node(env)  # jsii's node: the Pipfile's (npm and npx are the venv's, on PATH)
    env["JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION"] = "1"
    env.update(extra)
    return env


def synth_stack(tmp_path: Path, build) -> dict[str, Any]:
    """One stack ``s`` made by ``build(stack)`` (constructs of the library) and synthesized into
    ``tmp_path``; its parsed cdk.tf.json."""
    from cdktf import App, TerraformStack
    from ipython_k8s import add_kubernetes_provider

    app = App(outdir=str(tmp_path))
    stack = TerraformStack(app, "s")
    add_kubernetes_provider(stack, config_path="~/.kube/config")
    build(stack)
    app.synth()
    return json.loads((tmp_path / "stacks" / "s" / "cdk.tf.json").read_text())


def pod_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]


def mounts_of(deployment: dict[str, Any]) -> dict[str, str]:
    """mount path -> volume name of the (one) container."""
    return {m["mount_path"]: m["name"] for m in pod_spec(deployment)["container"][0]["volume_mount"]}


def claims_of(deployment: dict[str, Any]) -> dict[str, str]:
    """volume name -> claim name of the pod's PersistentVolumeClaim volumes."""
    return {v["name"]: v["persistent_volume_claim"]["claim_name"] for v in pod_spec(deployment)["volume"]
            if "persistent_volume_claim" in v}
