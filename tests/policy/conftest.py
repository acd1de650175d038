"""Fixtures of the policy tests: checkov, and the stacks synthesized with three sets of parameters.

WHY three: the defaults are what most people deploy; the optional parts (a repository, a TLS
issuer and Secret, a chosen password, several engines, given labels, shared storage, engine
groups, GPUs and placement, an image pull secret) add or change resources; a
digest-pinned image shows that the image skips disappear with their cause.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.node_runtime import use_pinned_node
from tests.constructs.synth import synth_in_process

from .checkov_report import CheckovRun, run_checkov

use_pinned_node()

PINNED_IMAGE = "ghcr.io/ipython-k8s/ipython-notebook@sha256:" + "0123456789abcdef" * 4

PARAMETER_SETS: dict[str, dict[str, str]] = {
    "defaults": {},
    "optional": {
        "IPYTHON_USER_LABEL": "alice",
        "IPYTHON_CLUSTER_LABEL": "demo",
        "IPYTHON_NOTEBOOK_REPOSITORY": "https://github.com/ipython/ipyparallel.git#main",
        "IPYTHON_USER_PASSWORD": "correct-horse-battery",
        "TF_VAR_user_password": "correct-horse-battery",
        "IPYTHON_ENGINES": "6",
        "IPYTHON_DOMAIN": "notebooks.example.org",
        "IPYTHON_NAMESPACE": "science",
        "IPYTHON_INGRESS_CLASS": "nginx",
        "IPYTHON_TLS_SECRET": "notebooks-example-org-tls",
        "IPYTHON_CLUSTER_ISSUER": "letsencrypt",
        "IPYTHON_STORAGE_CLASS": "standard",
        "IPYTHON_WORKSPACE_SIZE": "5Gi",
        "IPYTHON_CULL_IDLE_SECONDS": "600",
        "IPYTHON_REPOSITORY_UPDATE": "never",
        "IPYTHON_INGRESS_BODY_SIZE": "256m",
        "IPYTHON_SHARED_STORAGE": "20Gi",
        "IPYTHON_SHARED_STORAGE_CLASS": "nfs-client",
        "IPYTHON_ENGINE_GROUPS": "gpu:2:1,big:1",
        "IPYTHON_ENGINE_GPUS": "1",
        "IPYTHON_ENGINE_NODE_SELECTOR": "pool=science,topology.kubernetes.io/zone=a",
        "IPYTHON_ENGINE_TOLERATIONS": "dedicated=science:NoSchedule,spot",
        "IPYTHON_IMAGE_PULL_SECRET": "registry-login",
    },
    "pinned": {"IPYTHON_IMAGE": PINNED_IMAGE},
}

#: A user's own loosening, scanned in the same run to show that the test does catch findings
#: nobody accepted: Kubernetes' `default` namespace fails CKV_K8S_21 and carries no skip.
LOOSENED: dict[str, dict[str, str]] = {"default-namespace": {"IPYTHON_NAMESPACE": "default"}}


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory) -> dict[str, Path]:
    """parameter set -> the cdktf.out directory it was synthesized into."""
    outdirs = {}
    for name, env in {**PARAMETER_SETS, **LOOSENED}.items():
        outdir = tmp_path_factory.mktemp(f"policy-{name}") / "cdktf.out"
        synth_in_process(dict(env), outdir)
        outdirs[name] = outdir
    return outdirs


@pytest.fixture(scope="session")
def checkov(synthesized) -> CheckovRun:
    """One checkov run over every synthesized stack file (one process: checkov starts slowly)."""
    files = sorted(path for outdir in synthesized.values() for path in outdir.glob("stacks/*/cdk.tf.json"))
    return run_checkov(files)
