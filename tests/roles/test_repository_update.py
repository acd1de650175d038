"""IPYTHON_REPOSITORY_UPDATE: a workspace that already holds the clone gets the new upstream commits
at the next start, with nbgitpuller's merge rules (the user's edits win, a deleted file comes
back, new files appear), or is left alone with ``never``.

Real git repositories and real starts: the engine role's start path (``image/entrypoint.py`` as a
process, no controller: it populates the workspace, then waits for the controller) is what a
restarted pod with a persistent workspace volume runs.
"""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import pytest

from ipython_roles.repository_source import parse_repository
from ipython_roles.repository_update import pull
from ipython_roles.workspace import Outcome, populate

from .artifacts import commit_files, git
from .git_servers import bare_copy, basic_auth_http_server
from .processes import RoleProcess, wait_until

TOKEN = "ghp_" + secrets.token_hex(12)

# upstream's first commit: five lines of which upstream changes the first and the third, the
# user the third and the fifth
SHARED_V1 = "upstream 1\nline 2\nline 3\nline 4\nline 5\n"
SHARED_UPSTREAM = "upstream 1, fixed upstream\nline 2\nline 3, changed upstream\nline 4\nline 5\n"
SHARED_USER = "upstream 1\nline 2\nline 3, edited by the user\nline 4\nline 5, edited by the user\n"
SHARED_MERGED = "upstream 1, fixed upstream\nline 2\nline 3, edited by the user\nline 4\nline 5, edited by the user\n"


def upstream_repository(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    commit_files(path, {"shared.py": SHARED_V1, "mine.md": "# my notes\n", "gone.txt": "the user deletes me\n"}, "v1")
    git(path, "tag", "v1")
    return path


def upstream_moves_on(path: Path) -> None:
    """Upstream adds a file and changes shared.py (lines 1 and 3)."""
    commit_files(path, {"new.ipynb": '{"cells": []}\n', "shared.py": SHARED_UPSTREAM}, "v2")


def user_works(workspace: Path) -> None:
    """The user edits a third file and shared.py (lines 3 and 5), deletes gone.txt and keeps
    an untracked result of their own."""
    (workspace / "mine.md").write_text("# my notes\nmy own findings\n")
    (workspace / "shared.py").write_text(SHARED_USER)
    (workspace / "gone.txt").unlink()
    (workspace / "results.csv").write_text("1,2\n")


def start_engine(name: str, root: Path, workspace: Path, repository: str, **extra: str) -> RoleProcess:
    """One start of the engine role's start path, until it waits for its (absent) controller."""
    engine = RoleProcess(
        name,
        root,
        {
            "IPYTHON_CONTAINER_TYPE": "engine",
            "IPYTHON_CLUSTER_LABEL": "nowhere",
            "IPYTHON_CLUSTER_KEY": "k3y-of-a-cluster-that-is-not-there",
            "IPYTHON_CONTROLLER_HOST": "127.0.0.1",
            "IPYTHON_CONTROLLER_PORT": "9",
            "IPYTHON_NOTEBOOK_DIR": str(workspace),
            "IPYTHON_NOTEBOOK_REPOSITORY": repository,
            **extra,
        },
    ).start()
    try:
        wait_until(lambda: "waiting for the controller" in engine.log(), 60, "the engine's start", process=engine)
    finally:
        engine.stop()
    return engine


def test_a_restart_pulls_the_new_commits_and_keeps_the_users_edits(tmp_path, shim_installed):
    upstream = upstream_repository(tmp_path / "upstream")
    workspace = tmp_path / "volume"
    url = f"file://{upstream}"
    first = start_engine("first", tmp_path, workspace, url)
    assert f"cloned {url} into {workspace}" in first.log()
    user_works(workspace)
    upstream_moves_on(upstream)

    second = start_engine("second", tmp_path, workspace, url)  # IPYTHON_REPOSITORY_UPDATE unset: pull

    log = second.log()
    assert f"{workspace} already holds the clone of {url}" in log
    assert (f"pulled: 1 new commit of {url} merged into {workspace}, 1 deleted file restored "
            "(nbgitpuller's merge rules: the user's edits kept)") in log
    assert (workspace / "new.ipynb").read_text() == '{"cells": []}\n'  # the new upstream file
    assert (workspace / "mine.md").read_text() == "# my notes\nmy own findings\n"  # the user's third file
    assert (workspace / "shared.py").read_text() == SHARED_MERGED  # both sides; the user's line 3 wins
    assert (workspace / "gone.txt").read_text() == "the user deletes me\n"  # deleted by the user: back
    assert (workspace / "results.csv").read_text() == "1,2\n"  # untracked: untouched
    assert git(workspace, "merge-base", "--is-ancestor", git(upstream, "rev-parse", "HEAD").strip(), "HEAD") == ""
    assert not (workspace / ".git" / "MERGE_HEAD").exists()

    third = start_engine("third", tmp_path, workspace, url)  # nothing new upstream, nothing deleted
    assert f"{workspace} holds the clone of {url}, which has no new commits on 'main'" in third.log()
    assert (workspace / "shared.py").read_text() == SHARED_MERGED

    (workspace / "gone.txt").unlink()  # deleted again: back again, with no new commit upstream
    fourth = start_engine("fourth", tmp_path, workspace, url)
    assert (f"pulled: no new commits of {url}; 1 deleted file restored in {workspace} "
            "(nbgitpuller's merge rules: the user's edits kept)") in fourth.log()
    assert (workspace / "gone.txt").read_text() == "the user deletes me\n"


def test_never_leaves_the_workspace_as_it_is(tmp_path, shim_installed):
    upstream = upstream_repository(tmp_path / "upstream")
    workspace = tmp_path / "volume"
    url = f"file://{upstream}"
    start_engine("first", tmp_path, workspace, url, IPYTHON_REPOSITORY_UPDATE="never")
    user_works(workspace)
    before = git(workspace, "rev-parse", "HEAD")
    upstream_moves_on(upstream)

    second = start_engine("second", tmp_path, workspace, url, IPYTHON_REPOSITORY_UPDATE="never")

    assert "IPYTHON_REPOSITORY_UPDATE=never: keeping its files as they are" in second.log()
    assert not (workspace / "new.ipynb").exists()
    assert not (workspace / "gone.txt").exists()
    assert (workspace / "shared.py").read_text() == SHARED_USER
    assert git(workspace, "rev-parse", "HEAD") == before
    assert git(workspace, "rev-parse", "origin/main") == before  # nothing was even fetched


def test_an_unreachable_upstream_is_one_line_and_the_start_goes_on(tmp_path, shim_installed):
    """Also with IPYTHON_REPOSITORY_REQUIRED=true: the workspace holds the repository, only older."""
    upstream = upstream_repository(tmp_path / "upstream")
    workspace = tmp_path / "volume"
    url = f"file://{upstream}"
    start_engine("first", tmp_path, workspace, url)
    user_works(workspace)
    upstream.rename(tmp_path / "moved")

    second = start_engine("second", tmp_path, workspace, url, IPYTHON_REPOSITORY_REQUIRED="true")

    lines = [line for line in second.log().splitlines() if "could not pull" in line]
    assert len(lines) == 1, second.log()
    assert lines[0].endswith(f"could not pull {url}: no such repository: {upstream} does not exist; "
                             f"starting with {workspace} as it is")
    assert second.process.returncode == 0  # it went on to wait for the controller, then was stopped
    assert (workspace / "shared.py").read_text() == SHARED_USER
    assert not (workspace / "gone.txt").exists()


def test_a_private_upstream_is_pulled_with_the_token_and_an_unreachable_one_logged_without_it(tmp_path, ports,
                                                                                             shim_installed):
    upstream = upstream_repository(tmp_path / "upstream")
    served = tmp_path / "served"
    bare = bare_copy(upstream, served)
    workspace = tmp_path / "volume"
    with basic_auth_http_server(served, ports.port(), [(TOKEN, "")]) as base:
        url = f"http://{TOKEN}@{base.removeprefix('http://')}/notebooks.git"
        public = f"http://<hidden>@{base.removeprefix('http://')}/notebooks.git"
        start_engine("first", tmp_path, workspace, url)
        user_works(workspace)
        upstream_moves_on(upstream)
        git(upstream, "push", "-q", str(bare), "main")
        git(bare, "update-server-info")
        second = start_engine("second", tmp_path, workspace, url)
    assert f"pulled: 1 new commit of {public} merged into {workspace}" in second.log()
    assert (workspace / "new.ipynb").exists()
    assert TOKEN not in (workspace / ".git" / "config").read_text()

    third = start_engine("third", tmp_path, workspace, url)  # the server is gone
    host = base.removeprefix("http://")
    assert (f"could not pull {public}: host unreachable: {host} (connection refused or timed out); "
            f"starting with {workspace} as it is") in third.log()
    for process in (second, third):
        assert TOKEN not in process.log()


def test_a_file_the_user_changed_and_upstream_deleted_stays_and_an_untracked_one_in_the_way_is_renamed(tmp_path):
    upstream = upstream_repository(tmp_path / "upstream")
    workspace = tmp_path / "volume"
    source = parse_repository(f"file://{upstream}")
    populate(source, workspace)
    (workspace / "mine.md").write_text("# my notes\nkept\n")
    (workspace / "new.ipynb").write_text("the user's own new.ipynb\n")  # untracked, upstream adds one
    git(upstream, "rm", "-q", "mine.md")
    upstream_moves_on(upstream)

    result = pull(source, workspace)

    assert result.outcome is Outcome.PULLED, result.message
    assert (workspace / "mine.md").read_text() == "# my notes\nkept\n"
    assert (workspace / "new.ipynb").read_text() == '{"cells": []}\n'
    renamed = [path for path in workspace.glob("new__*.ipynb")]
    assert [path.read_text() for path in renamed] == ["the user's own new.ipynb\n"]


def test_a_clone_of_a_tag_is_not_pulled(tmp_path):
    upstream = upstream_repository(tmp_path / "upstream")
    workspace = tmp_path / "volume"
    source = parse_repository(f"file://{upstream}#v1")
    assert populate(source, workspace).outcome is Outcome.CLONED
    upstream_moves_on(upstream)
    result = pull(source, workspace)
    assert result.outcome is Outcome.ALREADY_CLONED
    assert result.message == f"{workspace} holds the clone of file://{upstream}#v1 at tag or commit 'v1', which does not move: nothing to pull"
    assert not (workspace / "new.ipynb").exists()


def test_a_workspace_switched_to_another_branch_is_not_pulled(tmp_path):
    upstream = upstream_repository(tmp_path / "upstream")
    workspace = tmp_path / "volume"
    source = parse_repository(f"file://{upstream}#main")
    populate(source, workspace)
    git(workspace, "checkout", "-q", "-b", "experiment")
    upstream_moves_on(upstream)
    result = pull(source, workspace)
    assert result.outcome is Outcome.ALREADY_CLONED
    assert "on branch 'experiment', not 'main': not pulling" in result.message
    assert not (workspace / "new.ipynb").exists()


def test_nothing_the_workspace_holds_in_git_is_run_by_the_pull(tmp_path):
    """Kernels can write the workspace's .git: a hook or an fsmonitor command planted there is not
    run by the start, which has the repository's credentials in git's environment."""
    upstream = upstream_repository(tmp_path / "upstream")
    workspace = tmp_path / "volume"
    source = parse_repository(f"file://{upstream}")
    populate(source, workspace)
    user_works(workspace)
    upstream_moves_on(upstream)
    ran = tmp_path / "ran"
    for hook in ("pre-commit", "post-commit", "post-merge", "post-checkout", "pre-merge-commit"):
        path = workspace / ".git" / "hooks" / hook
        path.write_text(f"#!/bin/sh\necho {hook} >> {ran}\n")
        path.chmod(0o755)
    git(workspace, "config", "core.fsmonitor", f"echo fsmonitor >> {ran}; false")

    result = pull(source, workspace)

    assert result.outcome is Outcome.PULLED, result.message
    assert not ran.exists(), ran.read_text()
    assert (workspace / "new.ipynb").exists()


def test_a_merge_that_fails_is_aborted_and_the_workspace_stays_as_it_was(tmp_path):
    """Upstream's history replaced by an unrelated one (a force-push of a new root): git refuses to
    merge; the workspace keeps the user's files and no merge is left half done."""
    upstream = upstream_repository(tmp_path / "upstream")
    workspace = tmp_path / "volume"
    source = parse_repository(f"file://{upstream}")
    populate(source, workspace)
    user_works(workspace)
    git(upstream, "checkout", "-q", "--orphan", "rewritten")
    commit_files(upstream, {"shared.py": "rewritten\n"}, "new root")
    git(upstream, "branch", "-q", "-M", "rewritten", "main")

    result = pull(source, workspace)

    assert result.outcome is Outcome.PULL_FAILED
    assert result.message.startswith(f"could not merge the new commits of file://{upstream} into {workspace}: ")
    assert "unrelated histories" in result.message
    assert "\n" not in result.message
    assert (workspace / "shared.py").read_text() == SHARED_USER
    assert (workspace / "mine.md").read_text() == "# my notes\nmy own findings\n"
    assert not (workspace / ".git" / "MERGE_HEAD").exists()


@pytest.mark.parametrize("value", ["always", "Pull", "true"])
def test_a_bad_value_is_one_line_and_exit_2(tmp_path, value):
    from .processes import ENTRYPOINT, PYTHON, base_environment

    home = tmp_path / "home"
    home.mkdir()
    environ = base_environment(home, IPYTHON_CONTAINER_TYPE="engine", IPYTHON_CLUSTER_LABEL="demo",
                               IPYTHON_CLUSTER_KEY="k3y", IPYTHON_REPOSITORY_UPDATE=value,
                               IPYTHON_NOTEBOOK_DIR=str(tmp_path / "work"))
    result = subprocess.run([PYTHON, str(ENTRYPOINT)], env=environ, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"error: IPYTHON_REPOSITORY_UPDATE={value}: one of pull, never"]
    assert list(home.iterdir()) == []
    assert not (tmp_path / "work").exists()


def test_the_viewer_serves_the_git_pull_link_behind_its_login(tmp_path, ports, shim_installed):
    """nbgitpuller's /git-pull?repo=... : without the login a redirect to it (the page) and 403
    (the event stream that runs git); logged in, the link clones the repository into the workspace."""
    from .conftest import PASSWORD
    from .kernel_client import JupyterClient
    from .processes import wait_for_viewer

    upstream = upstream_repository(tmp_path / "upstream")
    port = ports.port()
    workspace = tmp_path / "viewer" / "work"
    viewer = RoleProcess("viewer", tmp_path, {
        "IPYTHON_CONTAINER_TYPE": "viewer",
        "IPYTHON_USER_PASSWORD": PASSWORD,
        "IPYTHON_VIEWER_PORT": str(port),
        "IPYTHON_NOTEBOOK_DIR": str(workspace),
    }).start()
    query = {"repo": f"file://{upstream}", "branch": "main", "targetpath": "course"}
    try:
        wait_for_viewer(viewer, port)
        with JupyterClient(f"http://127.0.0.1:{port}") as anonymous:
            page = anonymous.get("/git-pull", params=query)
            assert page.status_code == 302
            assert page.headers["Location"].startswith("/login?next=")
            assert anonymous.get("/git-pull/api", params=query).status_code == 403
        assert not (workspace / "course").exists()
        with JupyterClient(f"http://127.0.0.1:{port}", PASSWORD) as jupyter:
            page = jupyter.get("/git-pull", params=query)
            assert page.status_code == 200
            assert "nbgitpuller" in page.text
            events = jupyter.get("/git-pull/api", params=query)
            assert events.status_code == 200
            assert '"phase": "finished"' in events.text, events.text
    finally:
        viewer.stop()
    assert (workspace / "course" / "shared.py").read_text() == SHARED_V1
