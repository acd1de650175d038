"""Golden files: every change to the synthesized Terraform shows as a readable diff in review.

Regenerate after an intended change with ``UPDATE_GOLDEN=1 pipenv run pytest tests/constructs/test_golden.py``
and review the diff of tests/constructs/golden/.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest

from .synth import STACKS

GOLDEN = Path(__file__).parent / "golden"


def pretty(document) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize("stack", STACKS)
def test_stack_matches_golden_file(given, stack):
    actual = pretty(given[stack])
    path = GOLDEN / f"{stack}.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(actual)
    if not path.exists():
        pytest.fail(f"{path} is missing: create it with UPDATE_GOLDEN=1 and review it")
    expected = path.read_text()
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), actual.splitlines(True), str(path), "synthesized"
            )
        )
        pytest.fail(f"{stack} differs from its golden file (UPDATE_GOLDEN=1 to accept):\n{diff}")
