"""IPYTHON_ENGINE_GROUP: every engine has its group as ``engine_group`` in its namespace, so a
notebook can make a view of one group, as docs/recipes/engine-groups.md shows (its lines run
here). A real controller and three engines (processes), two in group ``gpu`` and one that
leaves the variable unset (the default group); a real client."""

from __future__ import annotations

import os
import re
from pathlib import Path

import ipyparallel
import pytest

from ipython_roles.connection_info import write_client_file
from ipython_roles.curve_keys import controller_keys

from .conftest import CLUSTER_KEY, cluster_variables
from .processes import RoleProcess, wait_until

ENGINES = {"engine-a": None, "engine-b": "gpu", "engine-c": "gpu"}

RECIPE = Path(__file__).resolve().parents[2] / "docs" / "recipes" / "engine-groups.md"
VIEWS = ("everyone", "group_of", "gpu", "cpu")


def recipe_views() -> str:
    """The lines of the engine groups recipe's notebook example that make the views (its
    `Client()` and the calls on the views are the notebook's own; here the client is the test's)."""
    section = RECIPE.read_text().split("## In a notebook", 1)[1].split("\n## ", 1)[0]
    [code] = re.findall(r"```python\n(.*?)```", section, re.S)
    views = [line for line in code.splitlines() if line.split(" = ", 1)[0] in VIEWS]
    assert len(views) == len(VIEWS), code
    return "\n".join(views)


@pytest.fixture
def client(tmp_path, ports, shim_installed):
    port = ports.controller_base()
    processes = [RoleProcess("controller", tmp_path, cluster_variables(port, IPYTHON_CONTAINER_TYPE="controller"))]
    for name, group in ENGINES.items():
        variables = cluster_variables(port, IPYTHON_CONTAINER_TYPE="engine", IPYTHON_NOTEBOOK_DIR=str(tmp_path / name))
        if group is not None:
            variables["IPYTHON_ENGINE_GROUP"] = group
        processes.append(RoleProcess(name, tmp_path, variables))
    client_file = write_client_file(tmp_path / "client", "127.0.0.1", port, CLUSTER_KEY,
                                    controller_keys(CLUSTER_KEY).public.decode("ascii"))
    connected = None
    try:
        for process in processes:
            process.start()
        connected = wait_until(lambda: _connected(client_file), 120, "three engines", 0.5, process=processes[0])
        yield connected
    finally:
        if connected is not None:
            connected.close()
        for process in processes:
            process.stop()
    assert "engine group gpu" in processes[2].log()


def _connected(client_file) -> ipyparallel.Client | None:
    client = ipyparallel.Client(str(client_file), timeout=10)
    if len(client.ids) == len(ENGINES):
        return client
    client.close()
    return None


def test_each_engine_reports_its_group_and_a_view_of_one_group_runs_there_only(client):
    namespace = {"rc": client}
    exec(recipe_views(), namespace)
    assert sorted(namespace["group_of"].values()) == ["default", "gpu", "gpu"]
    gpu = namespace["gpu"]
    assert len(gpu.targets) == 2
    assert gpu.pull("engine_group", block=True) == ["gpu", "gpu"]
    # the view's engines are the two started with IPYTHON_ENGINE_GROUP=gpu, the other one is the
    # engine that was given none: the default group
    assert gpu.apply_sync(os.getenv, "IPYTHON_ENGINE_GROUP") == ["gpu", "gpu"]
    default = [engine for engine, group in namespace["group_of"].items() if group == "default"]
    assert client[default].apply_sync(os.getenv, "IPYTHON_ENGINE_GROUP") == [None]
    cpu = namespace["cpu"]  # load-balanced over the default group
    assert list(cpu.targets) == default
    assert {cpu.apply_sync(os.getenv, "IPYTHON_ENGINE_GROUP") for _ in range(4)} == {None}
