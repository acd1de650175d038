"""A notebook repository that cannot be cloned: by default the role starts with an empty
workspace and says so in one log line (no crash loop without a message); with
IPYTHON_REPOSITORY_REQUIRED=true it refuses to start: exit status 2, one line naming
IPYTHON_NOTEBOOK_REPOSITORY.

Through the stacks (`local up`): a viewer of its own workspace (``faults-norepo``) on the
``faults`` cluster, its repository a path the git daemon does not have. The refusal
(IPYTHON_REPOSITORY_REQUIRED=true, also a stack parameter now) and the two kinds of bad
repository for each role are run on the image directly (docker SDK), with the restart policy
the stacks use, so that each case is one container.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.container import containers
from tests.e2e.deployment import IMAGE, owned, up_json
from tests.roles.kernel_client import JupyterClient

from .crashes import restart_count
from .deployment import CLUSTER_LABEL, NOTHING, containers_of

WORKSPACE = "faults-norepo"
#: Our own containers (not made by `local up`), removed by each test; nothing may be left with it.
TEST_LABEL = "io.ipython-k8s.faults-test"
PASSWORD = "a-password-for-faults"
CLUSTER_KEY = "a-cluster-key-for-the-fault-tests"
STABLE_SECONDS = 10
EXIT_SECONDS = 60
LOG_LINE_SECONDS = 60


@pytest.fixture(scope="module")
def bad_repositories(notebook_repository) -> Iterator[dict[str, str]]:
    """Two repositories that cannot be cloned, as the containers would reach them: a path the
    git daemon does not serve, and a port that refuses connections (bound, never listening, for
    the whole module, so that nothing else can take it meanwhile)."""
    base, _ = notebook_repository.rsplit("/", 1)  # git://<host>:<port>
    host = base.removeprefix("git://").rsplit(":", 1)[0]
    with socket.socket() as refusing:
        refusing.bind(("0.0.0.0", 0))
        yield {
            "missing-path": f"{base}/no-such-repository.git",
            "nothing-listens": f"git://{host}:{refusing.getsockname()[1]}/notebooks.git",
        }


#: What an "empty" workspace may hold: a viewer keeps Jupyter's notary (notebook trust) there.
NOTARY_ONLY = {".jupyter-notary"}


def _workspace_entries(container) -> set[str]:
    return set(container.exec_run(["ls", "-A", "/home/ipython/work"]).output.decode().split())


def _log_lines(container) -> list[str]:
    return container.logs(stdout=True, stderr=True).decode(errors="replace").splitlines()


def _lines_naming(container, text: str) -> list[str]:
    return [line for line in _log_lines(container) if text in line]


def _assert_keeps_running(container, seconds: float = STABLE_SECONDS) -> None:
    """Running, never restarted, for ``seconds``: no crash loop."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        container.reload()
        log = "\n".join(_log_lines(container))
        assert container.status == "running", f"{container.name} is {container.status}:\n{log}"
        assert restart_count(container) == 0, f"{container.name} restarted:\n{log}"
        time.sleep(1)


# -- through the stacks ---------------------------------------------------------------------------
@pytest.fixture
def norepo_viewer(faults, local, bad_repositories):
    """`local up --stack viewer-stack` of a viewer on the faults cluster whose repository is missing."""
    parameters = {**faults.parameters, "IPYTHON_USER_LABEL": "norepo", "IPYTHON_CLUSTER_LABEL": CLUSTER_LABEL,
                  "IPYTHON_NOTEBOOK_REPOSITORY": bad_repositories["missing-path"]}
    try:
        printed, _ = up_json(local, "--workspace", WORKSPACE, "--stack", "viewer-stack", **parameters)
        [container] = containers_of(faults.client, WORKSPACE, "viewer")
        yield printed, container, parameters["IPYTHON_NOTEBOOK_REPOSITORY"]
    finally:
        local("down", "--workspace", WORKSPACE)
        assert owned(faults.client, workspace=WORKSPACE) == NOTHING


def test_the_stacks_viewer_starts_with_an_empty_workspace_and_one_line_saying_why(norepo_viewer):
    printed, viewer, repository = norepo_viewer  # `up` returned: the viewer answers on its port
    [line] = _lines_naming(viewer, repository)
    assert "could not clone" in line and "empty workspace" in line
    assert not _lines_naming(viewer, "Traceback")
    _assert_keeps_running(viewer)
    with JupyterClient(printed["url"], password=printed["password"]) as jupyter:
        assert jupyter.get("/api/contents").json()["content"] == []
    assert _workspace_entries(viewer) <= NOTARY_ONLY


# -- the image directly -------------------------------------------------------------------------
def _role_environment(role: str, repository: str, **extra: str) -> dict[str, str]:
    environment = {"IPYTHON_CONTAINER_TYPE": role, "IPYTHON_NOTEBOOK_REPOSITORY": repository, **extra}
    if role == "viewer":
        environment["IPYTHON_USER_PASSWORD"] = PASSWORD
    else:  # an engine of a cluster whose controller is not there: it waits for it
        environment.update(IPYTHON_CLUSTER_LABEL="faults-absent", IPYTHON_CLUSTER_KEY=CLUSTER_KEY)
    return environment


@contextmanager
def _running_image(client, environment: dict[str, str], *, restart: str | None) -> Iterator:
    # created, then started: a container whose start fails is removed too (run() would leave it)
    container = client.containers.create(
        IMAGE, environment=environment, labels={TEST_LABEL: "true", **containers.labels()},
        restart_policy={"Name": restart} if restart else None, healthcheck={"test": ["NONE"]},
    )
    try:
        container.start()
        yield container
    finally:
        container.remove(force=True)
        assert client.containers.list(all=True, filters={"label": TEST_LABEL}) == []


@pytest.mark.parametrize(
    ("role", "repository"),
    [("viewer", "missing-path"), ("viewer", "nothing-listens"), ("engine", "missing-path")],
)
def test_with_the_repository_required_the_image_exits_2_naming_it(engine_client, bad_repositories, role, repository):
    url = bad_repositories[repository]
    environment = _role_environment(role, url, IPYTHON_REPOSITORY_REQUIRED="true")
    with _running_image(engine_client, environment, restart=None) as container:
        status = container.wait(timeout=EXIT_SECONDS)["StatusCode"]
        lines = _log_lines(container)
        assert status == 2, "\n".join(lines)
        [line] = [line for line in lines if "IPYTHON_NOTEBOOK_REPOSITORY" in line]
        assert line.startswith(f"error: IPYTHON_NOTEBOOK_REPOSITORY={url}: could not be cloned")
        assert not [line for line in lines if "Traceback" in line]


@pytest.mark.parametrize(
    ("role", "repository"),
    [("viewer", "nothing-listens"), ("engine", "missing-path")],
)
def test_by_default_the_image_starts_with_one_line_saying_why(engine_client, bad_repositories, role, repository):
    url = bad_repositories[repository]
    with _running_image(engine_client, _role_environment(role, url), restart="always") as container:
        deadline = time.monotonic() + LOG_LINE_SECONDS
        while not _lines_naming(container, url) and time.monotonic() < deadline:
            time.sleep(0.5)
        [line] = _lines_naming(container, url)
        assert "could not clone" in line and "empty workspace" in line
        _assert_keeps_running(container, STABLE_SECONDS / 2)
        assert _workspace_entries(container) <= NOTARY_ONLY
        assert not _lines_naming(container, "Traceback")
