"""The image runs the versions the host tests run: every package pinned both in the Pipfile and in
image/requirements.txt has the same version in both.

image/requirements.txt is the image's complete lock (compiled from image/requirements.in, see
its header); the Pipfile pins the Jupyter / ipyparallel stack so that the role tests on this
machine exercise the same code the containers run.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PIPFILE = REPO_ROOT / "Pipfile"
REQUIREMENTS = REPO_ROOT / "image" / "requirements.txt"
REQUIREMENTS_IN = REPO_ROOT / "image" / "requirements.in"
# The packages the roles import: they must be pinned in both files (no vacuous pass).
SHARED = {"jupyter-server", "notebook", "ipykernel", "ipyparallel", "uv", "nbclient", "nbgitpuller", "ipywidgets"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def normalized(name: str) -> str:
    """PEP 503 normalization: Jupyter_Server, jupyter.server and jupyter-server are one name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pipfile_pins() -> dict[str, str]:
    data = tomllib.loads(PIPFILE.read_text(encoding="utf-8"))
    pins = {}
    for section in ("packages", "dev-packages"):
        for name, spec in data.get(section, {}).items():
            version = spec if isinstance(spec, str) else spec.get("version", "")
            if isinstance(version, str) and version.startswith("=="):
                pins[normalized(name)] = version[2:]
    return pins


def requirement_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[normalized(match.group(1))] = match.group(2)
    return pins


def test_shared_packages_are_pinned_in_both():
    assert SHARED <= set(pipfile_pins()), sorted(SHARED - set(pipfile_pins()))
    assert SHARED <= set(requirement_pins(REQUIREMENTS)), sorted(SHARED - set(requirement_pins(REQUIREMENTS)))


@pytest.mark.parametrize("source", [REQUIREMENTS, REQUIREMENTS_IN], ids=["requirements.txt", "requirements.in"])
def test_every_package_pinned_in_both_has_one_version(source):
    pipfile, image = pipfile_pins(), requirement_pins(source)
    differing = {name: (pipfile[name], image[name]) for name in pipfile.keys() & image.keys()
                 if pipfile[name] != image[name]}
    assert not differing, (
        f"Pipfile and {source.relative_to(REPO_ROOT)} pin different versions (Pipfile, image): {differing}; "
        "change both, then recompile image/requirements.txt with the command in its header"
    )


def test_image_requirements_are_a_complete_lock():
    """Every line of requirements.txt is one exact pin, so the image build resolves nothing."""
    lines = [line.strip() for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines()]
    entries = [line for line in lines if line and not line.startswith("#")]
    loose = [line for line in entries if not PIN.match(line)]
    assert entries and not loose, loose
