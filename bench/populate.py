"""5. Populating a workspace from git: the installer the entrypoint chose (uv) against plain pip.

Each run clones a git repository whose requirements.txt names three packages from a local wheel
folder (offline, as ``PIP_FIND_LINKS`` + ``PIP_NO_INDEX`` configure it) into an empty workspace
with the entrypoint's own code, then installs the requirements into a fresh target, as the
viewer does at start. Only the installer differs between the two sides.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from tests.roles.artifacts import build_wheel, commit_files, git

from .processes import ENTRYPOINT
from .timing import Comparison, alternate, seconds

sys.path.insert(0, str(ENTRYPOINT.parent))
from ipython_roles.repository_source import parse_repository  # noqa: E402
from ipython_roles.requirements_install import PIP, UV, available_installers, install_requirements  # noqa: E402
from ipython_roles.workspace import populate  # noqa: E402

PACKAGES = ("bench_alpha", "bench_beta", "bench_gamma")


def make_repository(root: Path) -> tuple[Path, Path]:
    """A wheel folder with three packages and a git repository whose requirements.txt names them."""
    wheels = root / "wheels"
    for name in PACKAGES:
        build_wheel(wheels, name, "1.0", f"NAME = {name!r}\n")
    repository = root / "repository"
    repository.mkdir(parents=True)
    git(repository, "init", "-q", "-b", "main")
    commit_files(
        repository,
        {"analysis.ipynb": "{}", "requirements.txt": "".join(f"{name}==1.0\n" for name in PACKAGES)},
        "notebooks",
    )
    return repository, wheels


def _populate_once(repository: Path, wheels: Path, installer_name: str, work: Path) -> float:
    installer = next(i for i in available_installers() if i.name == installer_name)
    run_root = Path(tempfile.mkdtemp(dir=work))
    workspace, target = run_root / "work", run_root / "packages"
    workspace.mkdir()
    environ = dict(os.environ, PIP_FIND_LINKS=str(wheels), PIP_NO_INDEX="true", UV_CACHE_DIR=str(run_root / "uv-cache"))

    def clone_and_install() -> None:
        result = populate(parse_repository(str(repository)), workspace)
        assert result.holds_clone, result.message
        install_requirements(workspace / "requirements.txt", target=target, installer=installer, environ=environ)

    elapsed = seconds(clone_and_install)
    assert all((target / name / "__init__.py").is_file() for name in PACKAGES)
    return elapsed


def run(runs: int, work: Path) -> Comparison:
    repository, wheels = make_repository(Path(tempfile.mkdtemp(dir=work)))
    comparison = Comparison(
        name="populate",
        what="clone a repository and install its requirements.txt (3 packages, local wheel folder)",
        unit="s",
        baseline_name="plain pip",
        goal="<= 0.5",
    )
    return alternate(
        comparison,
        lambda: _populate_once(repository, wheels, UV, work),
        lambda: _populate_once(repository, wheels, PIP, work),
        runs,
    )
