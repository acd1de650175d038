"""End-to-end fixtures: a notebook repository the containers clone, the `local` CLI, one `up`.

WHY one shared `up`: starting a controller, engines and a viewer costs tens of seconds of a
2-core machine; the notebook, scaling, linking and browser tests all use the same cluster
(session scope) and the last test (test_teardown.py) brings it down and checks that nothing
is left. The finalizer brings it down too when a subset of the tests runs.

The repository is a real git repository served by ``git daemon`` (the git:// protocol) on
this host, reached from the containers as ``host.containers.internal``: the local runner gives
every container that name for the gateway of its network, on Docker and Podman alike (and also
where this machine is itself a container whose /etc/hosts names its own outer host so). That is
what a user previewing a repository of their own does, rather than bind-mounting it. (Git's "dumb" HTTP, e.g. ``python -m http.server``, does
not do: the image clones with ``--depth 1``, which needs a smart server.)
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from localrun import engine, labels

from .synthesis import REPO, clean_environ

#: The image every role runs in these tests: the stacks' default reference, the tag the
#: container tests build too (tests/container/conftest.py), rebuilt by the first `local up`.
IMAGE = "ghcr.io/ipython-k8s/ipython-notebook:0.1.0"
WORKSPACE = "e2e"
UP_TIMEOUT_SECONDS = 1800  # the first `up` may build the image
NOTEBOOK = "parallel.ipynb"

CELLS = [
    "import ipyparallel as ipp\nrc = ipp.Client()\nprint('engine ids:', sorted(rc.ids))",
    "dview = rc[:]\nprint('direct view squares:', dview.map_sync(lambda x: x * x, range(8)))",
    "lview = rc.load_balanced_view()\nprint('load-balanced increments:', lview.map_sync(lambda x: x + 1, range(8)))",
    "import socket\nprint('engine hosts:', len(set(dview.apply_sync(socket.gethostname))))",
]


# -- the notebook repository -------------------------------------------------------------------
def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.org", *args], cwd=cwd,
                   check=True, capture_output=True)


def make_repository(root: Path) -> Path:
    """A bare repository (served directory) holding the parallel notebook."""
    work = root / "work"
    work.mkdir(parents=True)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Squares on the engines")] + [
        nbformat.v4.new_code_cell(source) for source in CELLS
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, work / NOTEBOOK)
    (work / "README.md").write_text("Notebooks of the end-to-end test.\n")
    _git("init", "-q", "-b", "main", cwd=work)
    _git("add", ".", cwd=work)
    _git("commit", "-q", "-m", "parallel notebook", cwd=work)
    served = root / "served"
    served.mkdir()
    _git("clone", "-q", "--bare", str(work), str(served / "notebooks.git"), cwd=root)
    return served


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("0.0.0.0", 0))
        return probe.getsockname()[1]


def serve_repositories(served: Path) -> tuple[subprocess.Popen, int]:
    """``git daemon`` exporting every repository under ``served``, on all addresses."""
    port = _free_port()
    daemon = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={served}", "--listen=0.0.0.0",
         f"--port={port}", str(served)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return daemon, port
        time.sleep(0.1)
    daemon.kill()
    raise RuntimeError(f"git daemon did not listen on port {port}")


def host_address_seen_from_containers(client) -> str:
    return engine.HOST_NAME


@pytest.fixture(scope="session")
def engine_client():
    return engine.connect()


@pytest.fixture(scope="session")
def notebook_repository(tmp_path_factory, engine_client):
    """The URL of the repository, as the containers reach it."""
    served = make_repository(tmp_path_factory.mktemp("repository"))
    daemon, port = serve_repositories(served)
    host = host_address_seen_from_containers(engine_client)
    yield f"git://{host}:{port}/notebooks.git"
    daemon.terminate()
    daemon.wait(timeout=10)


# -- the CLI ------------------------------------------------------------------------------------
@dataclass
class Local:
    """`python -m localrun` as a user runs it (pipenv run local), with a state of the tests."""

    state_dir: Path

    def __call__(self, *args: str, timeout: float = 600, **parameters: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "localrun", *args, "--state-dir", str(self.state_dir)],
            cwd=REPO, env=clean_environ(**parameters), capture_output=True, text=True, timeout=timeout,
        )

    def ok(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        result = self(*args, **kwargs)
        assert result.returncode == 0, f"local {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
        return result


@pytest.fixture(scope="session")
def local(tmp_path_factory) -> Local:
    return Local(tmp_path_factory.mktemp("localrun-state"))


# -- running containers -----------------------------------------------------------------------
def owned(client, **selector: str) -> dict[str, list[str]]:
    """Names of everything the local run made (optionally of one workspace), by kind."""
    filters = {"label": labels.selector(**selector)}
    return {
        "containers": sorted(c.name for c in client.containers.list(all=True, filters=filters)),
        "volumes": sorted(v.name for v in engine.volumes(client, **selector)),
        "networks": sorted(n.name for n in client.networks.list(filters=filters)) if not selector else [],
    }


def viewer_container(client, workspace: str):
    [container] = client.containers.list(filters={"label": [*labels.selector(workspace=workspace),
                                                            "app.kubernetes.io/component=viewer"]})
    return container


def run_python(container, code: str, *, timeout: float = 240, **environment: str) -> str:
    """Run Python in a container (as its user, in its workspace); its stdout, or fail with stderr."""
    command = ["timeout", str(int(timeout)), "python", "-c", code]
    result = container.exec_run(command, environment=environment, workdir="/home/ipython/work", demux=True)
    stdout, stderr = (part.decode(errors="replace") if part else "" for part in result.output)
    assert result.exit_code == 0, f"python in {container.name} exited {result.exit_code}:\n{stderr}\n{stdout}"
    return stdout


WAIT_FOR_ENGINES = """
import os, sys, time
import ipyparallel as ipp
wanted = int(os.environ["WANTED_ENGINES"])
rc = ipp.Client(timeout=60)
deadline = time.monotonic() + float(os.environ.get("WAIT_SECONDS", "180"))
while len(rc.ids) != wanted and time.monotonic() < deadline:
    time.sleep(0.5)
print(sorted(rc.ids))
rc.close()
"""


def engine_ids(container, wanted: int) -> list[int]:
    """The engine ids a viewer's Client() sees, once it sees ``wanted`` of them (or 180 s)."""
    return json.loads(run_python(container, WAIT_FOR_ENGINES, WANTED_ENGINES=str(wanted)).strip().splitlines()[-1])


@dataclass
class Deployment:
    """What `local up --json` printed, and what the tests learnt since."""

    url: str
    password: str
    engines: int
    workspace: str
    parameters: dict[str, str]
    client: object

    def viewer(self):
        return viewer_container(self.client, self.workspace)

    def viewer_environment(self) -> dict[str, str]:
        return dict(item.split("=", 1) for item in self.viewer().attrs["Config"]["Env"])

    @property
    def cluster_label(self) -> str:
        return self.viewer_environment()["IPYTHON_CLUSTER_LABEL"]


def up_json(local: Local, *args: str, **parameters: str) -> tuple[dict, float]:
    started = time.monotonic()
    result = local.ok("up", "--json", *args, timeout=UP_TIMEOUT_SECONDS, **parameters)
    return json.loads(result.stdout), time.monotonic() - started


@contextlib.contextmanager
def brought_up(local: Local, client, workspace: str, parameters: dict[str, str], what: str) -> Iterator[Deployment]:
    """Both stacks up in ``workspace`` (``local up --build``), brought down again afterwards.

    --build: the image is rebuilt from the current image/ (seconds with the layer cache; the
    container tests build the same tag), never an old one left in the engine."""
    try:
        printed, seconds = up_json(local, "--workspace", workspace, "--build", **parameters)
        print(f"\nlocal up ({what}, workspace {workspace}): {seconds:.1f} s", file=sys.stderr)
        yield Deployment(url=printed["url"], password=printed["password"], engines=printed["engines"],
                         workspace=workspace, parameters=parameters, client=client)
    finally:
        local("down", "--workspace", workspace)


@pytest.fixture(scope="session")
def cluster(local, notebook_repository, engine_client):
    """Both stacks up in workspace e2e: generated labels and password, 2 engines, the repository."""
    parameters = {
        "IPYTHON_ENGINES": "2",
        "IPYTHON_NOTEBOOK_REPOSITORY": notebook_repository,
        "IPYTHON_IMAGE": IMAGE,
    }
    with brought_up(local, engine_client, WORKSPACE, parameters, "first") as deployment:
        yield deployment
