"""Building the construct library's distributions the way its users do, without touching the checkout.

setuptools writes ``*.egg-info`` and ``build/`` next to the sources it builds, so the builds
run on a copy of constructs/ (symbolic links resolved: constructs/LICENSE links to the root's).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from .synth import REPO, clean_env

LIBRARY = REPO / "constructs"
BUILD_TIMEOUT = 300


def pyproject() -> dict:
    return tomllib.loads((LIBRARY / "pyproject.toml").read_text())


def copy_of_library(target: Path) -> Path:
    shutil.copytree(
        LIBRARY, target,
        ignore=shutil.ignore_patterns("*.egg-info", "build", "dist", "__pycache__"),
    )
    return target


def build(workdir: Path, *args: str) -> Path:
    """``python -m build <args>`` on a copy of constructs/ under ``workdir``; the output folder."""
    source = copy_of_library(workdir / "src")
    dist = workdir / "dist"
    run = subprocess.run(
        [sys.executable, "-m", "build", *args, "--outdir", str(dist), str(source)],
        env=clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1"), capture_output=True, text=True,
        timeout=BUILD_TIMEOUT,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return dist
