"""The deployment the fault tests break: one `local up` of both stacks in workspace ``faults``.

WHY explicit labels (cluster ``faults``, user ``tester``): the viewer stack can then be brought
down and up on its own (``--stack viewer-stack``) and a second viewer in another workspace can
use the same cluster, as the stacks allow when IPYTHON_CLUSTER_LABEL is given; the generated
labels of tests/e2e (workspace ``e2e``) never collide with them.

WHY 4 engines: a load-balanced map loses one of them and still has three to finish on. Every
test leaves the deployment as it found it (4 engines registered, a viewer answering), so the
modules can run in any order or alone.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import pytest
import requests

from localrun import labels
from tests.e2e.deployment import IMAGE, Local, owned, up_json

WORKSPACE = "faults"
CLUSTER_LABEL = "faults"
USER_LABEL = "tester"
ENGINES = 4
COMPONENT = "app.kubernetes.io/component"
NOTHING = {"containers": [], "volumes": [], "networks": []}
VIEWER_READY_SECONDS = 180


def containers_of(client, workspace: str, component: str) -> list:
    """The running and stopped containers of one role (``viewer``, ``controller``, ``engine``)."""
    filters = {"label": [*labels.selector(workspace=workspace), f"{COMPONENT}={component}"]}
    return sorted(client.containers.list(all=True, filters=filters), key=lambda c: c.name)


def wait_until_answering(url: str, timeout: float = VIEWER_READY_SECONDS) -> float:
    """Seconds until ``GET <url>api`` answers 200 (the viewer's health check)."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        try:
            if requests.get(f"{url}api", timeout=5).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url}api did not answer 200 within {timeout:.0f} s")
        time.sleep(0.5)


@dataclass
class Faults:
    """What `local up --json` printed for workspace ``faults``, and ways to reach its containers."""

    url: str
    password: str
    parameters: dict[str, str]
    client: object
    local: Local
    workspace: str = WORKSPACE
    engines: int = ENGINES

    def controller(self):
        [container] = containers_of(self.client, self.workspace, "controller")
        return container

    def engine_containers(self) -> list:
        return containers_of(self.client, self.workspace, "engine")

    def viewer(self):
        [container] = containers_of(self.client, self.workspace, "viewer")
        return container

    def up(self, *args: str) -> tuple[dict, float]:
        """`local up --json` of this workspace with its parameters: (what it printed, seconds)."""
        return up_json(self.local, "--workspace", self.workspace, *args, **self.parameters)

    def down(self, *args: str) -> None:
        self.local.ok("down", "--workspace", self.workspace, *args)


@pytest.fixture(scope="package")
def faults(local, notebook_repository, engine_client):
    """Both stacks up: a controller, 4 engines and a viewer, all cloning the test repository.

    Package scope: brought down as soon as the last fault test ran, not at the end of a whole
    test session (tests/e2e keeps its own deployment up until then)."""
    parameters = {
        "IPYTHON_CLUSTER_LABEL": CLUSTER_LABEL,
        "IPYTHON_USER_LABEL": USER_LABEL,
        "IPYTHON_ENGINES": str(ENGINES),
        "IPYTHON_NOTEBOOK_REPOSITORY": notebook_repository,
        "IPYTHON_IMAGE": IMAGE,
    }
    try:
        # --build: the image is the current image/ (seconds with the layer cache), never a stale tag.
        printed, seconds = up_json(local, "--workspace", WORKSPACE, "--build", **parameters)
        print(f"\nlocal up (workspace {WORKSPACE}, {ENGINES} engines): {seconds:.1f} s", file=sys.stderr)
        yield Faults(url=printed["url"], password=printed["password"], parameters=parameters,
                     client=engine_client, local=local)
    finally:
        local("down", "--workspace", WORKSPACE)
        assert owned(engine_client, workspace=WORKSPACE) == NOTHING
