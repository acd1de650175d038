"""What the built image declares and holds: the contract's defaults, ports, user, and its size.

The size guard counts only what this image adds on top of its base image, so that it holds for
any BASE_IMAGE: the budget is the total goal (650 MB) minus python:3.12-slim's ~125 MB.
"""

from __future__ import annotations

import glob
import os

import pytest

from localrun.image_build import read_certificates

from . import containers
from .conftest import HOST_CA_CERTIFICATES

pytestmark = pytest.mark.container

ADDED_SIZE_BUDGET_MB = 525

CONTRACT_DEFAULTS = {
    "HOME": "/home/ipython",
    "IPYTHON_NOTEBOOK_DIR": "/home/ipython/work",
    "IPYTHON_WORKSPACE_SEED": "/opt/ipython/workspace-seed",
    "IPYTHON_VIEWER_PORT": "8888",
    "IPYTHON_CONTROLLER_PORT": "10100",
    "IPYTHON_ALLOW_NO_PASSWORD": "false",
    "VIRTUAL_ENV": "/opt/venv",
}


@pytest.fixture(scope="module")
def config(docker_client, image) -> dict:
    return docker_client.api.inspect_image(image)["Config"]


def test_environment_has_the_contract_defaults(config):
    environment = dict(item.split("=", 1) for item in config["Env"])
    for name, value in CONTRACT_DEFAULTS.items():
        assert environment.get(name) == value, name
    assert environment["PATH"].split(":")[0] == "/opt/venv/bin"
    assert "IPYTHON_CONTAINER_TYPE" not in environment and "IPYTHON_USER_PASSWORD" not in environment


def exposed_ports(config: dict) -> set[int]:
    """Docker lists each exposed port; Podman keeps a range as one key ("10100-10115/tcp")."""
    ports = set()
    for key in config["ExposedPorts"]:
        first, _, last = key.split("/")[0].partition("-")
        ports.update(range(int(first), int(last or first) + 1))
    return ports


def test_ports_user_and_entrypoint(config):
    assert exposed_ports(config) == {8888, *range(10100, 10116)}
    assert config["User"] == "1000"
    assert config["Entrypoint"] == ["/opt/venv/bin/python", "/opt/ipython/entrypoint.py"]


@pytest.mark.parametrize("command, expected", [
    (["id", "-un"], "ipython"),
    (["stat", "-c", "%u:%g %A", "/home/ipython"], "1000:0 drwxrwxr-x"),
    (["stat", "-c", "%u:%g %A", "/home/ipython/work"], "1000:0 drwxrwxr-x"),
    (["python", "-c", "import sys; print(sys.prefix)"], "/opt/venv"),
    # the CA store holds the extra certificates the build was given (this host's proxy CA)
    (["sh", "-c", "ls /usr/local/share/ca-certificates/ipython-image/*.crt | wc -l"], None),
], ids=["user", "home", "workspace", "venv", "extra-certificates"])
def test_file_system(docker_client, image, command, expected):
    output = docker_client.containers.run(image, command, remove=True, labels=containers.labels()).decode().strip()
    if expected is None:  # one file per PEM certificate (localrun.image_build.build_context)
        expected = str(sum(len(read_certificates(path)) for path in glob.glob(HOST_CA_CERTIFICATES)))
    assert output == expected


def test_venv_ships_no_byte_code_and_no_test_suites(docker_client, image):
    command = ["sh", "-c", "find /opt/venv -name __pycache__ -o -path '*/numpy/*' -name tests | head -5"]
    assert docker_client.containers.run(image, command, remove=True, labels=containers.labels()) == b""


def test_size_added_to_the_base_image_stays_within_budget(docker_client, image):
    size = docker_client.api.inspect_image(image)["Size"] / 1e6
    base = os.environ.get("BASE_IMAGE")
    base_size = docker_client.api.inspect_image(base)["Size"] / 1e6 if base else 125.0
    added = size - base_size
    assert added <= ADDED_SIZE_BUDGET_MB, f"the image adds {added:.0f} MB to its base ({size:.0f} MB in all)"


def test_a_viewers_start_compiles_almost_nothing_the_start_path_is_linked(docker_client, image):
    """build_helpers/start_path.txt is current: a fresh viewer (server plus the entrypoint)
    links its byte-code from the seed and compiles at most a handful of files itself."""
    with containers.running_viewer(docker_client, image, "a viewer password") as viewer:
        code, output = viewer.exec(["sh", "-c", "find /tmp/pycache -name '*.pyc' -type l | wc -l; "
                                                "find /tmp/pycache -name '*.pyc' -type f"])
    assert code == 0, output
    linked, *compiled = output.split()
    assert int(linked) > 1000, output
    assert len(compiled) <= 10, f"compiled at the start, missing from start_path.txt: {compiled}"
