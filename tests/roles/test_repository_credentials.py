"""A repository URL with credentials is a secret wherever it goes (issue 14).

Against a real server that asks for HTTP Basic credentials (git's dumb HTTP behind a private
host), in every form a URL can carry them: a token as the user name, user and password, a
password with ``@`` and other special characters, percent-encoded ones. The credentials reach
the server, and nothing else: not the log, not git's command line or output, not a file of the
workspace (``.git/config`` included), not the environment of what the role starts.
"""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

from ipython_roles.repository_source import parse_repository, without_credentials
from ipython_roles.workspace import Outcome, populate

from .artifacts import git
from .conftest import PASSWORD, offline_install
from .git_servers import bare_copy, basic_auth_http_server
from .kernel_client import JupyterClient
from .processes import ENTRYPOINT, PYTHON, RoleProcess, base_environment, wait_for_viewer, wait_until

TOKEN = "ghp_" + secrets.token_hex(12)
PASSWORD_WITH_SPECIALS = "p@ss:w?rd!$&'()*+,;=~" + secrets.token_hex(4)
ENCODED_PASSWORD = "sl/ash#hash@at" + secrets.token_hex(4)

# (id, user part as written in the URL, (user name, password) the server must receive)
FORMS = [
    ("token as the user name", TOKEN, (TOKEN, "")),
    ("user and password", f"alice:{TOKEN}", ("alice", TOKEN)),
    ("password with @ and other special characters", f"alice:{PASSWORD_WITH_SPECIALS}", ("alice", PASSWORD_WITH_SPECIALS)),
    ("percent-encoded password", f"alice:{quote(ENCODED_PASSWORD, safe='')}", ("alice", ENCODED_PASSWORD)),
    ("percent-encoded token", quote(TOKEN, safe="").replace("_", "%5F"), (TOKEN, "")),
]
IDS = [form[0] for form in FORMS]


def secret_strings(userinfo: str, decoded: tuple[str, str]) -> list[str]:
    """Every way the credential could show: as written, decoded, the password or token alone."""
    user, password = decoded
    return [userinfo, password or user, quote(password or user, safe="")]


def files_containing(folder: Path, needles: list[str]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {needle!r}" for needle in needles if needle.encode() in data]
    return found


@pytest.fixture(scope="module")
def private_server(tmp_path_factory, ports, notebook_repository):
    """The notebook repository behind Basic auth, accepting the credentials of every form."""
    root = tmp_path_factory.mktemp("private")
    bare_copy(notebook_repository, root)
    with basic_auth_http_server(root, ports.port(), [form[2] for form in FORMS]) as base:
        yield base.removeprefix("http://")


@pytest.mark.parametrize("userinfo, decoded", [form[1:] for form in FORMS], ids=IDS)
def test_credentials_reach_the_server_and_nothing_else(tmp_path, private_server, userinfo, decoded):
    source = parse_repository(f"http://{userinfo}@{private_server}/notebooks.git#v1")
    workspace = tmp_path / "work"
    result = populate(source, workspace)
    assert result.outcome is Outcome.CLONED, result.message
    assert (workspace / "analysis.ipynb").is_file()
    needles = secret_strings(userinfo, decoded)
    assert not [needle for needle in needles if needle in result.message], result.message
    assert result.message.startswith(f"cloned http://<hidden>@{private_server}/notebooks.git#v1 into ")
    assert git(workspace, "config", "remote.origin.url").strip() == f"http://{private_server}/notebooks.git"
    assert files_containing(workspace, needles) == []


@pytest.mark.parametrize(
    "userinfo, expected",
    [
        (f"alice:wrong-{TOKEN}", "authentication failed: {server} refused the user name and password (or token) in the URL"),
        (None, "authentication needed: {server} asks for credentials (a private repository? give a token in the URL: "
               "https://TOKEN@host/path)"),
    ],
    ids=["wrong password", "no credentials"],
)
def test_refused_or_missing_credentials_are_one_clear_line(tmp_path, private_server, userinfo, expected):
    prefix = f"{userinfo}@" if userinfo else ""
    result = populate(parse_repository(f"http://{prefix}{private_server}/notebooks.git"), tmp_path / "work")
    assert result.outcome is Outcome.FAILED
    assert result.message == expected.format(server=private_server)
    assert TOKEN not in result.message
    assert list((tmp_path / "work").iterdir()) == []


def test_a_clone_with_credentials_in_its_origin_loses_them_and_keeps_its_files(tmp_path, private_server):
    """A workspace cloned by an earlier version (git given the URL with the token, which git then
    keeps in .git/config) is recognised as the same clone, whatever token the URL has now."""
    workspace = tmp_path / "work"
    old_url = f"http://{TOKEN}@{private_server}/notebooks.git"
    subprocess.run(["git", "clone", "-q", old_url, str(workspace)], check=True, capture_output=True)
    assert TOKEN in (workspace / ".git" / "config").read_text()
    (workspace / "mine.txt").write_text("my results\n")

    result = populate(parse_repository(f"http://alice:{TOKEN}@{private_server}/notebooks.git"), workspace)

    assert result.outcome is Outcome.ALREADY_CLONED
    assert result.message.endswith("(removed the credentials from its origin URL in .git/config)")
    assert TOKEN not in result.message
    assert files_containing(workspace, [TOKEN]) == []
    assert git(workspace, "config", "remote.origin.url").strip() == f"http://{private_server}/notebooks.git"
    assert (workspace / "mine.txt").read_text() == "my results\n"


def _engine_environment(home: Path, workspace: Path, repository: str, **extra: str) -> dict[str, str]:
    return base_environment(
        home,
        IPYTHON_CONTAINER_TYPE="engine",
        IPYTHON_CLUSTER_LABEL="nowhere",
        IPYTHON_CLUSTER_KEY="k3y-of-a-cluster-that-is-not-there",
        IPYTHON_CONTROLLER_HOST="127.0.0.1",
        IPYTHON_CONTROLLER_PORT="9",
        IPYTHON_NOTEBOOK_DIR=str(workspace),
        IPYTHON_NOTEBOOK_REPOSITORY=repository,
        **extra,
    )


def test_the_role_logs_the_repository_without_its_credentials(tmp_path, private_server, wheelhouse):
    userinfo = f"alice:{PASSWORD_WITH_SPECIALS}"
    engine = RoleProcess(
        "engine",
        tmp_path,
        _engine_environment(tmp_path / "engine" / "home", tmp_path / "engine" / "work",
                            f"http://{userinfo}@{private_server}/notebooks.git#v1", **offline_install(wheelhouse)),
    ).start()
    try:
        wait_until(lambda: "waiting for the controller" in engine.log(), 60, "the engine to start", process=engine)
    finally:
        engine.stop()
    log = engine.log()
    assert f"cloned http://<hidden>@{private_server}/notebooks.git#v1 into " in log
    leaked = [needle for needle in secret_strings(userinfo, ("alice", PASSWORD_WITH_SPECIALS)) if needle in log]
    assert leaked == [], log


def test_refused_credentials_stop_a_required_role_with_one_line(tmp_path, private_server):
    home = tmp_path / "home"
    home.mkdir()
    environ = _engine_environment(home, tmp_path / "work", f"http://{TOKEN}x@{private_server}/notebooks.git",
                                  IPYTHON_REPOSITORY_REQUIRED="true")
    result = subprocess.run([PYTHON, str(ENTRYPOINT)], env=environ, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"error: IPYTHON_NOTEBOOK_REPOSITORY=http://<hidden>@{private_server}/notebooks.git: could not be cloned: "
        f"authentication failed: {private_server} refused the user name and password (or token) in the URL "
        "(IPYTHON_REPOSITORY_REQUIRED=true, so not starting)"
    )
    assert TOKEN not in result.stderr


@pytest.mark.parametrize(
    "value, expected",
    [
        (f"https://{TOKEN}@github.com/org/n.git#main", "https://github.com/org/n.git#main"),
        (f"https://alice:{PASSWORD_WITH_SPECIALS}@git.example.org:8443/n.git", "https://git.example.org:8443/n.git"),
        ("git@github.com:org/n.git#v1", "github.com:org/n.git#v1"),
        ("ssh://git@git.local:2222/n.git", "ssh://git.local:2222/n.git"),
        ("https://github.com/org/n.git#main", "https://github.com/org/n.git#main"),
        ("/srv/repos/n#v2", "/srv/repos/n#v2"),
    ],
)
def test_what_started_processes_see_of_the_repository(value, expected):
    environ = without_credentials({"IPYTHON_NOTEBOOK_REPOSITORY": value, "HOME": "/home/ipython"})
    assert environ == {"IPYTHON_NOTEBOOK_REPOSITORY": expected, "HOME": "/home/ipython"}


def test_a_value_that_does_not_parse_is_not_passed_on():
    assert without_credentials({"IPYTHON_NOTEBOOK_REPOSITORY": f"https://{TOKEN}@h/a b"}) == {}


KERNEL_PROBE = """
import glob, os
secret = {secret!r}
leaks = []
for path in glob.glob('/proc/[0-9]*/environ') + glob.glob('/proc/[0-9]*/cmdline'):
    try:
        with open(path, 'rb') as handle:
            if secret.encode() in handle.read():
                leaks.append(path)
    except OSError:
        pass
print(os.environ.get('IPYTHON_NOTEBOOK_REPOSITORY'))
print(leaks)
"""


def test_kernels_and_engines_never_see_the_credentials(tmp_path, ports, private_server, wheelhouse):
    """A viewer and an engine cloned the private repository; from a notebook kernel (as any user
    of the viewer could), no process's environment or command line holds the token, the kernel's
    own IPYTHON_NOTEBOOK_REPOSITORY has no credentials, and no file of either workspace has it."""
    url = f"http://{TOKEN}@{private_server}/notebooks.git#v1"
    public = f"http://{private_server}/notebooks.git#v1"
    engine = RoleProcess(
        "engine", tmp_path,
        _engine_environment(tmp_path / "engine" / "home", tmp_path / "engine" / "work", url, **offline_install(wheelhouse)),
    ).start()
    port = ports.port()
    viewer = RoleProcess(
        "viewer", tmp_path,
        {
            "IPYTHON_CONTAINER_TYPE": "viewer",
            "IPYTHON_USER_PASSWORD": PASSWORD,
            "IPYTHON_VIEWER_PORT": str(port),
            "IPYTHON_NOTEBOOK_DIR": str(tmp_path / "viewer" / "work"),
            "IPYTHON_NOTEBOOK_REPOSITORY": url,
            **offline_install(wheelhouse),
        },
    ).start()
    try:
        wait_until(lambda: "waiting for the controller" in engine.log(), 60, "the engine to start", process=engine)
        wait_for_viewer(viewer, port)
        with JupyterClient(f"http://127.0.0.1:{port}", PASSWORD) as jupyter, jupyter.kernel() as kernel:
            seen, leaks = kernel.run(KERNEL_PROBE.format(secret=TOKEN)).stdout.splitlines()
    finally:
        viewer.stop()
        engine.stop()
    assert seen == public
    assert leaks == "[]", f"the token is readable in {leaks}"
    assert files_containing(tmp_path / "viewer" / "work", [TOKEN]) == []
    assert files_containing(tmp_path / "engine" / "work", [TOKEN]) == []
    assert TOKEN not in viewer.log() + engine.log()
