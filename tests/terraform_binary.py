"""The Terraform binary for the tests that run it, or a skip where the machine has none.

WHY a skip and not a failure: Terraform is on none of the package registries this project's
set-up can use (PyPI, npm, Debian), so a fresh machine set up by the README has none; the users'
CI (hashicorp/setup-terraform) and this project's CI machine have it (Terraform 1.11), and there
these tests run. The README lists it as the one prerequisite the set-up cannot install.
"""

from __future__ import annotations

import shutil

import pytest

REASON = ("terraform is not on PATH: install Terraform 1.11 or later (no package registry this "
          "project's set-up uses carries it); the users' CI and this project's CI have it")


def terraform() -> str:
    """The path of ``terraform``; skips the calling test when there is none."""
    found = shutil.which("terraform")
    if found is None:
        pytest.skip(REASON)
    return found
