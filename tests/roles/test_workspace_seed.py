"""The workspace seed (IPYTHON_WORKSPACE_SEED): notebooks baked into the image reach a workspace
volume that hides the image's own workspace directory, once, and never over the user's files.

Engine roles stand for any pod with a workspace volume: they populate the workspace exactly as
a viewer does, then wait for a controller that never comes (no Jupyter start to wait for).
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from .artifacts import notebook
from .processes import RoleProcess, wait_until

SEEDED = "copied the workspace seed"


def make_seed(root: Path) -> Path:
    """A seed as the image holds it: read-only files (the image's root is read-only at run time)."""
    seed = root / "seed"
    (seed / "data").mkdir(parents=True)
    (seed / "analysis.ipynb").write_text(notebook("from the seed"))
    (seed / "data" / "table.csv").write_text("a,b\n")
    for path in (seed / "analysis.ipynb", seed / "data" / "table.csv"):
        path.chmod(0o444)
    (seed / "data").chmod(0o555)
    return seed


def start_engine(root: Path, name: str, workspace: Path, **variables: str) -> RoleProcess:
    engine = RoleProcess(
        name,
        root,
        {
            "IPYTHON_CONTAINER_TYPE": "engine",
            "IPYTHON_CLUSTER_LABEL": "nowhere",
            "IPYTHON_CLUSTER_KEY": "k",
            "IPYTHON_CONTROLLER_HOST": "127.0.0.1",
            "IPYTHON_CONTROLLER_PORT": "9",
            "IPYTHON_NOTEBOOK_DIR": str(workspace),
            **variables,
        },
    ).start()
    try:
        wait_until(lambda: "waiting for the controller" in engine.log(), 30, "the engine to start", process=engine)
    finally:
        engine.stop()
    return engine


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize("fresh_volume", [[], ["lost+found"]], ids=["empty directory", "fresh volume"])
def test_seed_fills_an_empty_workspace_group_writable_and_an_edit_survives_a_restart(tmp_path, fresh_volume):
    seed = make_seed(tmp_path)
    workspace = tmp_path / "volume"
    workspace.mkdir()
    for name in fresh_volume:
        (workspace / name).mkdir()

    first = start_engine(tmp_path, "first", workspace, IPYTHON_WORKSPACE_SEED=str(seed))
    assert f"{SEEDED} {seed} (2 entries) into the empty {workspace}" in first.log()
    assert names(workspace) == sorted(["analysis.ipynb", "data", *fresh_volume])
    for path in (workspace / "analysis.ipynb", workspace / "data", workspace / "data" / "table.csv"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o060 == 0o060, path  # group 0 (arbitrary UID) writes
    (workspace / "analysis.ipynb").write_text(notebook("edited by the user"))
    (workspace / "data" / "table.csv").unlink()

    second = start_engine(tmp_path, "second", workspace, IPYTHON_WORKSPACE_SEED=str(seed))
    assert SEEDED not in second.log()
    assert (workspace / "analysis.ipynb").read_text() == notebook("edited by the user")
    assert names(workspace / "data") == []  # a deletion survives too: a non-empty workspace is never touched
    assert (seed / "analysis.ipynb").read_text() == notebook("from the seed")  # the seed stays as built


def test_workspace_holding_anything_is_never_seeded(tmp_path):
    seed = make_seed(tmp_path)
    workspace = tmp_path / "volume"
    workspace.mkdir()
    (workspace / "mine.txt").write_text("mine\n")
    engine = start_engine(tmp_path, "engine", workspace, IPYTHON_WORKSPACE_SEED=str(seed))
    assert SEEDED not in engine.log()
    assert names(workspace) == ["mine.txt"]


@pytest.mark.parametrize("seed_state", ["missing", "empty"])
def test_without_a_seed_the_workspace_stays_empty(tmp_path, seed_state):
    seed = tmp_path / "seed"
    if seed_state == "empty":
        seed.mkdir()
    workspace = tmp_path / "volume"
    engine = start_engine(tmp_path, "engine", workspace, IPYTHON_WORKSPACE_SEED=str(seed))
    assert SEEDED not in engine.log()
    assert names(workspace) == []


def test_repository_wins_over_the_seed(tmp_path, notebook_repository):
    seed = make_seed(tmp_path)
    workspace = tmp_path / "volume"
    engine = start_engine(
        tmp_path,
        "engine",
        workspace,
        IPYTHON_WORKSPACE_SEED=str(seed),
        IPYTHON_NOTEBOOK_REPOSITORY=f"file://{notebook_repository}#v1",
        PIP_NO_INDEX="true",  # the tiny requirement is not needed here; the install may fail offline
    )
    assert f"IPYTHON_NOTEBOOK_REPOSITORY is set: the workspace seed {seed} is not used" in engine.log()
    assert SEEDED not in engine.log()
    assert (workspace / "analysis.ipynb").read_text() == notebook("version 1")
    assert not (workspace / "data").exists()


def test_failed_clone_leaves_the_workspace_empty_even_with_a_seed(tmp_path):
    """So that the next start clones again instead of finding the seed's files there."""
    seed = make_seed(tmp_path)
    workspace = tmp_path / "volume"
    engine = start_engine(
        tmp_path,
        "engine",
        workspace,
        IPYTHON_WORKSPACE_SEED=str(seed),
        IPYTHON_NOTEBOOK_REPOSITORY=f"file://{tmp_path}/missing.git",
    )
    assert "starting with the empty workspace" in engine.log()
    assert names(workspace) == []
