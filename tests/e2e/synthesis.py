"""Synthesizing the project's stacks for the local-runner tests, and editing the result.

The tests that need no container read a synthesized app with ``--from`` (the CLI) or
``localrun.synth.read_app`` (in process); edits of a copy (a resource type the runner does not
know, a Service that remaps a port) stand in for a construct that changed.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.node_runtime import use_pinned_node
from localrun.synth import synthesize

REPO = Path(__file__).resolve().parents[2]

PASSWORD = "a-chosen-password"
#: Every parameter given: the stacks of the plan and CLI tests (no container is started from them).
GIVEN = {
    "IPYTHON_USER_LABEL": "ana",
    "IPYTHON_CLUSTER_LABEL": "plan",
    "IPYTHON_ENGINES": "3",
    "IPYTHON_NOTEBOOK_REPOSITORY": "https://example.org/notebooks.git#main",
    "IPYTHON_USER_PASSWORD": PASSWORD,
    "TF_VAR_user_password": PASSWORD,
    "IPYTHON_IMAGE": "localhost/some-image:1",
    "IPYTHON_NAMESPACE": "science",
}


def clean_environ(**parameters: str) -> dict[str, str]:
    """This process's environment without any stack parameter, plus ``parameters``."""
    environ = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("IPYTHON_", "TF_VAR_")) and k not in ("KUBECONFIG", "KUBE_CONTEXT")
    }
    use_pinned_node(environ)  # jsii's node: the Pipfile's (infra/node_runtime.py)
    environ.update(parameters)
    return environ


def synthesize_into(outdir: Path, **parameters: str) -> Path:
    synthesize(REPO, outdir, clean_environ(**parameters))
    return outdir


def edited_copy(source: Path, target: Path, stack: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of a synth output with one stack's cdk.tf.json changed by ``edit``."""
    shutil.copytree(source, target)
    path = target / "stacks" / stack / "cdk.tf.json"
    config = json.loads(path.read_text())
    edit(config)
    path.write_text(json.dumps(config, indent=2))
    return target
