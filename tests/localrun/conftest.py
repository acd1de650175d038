"""Fixtures of the local runner's unit tests: synthesized apps (no container engine needed)."""

from __future__ import annotations

import pytest

from tests.e2e.synthesis import GIVEN, synthesize_into


@pytest.fixture(scope="session")
def given_outdir(tmp_path_factory):
    """Both stacks with every parameter given (GIVEN), synthesized once."""
    return synthesize_into(tmp_path_factory.mktemp("given") / "cdktf.out", **GIVEN)


@pytest.fixture(scope="session")
def generated_outdir(tmp_path_factory):
    """Both stacks with no parameter: labels, key and password generated, cross-stack reference."""
    return synthesize_into(tmp_path_factory.mktemp("generated") / "cdktf.out")
