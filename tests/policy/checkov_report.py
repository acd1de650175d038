"""Running checkov over synthesized stacks and matching its findings with the accepted skips.

checkov's terraform_json runner reports a resource as ``resource.<logical id>`` (without the
resource type); cdktf's logical ids carry a hash and are unique within a stack file, so a finding is
identified by (file, logical id). The accepted skips are read from the same file: the
``//.checkov_skip`` list each construct writes into its resources (ipython_k8s.scanner_skips).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipython_k8s.scanner_skips import COMMENT_KEY, SKIP_KEY

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CHECKOV = REPO / ".tools" / "checkov" / "bin" / "checkov"


def checkov_executable() -> Path:
    """$CHECKOV (tests/run.sh sets it), else the project's checkov venv; never a silent skip."""
    path = Path(os.environ.get("CHECKOV") or DEFAULT_CHECKOV)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise AssertionError(
            f"checkov not found at {path}: run tests/run.sh (it installs .ci/checkov-requirements.txt into "
            f"{DEFAULT_CHECKOV.parent.parent}) or set CHECKOV to a checkov 3.3 executable"
        )
    return path


@dataclass(frozen=True)
class Finding:
    file: str
    resource: str  # the logical id
    check_id: str
    check_name: str
    result: str  # "passed" or "failed"


@dataclass
class CheckovRun:
    version: str
    findings: list[Finding]
    parsing_errors: list[str]
    files: list[Path] = field(default_factory=list)

    def of_file(self, path: Path) -> list[Finding]:
        return [finding for finding in self.findings if finding.file == str(path)]

    def summary(self, path: Path) -> Counter:
        return Counter(finding.result for finding in self.of_file(path))


def run_checkov(files: list[Path]) -> CheckovRun:
    command = [str(checkov_executable())]
    for path in files:
        command += ["-f", str(path)]
    command += ["--framework", "terraform_json", "--skip-download", "--compact", "-o", "json"]
    env = {**os.environ, "LOG_LEVEL": "WARNING", "BC_SKIP_MAPPING": "TRUE"}
    # Not from the project root: checkov would read .checkov.yaml there, whose skips hide the
    # findings this report matches with the per-resource skips (test_checkov_plain.py runs it there).
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=tempfile.gettempdir())
    # checkov exits 1 when a check fails: that is for the test to judge, not an error here.
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise AssertionError(f"checkov failed ({done.returncode}): {done.stderr[-2000:]}")
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    findings: list[Finding] = []
    parsing_errors: list[str] = []
    version = ""
    for report in reports:
        version = report.get("summary", {}).get("checkov_version", version)
        results = report.get("results", {})
        parsing_errors += results.get("parsing_errors", [])
        for result, key in (("passed", "passed_checks"), ("failed", "failed_checks")):
            for check in results.get(key, []):
                findings.append(
                    Finding(
                        file=_absolute(check["file_abs_path"], files),
                        resource=check["resource"].rsplit(".", 1)[-1],
                        check_id=check["check_id"],
                        check_name=check["check_name"],
                        result=result,
                    )
                )
    return CheckovRun(version=version, findings=findings, parsing_errors=parsing_errors, files=list(files))


def _absolute(reported: str, files: list[Path]) -> str:
    """The file a finding is about (checkov names it as given: absolute paths in, absolute out)."""
    if reported not in {str(path) for path in files}:
        raise AssertionError(f"checkov reported a file it was not given: {reported}")
    return reported


def accepted_skips(stack: dict[str, Any]) -> dict[str, dict[str, str]]:
    """logical id -> {check id: reason} for every resource of a stack that carries skips."""
    skips: dict[str, dict[str, str]] = {}
    for resources in stack.get("resource", {}).values():
        for logical_id, resource in resources.items():
            for entry in resource.get(COMMENT_KEY, {}).get(SKIP_KEY, []):
                skips.setdefault(logical_id, {})[entry["id"]] = entry.get("reason", "")
    return skips


def logical_ids(stack: dict[str, Any]) -> dict[str, str]:
    """logical id -> resource type (to name a finding's resource properly in messages)."""
    return {
        logical_id: resource_type
        for resource_type, resources in stack.get("resource", {}).items()
        for logical_id in resources
    }
