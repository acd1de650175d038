"""Fixtures of the role tests: free ports, the IPython.parallel shim, and a running cluster.

The cluster (controller + two engines + a viewer wired to it only through environment
variables) is started once per session and shared by the cluster, restart and login tests.
The engines are started before the controller, to prove that they wait for it.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .artifacts import build_notebook_repository, build_wheel
from .processes import ENTRYPOINT, PYTHON, REPO_ROOT, PortAllocator, RoleProcess, wait_for_port, wait_for_viewer

IMAGE_DIR = REPO_ROOT / "image"
if str(IMAGE_DIR) not in sys.path:
    sys.path.insert(0, str(IMAGE_DIR))  # the tests also call ipython_roles functions directly

CLUSTER_LABEL = "roles-test"
CLUSTER_KEY = "k3y-0f-the-roles-test-cluster"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def ports() -> PortAllocator:
    return PortAllocator()


TINY_PACKAGE = "roles_tinypkg"
TINY_PACKAGE_SOURCE = 'VERSION = "1.0"\n\n\ndef answer():\n    return 42\n'


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory) -> Path:
    """A local wheel folder with the tiny package the notebook repository requires."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    build_wheel(folder, TINY_PACKAGE, "1.0", TINY_PACKAGE_SOURCE)
    return folder


@pytest.fixture(scope="session")
def notebook_repository(tmp_path_factory) -> Path:
    """A git repository: analysis.ipynb + requirements.txt naming the tiny package; tag v1,
    branch feature, main at v2."""
    return build_notebook_repository(tmp_path_factory.mktemp("repositories") / "notebooks", f"{TINY_PACKAGE}==1.0\n")


def offline_install(wheelhouse: Path) -> dict[str, str]:
    """The documented offline set-up: pip variables, honoured by both installers."""
    return {"PIP_FIND_LINKS": str(wheelhouse), "PIP_NO_INDEX": "true"}


@pytest.fixture(scope="session")
def shim_installed() -> None:
    """Install the IPython.parallel alias into this venv, exactly as the Dockerfile does."""
    subprocess.run([PYTHON, str(ENTRYPOINT), "install-shim"], check=True, capture_output=True)


@dataclass
class Cluster:
    controller: RoleProcess
    engines: list[RoleProcess]
    viewer: RoleProcess
    controller_port: int
    viewer_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.viewer_port}"

    def processes(self) -> list[RoleProcess]:
        return [self.viewer, self.controller, *self.engines]


def cluster_variables(controller_port: int, **extra: str) -> dict[str, str]:
    return {
        "IPYTHON_CLUSTER_LABEL": CLUSTER_LABEL,
        "IPYTHON_CLUSTER_KEY": CLUSTER_KEY,
        "IPYTHON_CONTROLLER_HOST": "127.0.0.1",
        "IPYTHON_CONTROLLER_PORT": str(controller_port),
        **extra,
    }


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, ports, shim_installed, notebook_repository, wheelhouse) -> Cluster:
    """Engines populate their workspace from the notebook repository, as the seed's
    ipcluster-repository template did, so tasks can import its requirements and read its files."""
    root = tmp_path_factory.mktemp("cluster")
    controller_port = ports.controller_base()
    viewer_port = ports.port()
    engines = [
        RoleProcess(
            f"engine-{n}",
            root,
            cluster_variables(
                controller_port,
                IPYTHON_CONTAINER_TYPE="engine",
                IPYTHON_NOTEBOOK_DIR=str(root / f"engine-{n}" / "work"),
                IPYTHON_NOTEBOOK_REPOSITORY=f"file://{notebook_repository}",
                **offline_install(wheelhouse),
            ),
        ).start()
        for n in (1, 2)
    ]
    controller = RoleProcess(
        "controller", root, cluster_variables(controller_port, IPYTHON_CONTAINER_TYPE="controller")
    )
    viewer = RoleProcess(
        "viewer",
        root,
        cluster_variables(
            controller_port,
            IPYTHON_CONTAINER_TYPE="viewer",
            IPYTHON_USER_PASSWORD=PASSWORD,
            IPYTHON_VIEWER_PORT=str(viewer_port),
            IPYTHON_NOTEBOOK_DIR=str(root / "viewer" / "work"),
        ),
    )
    result = Cluster(controller, engines, viewer, controller_port, viewer_port)
    try:
        # the engines are up and waiting before the controller exists
        for engine in engines:
            wait_for_log(engine, "waiting for the controller", 30)
        controller.start()
        viewer.start()
        wait_for_port(controller, controller_port)
        wait_for_viewer(viewer, viewer_port)
        yield result
    finally:
        for process in result.processes():
            process.stop()


def wait_for_log(process: RoleProcess, text: str, timeout: float) -> None:
    from .processes import wait_until

    wait_until(lambda: text in process.log(), timeout, f"{text!r} in the log of {process.name}", process=process)
