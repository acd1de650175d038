"""Fixtures of the local-runner tests: synthesized apps, the engine, and the `local` CLI.

The end-to-end fixtures (a notebook repository served to the containers, one `local up`
shared by the notebook, scaling, linking and browser tests) are in ``deployment.py`` and
registered here so that every module of the folder can use them.
"""

from __future__ import annotations

from tests.localrun.conftest import generated_outdir, given_outdir  # noqa: F401 - fixtures

from .deployment import cluster, engine_client, local, notebook_repository  # noqa: F401 - fixtures
