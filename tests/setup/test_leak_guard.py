"""Tests leave nothing behind: the session guard (tests/conftest.py) and a container that fails to start.

The guard is run as it runs for the suite, in a pytest session of its own (a subprocess) with a
test that leaks a labelled network; the local runner's start is given a container whose
entrypoint does not exist, as a broken image or command would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import docker
import docker.errors
import pytest

from localrun import engine, engine_setup
from localrun.errors import LocalRunError

pytestmark = pytest.mark.container

REPO = Path(__file__).resolve().parents[2]
TEST_LABEL = {"io.ipython-k8s.test": "setup"}


@pytest.fixture(scope="module")
def docker_host() -> str:
    return engine_setup.find_engine(os.environ, print, set_up=False).docker_host


@pytest.fixture(scope="module")
def client(docker_host):
    client = docker.DockerClient(base_url=docker_host)
    yield client
    client.close()


def test_a_session_that_leaks_fails_and_its_leak_is_removed(client, docker_host, tmp_path):
    name = f"leak-guard-{uuid.uuid4().hex[:8]}"
    (tmp_path / "test_leaks.py").write_text(
        "import os, docker\n"
        "def test_leaks():\n"
        f"    docker.DockerClient(base_url=os.environ['DOCKER_HOST']).networks.create({name!r}, labels={TEST_LABEL!r})\n"
    )
    try:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider", "-q", "test_leaks.py"],
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO), "DOCKER_HOST": docker_host},
            capture_output=True, text=True, timeout=120,
        )
        assert run.returncode == 1, run.stdout + run.stderr
        assert f"the tests left 1 object(s) in the container engine (now removed): network {name}" in run.stdout
        assert client.networks.list(names=[name]) == []
    finally:
        for network in client.networks.list(names=[name]):
            network.remove()


def test_a_container_that_cannot_start_is_removed(client):
    base = os.environ.get("BASE_IMAGE") or engine_setup.project_base_image(client)
    assert base, "no base image: tests/run.sh exports BASE_IMAGE"
    container = client.containers.create(base, entrypoint=["/nonexistent/entrypoint"], labels=TEST_LABEL,
                                         name=f"cannot-start-{uuid.uuid4().hex[:8]}")
    try:
        with pytest.raises(LocalRunError, match=f"^cannot start container {container.name}: "):
            engine.start(container)
        with pytest.raises(docker.errors.NotFound):
            client.containers.get(container.id)
    finally:
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass
