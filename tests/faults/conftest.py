"""Fixtures of the fault tests: one `local up` (workspace ``faults``) shared by every module.

The notebook repository (git daemon), the engine client and the `local` CLI are the end-to-end
tests' fixtures (tests/e2e/deployment.py), registered here under the same names.
"""

from __future__ import annotations

from tests.e2e.deployment import engine_client, local, notebook_repository  # noqa: F401 - fixtures

from .deployment import faults  # noqa: F401 - fixture
