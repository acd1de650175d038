"""checkov as a security team runs it: `checkov -d cdktf.out` from the project root, no flags.

checkov then reads the project's .checkov.yaml (its own place for accepted findings, since
its terraform_json runner ignores skip comments). The file's accepted checks must be exactly
the ones the constructs accept beside their resources (``//.checkov_skip``, with reasons), so
the two cannot drift apart.
"""

from __future__ import annotations

import json
import subprocess

import yaml

from .checkov_report import REPO, accepted_skips, checkov_executable
from .conftest import PARAMETER_SETS

CONFIG = REPO / ".checkov.yaml"


def plain_checkov(directory, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([str(checkov_executable()), "-d", str(directory)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_checkov_run_plainly_from_the_project_root_reports_0_failed(synthesized):
    for name in PARAMETER_SETS:
        run = plain_checkov(synthesized[name], REPO)
        assert run.returncode == 0, f"{name}:\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
        assert "Failed checks: 0" in run.stdout, run.stdout
        assert "Traceback" not in run.stderr, run.stderr[-2000:]  # no call home


def test_without_the_projects_config_checkov_reports_the_accepted_findings(synthesized, tmp_path):
    run = plain_checkov(synthesized["defaults"], tmp_path)
    assert run.returncode == 1
    assert "Failed checks: 6" in run.stdout, run.stdout


def test_the_config_accepts_exactly_what_the_constructs_accept(synthesized):
    configured = set(yaml.safe_load(CONFIG.read_text())["skip-check"])
    accepted = set()
    for name in PARAMETER_SETS:
        for stack in synthesized[name].glob("stacks/*/cdk.tf.json"):
            for checks in accepted_skips(json.loads(stack.read_text())).values():
                accepted.update(checks)
    assert configured == accepted
