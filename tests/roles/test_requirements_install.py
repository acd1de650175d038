"""requirements.txt installs: uv against pip on the same requirements from a local wheel
folder (the faster one is the default), both offline through the PIP_* variables."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ipython_roles.requirements_install import (
    PIP,
    UV,
    _uv_flags_from_pip_variables,
    available_installers,
    default_installer,
    install_requirements,
    with_workspace_packages,
)

from .artifacts import build_wheel
from .conftest import TINY_PACKAGE, offline_install


def test_uv_is_faster_than_pip_and_is_the_default(tmp_path, wheelhouse):
    """Same offline requirements, each installer into its own --target, cold uv cache (as in
    the image, which sets UV_NO_CACHE): uv must win, and be what the entrypoint uses."""
    # a few more wheels, with a dependency chain, so the comparison is not only start-up time
    for n in range(6):
        build_wheel(wheelhouse, f"roles_dep{n}", "1.0", f"N = {n}\n", requires=[f"roles_dep{n + 1}"] if n < 5 else [])
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"{TINY_PACKAGE}==1.0\nroles_dep0\n")
    environ = {**os.environ, **offline_install(wheelhouse), "UV_NO_CACHE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    seconds = {}
    for installer in available_installers():
        target = tmp_path / installer.name
        seconds[installer.name] = install_requirements(
            requirements, target=target, installer=installer, environ=environ
        )
        imported = subprocess.run(
            [sys.executable, "-c", f"import {TINY_PACKAGE}, roles_dep5; print({TINY_PACKAGE}.answer())"],
            env={**os.environ, "PYTHONPATH": str(target)},
            capture_output=True,
            text=True,
        )
        assert imported.stdout.strip() == "42", imported.stderr
    print("install seconds:", {name: round(value, 2) for name, value in seconds.items()})
    assert set(seconds) == {UV, PIP}
    assert seconds[UV] < seconds[PIP]
    assert default_installer().name == UV


@pytest.mark.parametrize(
    "environ, flags",
    [
        ({}, []),
        ({"PIP_FIND_LINKS": "/wheels /more"}, ["--find-links", "/wheels", "--find-links", "/more"]),
        ({"PIP_NO_INDEX": "true"}, ["--no-index"]),
        ({"PIP_NO_INDEX": "1"}, ["--no-index"]),
        ({"PIP_NO_INDEX": "false"}, []),
        ({"PIP_INDEX_URL": "https://mirror/simple"}, ["--index-url", "https://mirror/simple"]),
        ({"PIP_INDEX_URL": "https://mirror/simple", "UV_DEFAULT_INDEX": "https://uv/simple"}, []),
        (
            {"PIP_EXTRA_INDEX_URL": "https://a/simple https://b/simple"},
            ["--extra-index-url", "https://a/simple", "--extra-index-url", "https://b/simple"],
        ),
        ({"PIP_FIND_LINKS": "/wheels", "UV_FIND_LINKS": "/uv-wheels"}, []),
    ],
)
def test_pip_variables_are_translated_for_uv(environ, flags):
    assert _uv_flags_from_pip_variables(environ) == flags


def test_workspace_packages_go_first_on_pythonpath_and_path(tmp_path):
    updated = with_workspace_packages({"PYTHONPATH": "/already", "PATH": "/usr/bin"}, tmp_path)
    assert updated["PYTHONPATH"] == f"{tmp_path}{os.pathsep}/already"
    assert updated["PATH"] == f"{tmp_path / 'bin'}{os.pathsep}/usr/bin"
    assert with_workspace_packages({}, tmp_path)["PYTHONPATH"] == str(tmp_path)
