"""``entrypoint.py assemble SRC_DIR``, the S2I build step: the source lands in the workspace and
its requirements.txt in the venv of the interpreter that runs the entrypoint."""

from __future__ import annotations

import os
import stat
import subprocess

from .conftest import TINY_PACKAGE, offline_install
from .processes import ENTRYPOINT, PYTHON, base_environment


def test_assemble_copies_source_and_installs_into_the_running_venv(tmp_path, wheelhouse):
    source = tmp_path / "src"
    (source / "data").mkdir(parents=True)
    (source / ".git").mkdir()
    (source / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (source / "analysis.ipynb").write_text("{}")
    (source / "data" / "table.csv").write_text("a,b\n")
    (source / ".hidden-config").write_text("x")
    (source / "requirements.txt").write_text(f"{TINY_PACKAGE}==1.0\n")
    os.chmod(source / "analysis.ipynb", 0o644)

    # a venv of its own stands for the image's /opt/venv (writable at build time)
    venv = tmp_path / "venv"
    subprocess.run(["uv", "venv", "--quiet", "--python", PYTHON, str(venv)], check=True, env=base_environment(tmp_path))
    workspace = tmp_path / "home" / "work"
    seed = tmp_path / "opt" / "workspace-seed"
    (tmp_path / "home").mkdir()
    environ = base_environment(
        tmp_path / "home", IPYTHON_WORKSPACE_SEED=str(seed), **offline_install(wheelhouse)
    )  # IPYTHON_NOTEBOOK_DIR defaults to $HOME/work
    result = subprocess.run(
        [str(venv / "bin" / "python"), str(ENTRYPOINT), "assemble", str(source)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr

    assert sorted(p.name for p in workspace.iterdir()) == [
        ".hidden-config",
        "analysis.ipynb",
        "data",
        "requirements.txt",
    ]
    assert (workspace / "data" / "table.csv").read_text() == "a,b\n"
    # the same files are recorded as the seed for an empty workspace volume (see test_workspace_seed)
    assert sorted(p.name for p in seed.iterdir()) == sorted(p.name for p in workspace.iterdir())
    assert (seed / "data" / "table.csv").read_text() == "a,b\n"
    assert f"recorded them as the workspace seed {seed}" in result.stderr
    assert stat.S_IMODE((workspace / "analysis.ipynb").stat().st_mode) == 0o664  # group like owner
    assert stat.S_IMODE((workspace / "data").stat().st_mode) & 0o070 == 0o070
    assert f"installed {source / 'requirements.txt'} with uv into {venv}" in result.stderr

    probe = f"import {TINY_PACKAGE}; print({TINY_PACKAGE}.answer())"
    in_venv = subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True)
    assert in_venv.stdout.strip() == "42", in_venv.stderr
    elsewhere = subprocess.run([PYTHON, "-c", probe], capture_output=True, text=True)
    assert elsewhere.returncode != 0, "only the running venv gets the requirements"


def test_assemble_without_requirements_only_copies(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "notes.md").write_text("# notes\n")
    workspace = tmp_path / "work"
    environ = base_environment(
        tmp_path, IPYTHON_NOTEBOOK_DIR=str(workspace), IPYTHON_WORKSPACE_SEED=str(tmp_path / "seed")
    )
    result = subprocess.run(
        [PYTHON, str(ENTRYPOINT), "assemble", str(source)], env=environ, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert (workspace / "notes.md").read_text() == "# notes\n"
    assert (tmp_path / "seed" / "notes.md").read_text() == "# notes\n"
    assert "installed" not in result.stderr


def test_assemble_fails_the_build_when_requirements_cannot_be_installed(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "requirements.txt").write_text("roles-no-such-package==1.0\n")
    (tmp_path / "no-wheels").mkdir()
    environ = base_environment(
        tmp_path,
        IPYTHON_NOTEBOOK_DIR=str(tmp_path / "work"),
        IPYTHON_WORKSPACE_SEED=str(tmp_path / "seed"),
        **offline_install(tmp_path / "no-wheels"),
    )
    result = subprocess.run(
        [PYTHON, str(ENTRYPOINT), "assemble", str(source)], env=environ, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith(f"error: {source / 'requirements.txt'}: uv failed: ")


def test_assemble_fails_the_build_when_the_seed_cannot_be_written(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "notes.md").write_text("# notes\n")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    environ = base_environment(
        tmp_path, IPYTHON_NOTEBOOK_DIR=str(tmp_path / "work"), IPYTHON_WORKSPACE_SEED=str(blocker / "seed")
    )
    result = subprocess.run(
        [PYTHON, str(ENTRYPOINT), "assemble", str(source)], env=environ, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith(
        f"error: IPYTHON_WORKSPACE_SEED={blocker / 'seed'}: a directory the build user can write ("
    )
