"""The skip annotation is plain Terraform JSON: Terraform ignores a ``//`` property of a block
whatever its value (here an object holding cdktf's metadata and our skips).

Checked with Terraform itself, offline: the ``//`` objects of the synthesized resources are put
into ``terraform_data`` resources (a built-in provider, so ``terraform init`` downloads nothing)
and ``terraform validate`` must accept them.
"""

from __future__ import annotations

import json
import os
import subprocess

from ipython_k8s.scanner_skips import COMMENT_KEY, SKIP_KEY

from .checkov_report import REPO
from tests.terraform_binary import terraform as terraform_binary


def test_terraform_accepts_the_annotated_comment_objects(synthesized, tmp_path):
    terraform = terraform_binary()
    comments = []
    for path in synthesized["defaults"].glob("stacks/*/cdk.tf.json"):
        for resources in json.loads(path.read_text())["resource"].values():
            comments += [r[COMMENT_KEY] for r in resources.values() if SKIP_KEY in r.get(COMMENT_KEY, {})]
    assert len(comments) == 3  # the three Deployments
    config = {
        "resource": {
            "terraform_data": {f"annotated_{n}": {COMMENT_KEY: comment, "input": n} for n, comment in enumerate(comments)}
        }
    }
    (tmp_path / "main.tf.json").write_text(json.dumps(config))
    env = {
        **os.environ,
        "CHECKPOINT_DISABLE": "1",
        "TF_CLI_CONFIG_FILE": str(REPO / ".ci" / "terraformrc"),
        "TF_IN_AUTOMATION": "1",
    }
    for command in (["init", "-input=false", "-backend=false"], ["validate", "-json"]):
        done = subprocess.run([terraform, *command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["valid"] is True
