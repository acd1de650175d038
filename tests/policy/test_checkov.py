"""The synthesized stacks as a third party's policy scanner sees them: checkov 3.3, terraform_json.

Every failed check must be accepted by a skip next to the resource it concerns (``//.checkov_skip``
with the check id and a non-empty reason); every skip must still be needed (its check fails on
that resource); nothing may fail to parse. checkov's own skip mechanism is not used (its
terraform_json runner ignores skip comments), so checkov itself reports 0 skipped.
"""

from __future__ import annotations

import json

import pytest

from .checkov_report import CheckovRun, accepted_skips, logical_ids
from .conftest import LOOSENED, PARAMETER_SETS

CASES = [(name, stack) for name in PARAMETER_SETS for stack in ("cluster-stack", "viewer-stack")]
IDS = [f"{name}-{stack}" for name, stack in CASES]


def stack_file(synthesized, name, stack):
    return synthesized[name] / "stacks" / stack / "cdk.tf.json"


def unaccepted(checkov: CheckovRun, path) -> list[str]:
    """Failed checks of a stack file with no skip (id and non-empty reason) on that resource."""
    document = json.loads(path.read_text())
    skips = accepted_skips(document)
    types = logical_ids(document)
    return [
        f"{types.get(f.resource, '?')}.{f.resource}: {f.check_id} {f.check_name}"
        for f in checkov.of_file(path)
        if f.result == "failed" and not skips.get(f.resource, {}).get(f.check_id, "").strip()
    ]


def test_checkov_parses_every_stack(checkov: CheckovRun):
    assert checkov.version.startswith("3.3."), checkov.version
    assert checkov.parsing_errors == []
    assert len(checkov.files) == 2 * (len(PARAMETER_SETS) + len(LOOSENED))


@pytest.mark.parametrize("name, stack", CASES, ids=IDS)
def test_every_failed_check_is_an_accepted_skip_with_a_reason(synthesized, checkov, name, stack):
    path = stack_file(synthesized, name, stack)
    skips = accepted_skips(json.loads(path.read_text()))
    findings = checkov.of_file(path)
    assert sum(f.result == "passed" for f in findings) >= 20, "checkov evaluated (almost) nothing"
    missing = unaccepted(checkov, path)
    assert missing == [], "failed checks without a skip next to the resource:\n" + "\n".join(missing)
    summary = checkov.summary(path)
    accepted = sum(len(checks) for checks in skips.values())
    print(f"{name:9} {stack:14} passed {summary['passed']:3}  failed {summary['failed']:2}  "
          f"accepted skips {accepted}")


@pytest.mark.parametrize("name, stack", CASES, ids=IDS)
def test_no_stale_skip(synthesized, checkov, name, stack):
    path = stack_file(synthesized, name, stack)
    skips = accepted_skips(json.loads(path.read_text()))
    failed = {(f.resource, f.check_id) for f in checkov.of_file(path) if f.result == "failed"}
    stale = [
        f"{resource}: {check_id}"
        for resource, checks in skips.items()
        for check_id in checks
        if (resource, check_id) not in failed
    ]
    assert stale == [], "skips whose check passes (remove them):\n" + "\n".join(stale)


def test_pinned_image_needs_no_skip_and_passes_the_image_checks(synthesized, checkov):
    for stack in ("cluster-stack", "viewer-stack"):
        path = stack_file(synthesized, "pinned", stack)
        assert accepted_skips(json.loads(path.read_text())) == {}
        image_checks = [f for f in checkov.of_file(path) if f.check_id in ("CKV_K8S_43", "CKV_K8S_15")]
        assert image_checks and all(f.result == "passed" for f in image_checks)


def test_the_default_namespace_is_not_kubernetes_default(synthesized, checkov):
    """CKV_K8S_21 is fixed, not skipped: every namespaced object goes to `ipython` by default."""
    for stack in ("cluster-stack", "viewer-stack"):
        path = stack_file(synthesized, "defaults", stack)
        document = json.loads(path.read_text())
        namespaces = {
            resource["metadata"]["namespace"]
            for resources in document["resource"].values()
            for resource in resources.values()
            if "metadata" in resource
        }
        assert namespaces == {"ipython"}
        namespace_checks = [f for f in checkov.of_file(path) if f.check_id == "CKV_K8S_21"]
        assert len(namespace_checks) >= 3 and all(f.result == "passed" for f in namespace_checks)


def test_a_finding_nobody_accepted_is_reported(synthesized, checkov):
    """The matching is not vacuous: a user's `default` namespace fails CKV_K8S_21 on every
    namespaced object and no construct accepts that."""
    for stack, expected in (("cluster-stack", 4), ("viewer-stack", 4)):
        missing = unaccepted(checkov, stack_file(synthesized, "default-namespace", stack))
        assert len(missing) == expected and all(": CKV_K8S_21 " in line for line in missing), missing


def test_missing_checkov_is_a_clear_failure_not_a_skip(monkeypatch):
    from .checkov_report import checkov_executable

    monkeypatch.setenv("CHECKOV", "/nonexistent/bin/checkov")
    with pytest.raises(AssertionError, match=r"^checkov not found at /nonexistent/bin/checkov: run tests/run\.sh"):
        checkov_executable()
