"""IPYTHON_NOTEBOOK_REPOSITORY: clone into an empty workspace, install requirements.txt, and
never clobber a workspace that already holds something (a persistent volume after restart)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import requests

from ipython_roles.repository_source import parse_repository
from ipython_roles.workspace import STAGING_PREFIX, Outcome, populate

from .artifacts import git, notebook
from .git_servers import bare_copy, git_daemon
from .conftest import PASSWORD, TINY_PACKAGE, offline_install
from .kernel_client import JupyterClient
from .processes import ENTRYPOINT, PYTHON, RoleProcess, base_environment, wait_for_viewer, wait_until


def notebook_text(workspace: Path) -> str:
    return json.loads((workspace / "analysis.ipynb").read_text())["cells"][0]["source"][0]


@pytest.mark.parametrize(
    "suffix, expected",
    [("", "version 2"), ("#v1", "version 1"), ("#feature", "feature branch"), ("#main", "version 2")],
    ids=["default branch", "tag", "branch", "main branch"],
)
def test_ref_selects_tag_or_branch_in_a_shallow_clone(tmp_path, notebook_repository, suffix, expected):
    workspace = tmp_path / "work"
    result = populate(parse_repository(f"file://{notebook_repository}{suffix}"), workspace)
    assert result.outcome is Outcome.CLONED
    assert notebook_text(workspace) == expected
    assert git(workspace, "rev-list", "--count", "HEAD").strip() == "1"  # shallow
    assert not [p for p in workspace.iterdir() if p.name.startswith(STAGING_PREFIX)]


def test_local_absolute_path_is_cloned_shallow_too(tmp_path, notebook_repository):
    workspace = tmp_path / "work"
    assert populate(parse_repository(f"{notebook_repository}#v1"), workspace).outcome is Outcome.CLONED
    assert notebook_text(workspace) == "version 1"
    assert git(workspace, "rev-list", "--count", "HEAD").strip() == "1"


def test_fresh_volume_with_lost_and_found_counts_as_empty(tmp_path, notebook_repository):
    workspace = tmp_path / "work"
    (workspace / "lost+found").mkdir(parents=True)
    assert populate(parse_repository(f"file://{notebook_repository}"), workspace).outcome is Outcome.CLONED
    assert notebook_text(workspace) == "version 2"


def test_existing_clone_is_never_clobbered(tmp_path, notebook_repository):
    source = parse_repository(f"file://{notebook_repository}#v1")
    workspace = tmp_path / "work"
    populate(source, workspace)
    (workspace / "analysis.ipynb").write_text(notebook("my edits"))
    (workspace / "results.csv").write_text("1,2\n")
    result = populate(source, workspace)
    assert result.outcome is Outcome.ALREADY_CLONED
    assert result.holds_clone
    assert notebook_text(workspace) == "my edits"
    assert (workspace / "results.csv").read_text() == "1,2\n"


def test_workspace_holding_something_else_is_left_alone(tmp_path, notebook_repository):
    workspace = tmp_path / "work"
    workspace.mkdir()
    (workspace / "mine.ipynb").write_text(notebook("someone else's work"))
    result = populate(parse_repository(f"file://{notebook_repository}"), workspace)
    assert result.outcome is Outcome.LEFT_ALONE
    assert not result.holds_clone
    assert "leaving it alone" in result.message
    assert sorted(p.name for p in workspace.iterdir()) == ["mine.ipynb"]


@pytest.mark.parametrize("suffix", ["#no-such-tag", ""], ids=["unknown ref", "no repository"])
def test_failed_clone_leaves_the_workspace_empty(tmp_path, notebook_repository, suffix):
    url = f"file://{notebook_repository}{suffix}" if suffix else f"file://{tmp_path}/missing.git"
    workspace = tmp_path / "work"
    result = populate(parse_repository(url), workspace)
    assert result.outcome is Outcome.FAILED
    assert result.message and "\n" not in result.message
    assert list(workspace.iterdir()) == []


def test_staging_left_by_an_interrupted_start_is_cleaned_up(tmp_path, notebook_repository):
    workspace = tmp_path / "work"
    (workspace / f"{STAGING_PREFIX}abc" / ".git").mkdir(parents=True)
    assert populate(parse_repository(f"file://{notebook_repository}"), workspace).outcome is Outcome.CLONED
    assert not [p for p in workspace.iterdir() if p.name.startswith(STAGING_PREFIX)]


def test_password_in_url_is_masked_in_failure_messages(tmp_path):
    source = parse_repository("https://user:tok3n@127.0.0.1:9/nothing.git")
    result = populate(source, tmp_path / "work")
    assert result.outcome is Outcome.FAILED
    assert "tok3n" not in result.message
    assert source.describe() == "https://<hidden>@127.0.0.1:9/nothing.git"


@pytest.fixture(scope="module")
def servers(tmp_path_factory, ports, notebook_repository):
    """The notebook repository on git daemon and on a plain static file server (dumb HTTP)."""
    root = tmp_path_factory.mktemp("served")
    bare_copy(notebook_repository, root)
    port = ports.port()
    http = subprocess.Popen(
        [PYTHON, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(root), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/notebooks.git/info/refs", timeout=2).ok, 15, "http.server")
        with git_daemon(root, ports.port()) as daemon:
            yield {"git": daemon, "http": f"http://127.0.0.1:{port}"}
    finally:
        http.terminate()
        http.wait(10)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the probe is


# (id, URL with {repo} = the notebook repository, {tmp}, {git}, {http}, {closed}; the one line)
FAILURES = [
    ("not a git repository", "file:///etc", "not a git repository: /etc"),
    ("not a git repository, a local path", "{tmp}", "not a git repository: {tmp}"),
    ("no such local repository", "file://{tmp}/missing.git", "no such repository: {tmp}/missing.git does not exist"),
    ("no such local path", "{tmp}/missing", "no such repository: {tmp}/missing does not exist"),
    ("no such branch or tag", "file://{repo}#no-such-tag", "no branch or tag 'no-such-tag' in the repository"),
    ("no such repository on git daemon", "{git}/missing.git", "no such repository on {git_host}"),
    ("no such repository over http", "{http}/missing.git", "no such repository on {http_host}"),
    ("host unreachable", "http://127.0.0.1:{closed}/n.git", "host unreachable: 127.0.0.1:{closed} (connection refused or timed out)"),
    ("git daemon unreachable", "git://127.0.0.1:{closed}/n.git", "host unreachable: 127.0.0.1:{closed} (connection refused or timed out)"),
    # .invalid never resolves (RFC 6761): answered at once by any resolver, no network needed
    ("host name not resolved", "https://no-such-host.invalid/n.git", "host name not resolved: no-such-host.invalid"),
]


@pytest.mark.parametrize("url, expected", [row[1:] for row in FAILURES], ids=[row[0] for row in FAILURES])
def test_each_clone_failure_is_one_clear_line(tmp_path, notebook_repository, servers, url, expected):
    values = {
        "repo": notebook_repository,
        "tmp": tmp_path,
        "git": servers["git"],
        "git_host": servers["git"].removeprefix("git://"),
        "http": servers["http"],
        "http_host": servers["http"].removeprefix("http://"),
        "closed": _closed_port(),
    }
    workspace = tmp_path / "work"
    result = populate(parse_repository(url.format(**values)), workspace)
    assert result.outcome is Outcome.FAILED
    assert result.message == expected.format(**values)
    assert list(workspace.iterdir()) == []


def test_git_daemon_serves_a_clone(tmp_path, servers):
    result = populate(parse_repository(f"{servers['git']}/notebooks.git#v1"), tmp_path / "work")
    assert result.outcome is Outcome.CLONED, result.message
    assert notebook_text(tmp_path / "work") == "version 1"


@pytest.mark.parametrize("url", ["ssh://git@127.0.0.1:1/n.git#v1", "git@127.0.0.1:n.git"], ids=["ssh://", "scp-like"])
def test_ssh_without_an_ssh_client_says_so_in_one_line(tmp_path, url):
    """As in the image, which has no ssh client: git alone on the PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(shutil.which("git"))
    home = tmp_path / "home"
    home.mkdir()
    environ = base_environment(
        home,
        IPYTHON_CONTAINER_TYPE="engine",
        IPYTHON_CLUSTER_LABEL="nowhere",
        IPYTHON_CLUSTER_KEY="k",
        IPYTHON_NOTEBOOK_DIR=str(tmp_path / "work"),
        IPYTHON_NOTEBOOK_REPOSITORY=url,
        IPYTHON_REPOSITORY_REQUIRED="true",
    )
    environ["PATH"] = str(bin_dir)
    result = subprocess.run([PYTHON, str(ENTRYPOINT)], env=environ, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    shown = parse_repository(url).describe()
    assert result.stderr.splitlines()[-1] == (
        f"error: IPYTHON_NOTEBOOK_REPOSITORY={shown}: could not be cloned: ssh:// and user@host:path need an ssh "
        "client, which the image does not have; use https:// (IPYTHON_REPOSITORY_REQUIRED=true, so not starting)"
    )
    assert "git@" not in result.stderr


def _engine(tmp_path: Path, name: str, **variables: str) -> RoleProcess:
    """An engine role: it populates its workspace, then waits for a controller that never comes."""
    return RoleProcess(
        name,
        tmp_path,
        {
            "IPYTHON_CONTAINER_TYPE": "engine",
            "IPYTHON_CLUSTER_LABEL": "nowhere",
            "IPYTHON_CLUSTER_KEY": "k",
            "IPYTHON_CONTROLLER_HOST": "127.0.0.1",
            "IPYTHON_CONTROLLER_PORT": "9",
            "IPYTHON_NOTEBOOK_DIR": str(tmp_path / name / "work"),
            **variables,
        },
    )


def test_failed_clone_starts_with_empty_workspace_by_default(tmp_path):
    engine = _engine(tmp_path, "engine", IPYTHON_NOTEBOOK_REPOSITORY=f"file://{tmp_path}/missing.git").start()
    try:
        wait_until(lambda: "waiting for the controller" in engine.log(), 30, "the engine to start", process=engine)
        assert f"could not clone file://{tmp_path}/missing.git: " in engine.log()
        assert "starting with the empty workspace" in engine.log()
        assert list((tmp_path / "engine" / "work").iterdir()) == []
    finally:
        engine.stop()


def test_failed_clone_refuses_to_start_when_required(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    environ = base_environment(
        home,
        IPYTHON_CONTAINER_TYPE="viewer",
        IPYTHON_USER_PASSWORD=PASSWORD,
        IPYTHON_NOTEBOOK_DIR=str(tmp_path / "work"),
        IPYTHON_NOTEBOOK_REPOSITORY=f"file://{tmp_path}/missing.git#v1",
        IPYTHON_REPOSITORY_REQUIRED="true",
    )
    result = subprocess.run([PYTHON, str(ENTRYPOINT)], env=environ, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    error = result.stderr.splitlines()[-1]
    assert error.startswith(
        f"error: IPYTHON_NOTEBOOK_REPOSITORY=file://{tmp_path}/missing.git#v1: could not be cloned: "
    )
    assert error.endswith("(IPYTHON_REPOSITORY_REQUIRED=true, so not starting)")
    assert "exec:" not in result.stderr
    assert list((tmp_path / "work").iterdir()) == []


def test_uninstallable_requirements_refuse_to_start_when_required(tmp_path, notebook_repository):
    """Offline with an empty wheel folder: the requirement cannot be found."""
    empty_wheelhouse = tmp_path / "no-wheels"
    empty_wheelhouse.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    environ = base_environment(
        home,
        IPYTHON_CONTAINER_TYPE="engine",
        IPYTHON_CLUSTER_LABEL="nowhere",
        IPYTHON_CLUSTER_KEY="k",
        IPYTHON_NOTEBOOK_DIR=str(tmp_path / "work"),
        IPYTHON_NOTEBOOK_REPOSITORY=f"file://{notebook_repository}",
        IPYTHON_REPOSITORY_REQUIRED="true",
        **offline_install(empty_wheelhouse),
    )
    result = subprocess.run([PYTHON, str(ENTRYPOINT)], env=environ, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    error = result.stderr.splitlines()[-1]
    assert error.startswith(
        f"error: IPYTHON_NOTEBOOK_REPOSITORY=file://{notebook_repository}: requirements.txt could not be installed: uv failed: "
    )
    assert "roles-tinypkg==1.0" in error  # uv names the requirement it could not find


def test_viewer_clones_installs_and_keeps_user_edits_across_restarts(tmp_path, ports, notebook_repository, wheelhouse):
    """A viewer pod on a persistent workspace volume: first start clones the tag and installs
    requirements.txt (offline, from the wheel folder); a kernel imports the package. The user edits
    the notebook; the pod restarts with a fresh HOME (emptyDir) on the same volume: the edit is
    still there and the package is installed again."""
    port = ports.port()
    workspace = tmp_path / "volume"
    variables = {
        "IPYTHON_CONTAINER_TYPE": "viewer",
        "IPYTHON_USER_PASSWORD": PASSWORD,
        "IPYTHON_VIEWER_PORT": str(port),
        "IPYTHON_NOTEBOOK_DIR": str(workspace),
        "IPYTHON_NOTEBOOK_REPOSITORY": f"file://{notebook_repository}#v1",
        **offline_install(wheelhouse),
    }
    url = f"http://127.0.0.1:{port}"
    import_probe = f"import {TINY_PACKAGE}, os\nprint({TINY_PACKAGE}.answer(), {TINY_PACKAGE}.__file__.startswith(os.path.expanduser('~')))"

    first = RoleProcess("viewer", tmp_path, variables).start()
    try:
        wait_for_viewer(first, port)
        assert f"cloned file://{notebook_repository}#v1 into {workspace}" in first.log()
        assert "with uv into" in first.log()
        with JupyterClient(url, PASSWORD) as jupyter:
            model = jupyter.get("/api/contents/analysis.ipynb").json()
            assert model["content"]["cells"][0]["source"] == "version 1"
            model["content"]["cells"][0]["source"] = "version 1, edited by the user"
            saved = jupyter.put("/api/contents/analysis.ipynb", {"type": "notebook", "content": model["content"]})
            assert saved.status_code == 200
            with jupyter.kernel() as kernel:
                assert kernel.run(import_probe).stdout.split() == ["42", "True"]
    finally:
        first.stop()

    second = RoleProcess("viewer-restarted", tmp_path, variables).start()  # fresh HOME, same volume
    try:
        wait_for_viewer(second, port)
        assert f"{workspace} already holds the clone of file://{notebook_repository}#v1" in second.log()
        with JupyterClient(url, PASSWORD) as jupyter:
            model = jupyter.get("/api/contents/analysis.ipynb").json()
            assert model["content"]["cells"][0]["source"] == "version 1, edited by the user"
            with jupyter.kernel() as kernel:
                assert kernel.run(import_probe).stdout.split() == ["42", "True"]
    finally:
        second.stop()
    # installed under HOME, never into the venv (which may be read-only at run time)
    assert subprocess.run([PYTHON, "-c", f"import {TINY_PACKAGE}"], capture_output=True).returncode != 0


@pytest.fixture
def dumb_http_repository(tmp_path, ports, notebook_repository):
    """The notebook repository on a plain static file server (git's "dumb" HTTP transport):
    a bare copy with the info files `git update-server-info` writes, served by http.server."""
    root = tmp_path / "static"
    root.mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(notebook_repository), str(root / "notebooks.git")], check=True)
    git(root / "notebooks.git", "update-server-info")
    port = ports.port()
    server = subprocess.Popen(
        [PYTHON, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(root), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/notebooks.git"
    try:
        wait_until(lambda: requests.get(f"{url}/info/refs", timeout=2).status_code == 200, 15, "http.server")
        yield url
    finally:
        server.terminate()
        server.wait(10)


def test_dumb_http_server_gets_a_full_clone_with_one_log_line(tmp_path, dumb_http_repository):
    """git refuses --depth over dumb HTTP; the engine retries a full clone and says so once."""
    engine = _engine(tmp_path, "engine", IPYTHON_NOTEBOOK_REPOSITORY=f"{dumb_http_repository}#v1").start()
    workspace = tmp_path / "engine" / "work"
    try:
        wait_until(lambda: "waiting for the controller" in engine.log(), 60, "the engine to start", process=engine)
    finally:
        engine.stop()
    lines = [line for line in engine.log().splitlines() if "full clone" in line]
    assert len(lines) == 1, engine.log()
    assert f"cloned {dumb_http_repository}#v1 into {workspace} (full clone: " in lines[0]
    assert notebook_text(workspace) == "version 1"
    assert git(workspace, "rev-list", "--count", "HEAD").strip() == "1"  # v1 is the first commit
    assert not [p for p in workspace.iterdir() if p.name.startswith(STAGING_PREFIX)]


def test_shallow_clone_is_kept_where_the_server_supports_it(tmp_path, notebook_repository):
    result = populate(parse_repository(f"file://{notebook_repository}"), tmp_path / "work")
    assert result.outcome is Outcome.CLONED and "full clone" not in result.message
