"""Fixtures of the local-runner tests: synthesized apps, the engine, and the `local` CLI.

The end-to-end fixtures (a notebook repository served to the containers, one `local up`
shared by the notebook, scaling, linking and browser tests) are in ``deployment.py`` and
registered here so that every module of the folder can use them.
"""

from __future__ import annotations

import pytest

from .deployment import cluster, engine_client, local, notebook_repository  # noqa: F401 - fixtures
from .synthesis import GIVEN, synthesize_into


@pytest.fixture(scope="session")
def given_outdir(tmp_path_factory):
    """Both stacks with every parameter given (GIVEN), synthesized once."""
    return synthesize_into(tmp_path_factory.mktemp("given") / "cdktf.out", **GIVEN)


@pytest.fixture(scope="session")
def generated_outdir(tmp_path_factory):
    """Both stacks with no parameter: labels, key and password generated, cross-stack reference."""
    return synthesize_into(tmp_path_factory.mktemp("generated") / "cdktf.out")
