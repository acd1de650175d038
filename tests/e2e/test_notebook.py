"""`local up` runs the stacks: a notebook of the cloned repository computes on the engines,
a second `up` keeps the password and only changes what changed (the engine count)."""

from __future__ import annotations

import json
import sys

import pytest
import requests

from tests.roles.kernel_client import JupyterClient

from .deployment import engine_ids, run_python, up_json

NBCLIENT = """
import json
import nbformat
from nbclient import NotebookClient
notebook = nbformat.read("parallel.ipynb", as_version=4)
NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
print(json.dumps(["".join(o.get("text", "") for o in c.outputs) for c in notebook.cells if c.cell_type == "code"]))
"""


def test_up_prints_the_viewer_address_password_and_engines(cluster):
    assert cluster.url.startswith("http://127.0.0.1:") and cluster.url.endswith("/")
    assert len(cluster.password) == 24  # the stack's random_password
    assert cluster.engines == 2
    assert requests.get(f"{cluster.url}api", timeout=10).status_code == 200
    with JupyterClient(cluster.url, password=cluster.password) as jupyter:
        assert jupyter.get("/api/contents").status_code == 200
    with pytest.raises(PermissionError):
        JupyterClient(cluster.url, password=cluster.password + "x")


def test_containers_reach_this_machine_as_host_containers_internal_through_their_networks_gateway(cluster):
    viewer = cluster.viewer()
    [network] = viewer.attrs["NetworkSettings"]["Networks"].values()
    code, output = viewer.exec_run(["getent", "hosts", "host.containers.internal"])
    assert code == 0 and output.decode().split()[0] == network["Gateway"], output


def test_the_repository_notebook_runs_on_the_engines(cluster):
    viewer = cluster.viewer()
    ids = engine_ids(viewer, cluster.engines)
    assert len(ids) == cluster.engines
    outputs = json.loads(run_python(viewer, NBCLIENT).strip().splitlines()[-1])
    assert outputs == [
        f"engine ids: {ids}\n",
        f"direct view squares: {[x * x for x in range(8)]}\n",
        f"load-balanced increments: {[x + 1 for x in range(8)]}\n",
        f"engine hosts: {cluster.engines}\n",  # each engine is its own container
    ]


def test_an_unchanged_second_up_changes_nothing(cluster, local):
    before = {c.name: c.id for c in cluster.client.containers.list(filters={"label": f"io.ipython-k8s.local.workspace={cluster.workspace}"})}
    printed, seconds = up_json(local, "--workspace", cluster.workspace, **cluster.parameters)
    print(f"\nlocal up (warm, nothing changed): {seconds:.1f} s", file=sys.stderr)
    assert printed == {"url": cluster.url, "password": cluster.password, "engines": cluster.engines}
    after = {c.name: c.id for c in cluster.client.containers.list(filters={"label": f"io.ipython-k8s.local.workspace={cluster.workspace}"})}
    assert after == before


@pytest.mark.parametrize("engines", [4, 3])
def test_a_changed_engine_count_changes_only_the_engines(cluster, local, engines):
    viewer_id = cluster.viewer().id
    parameters = {**cluster.parameters, "IPYTHON_ENGINES": str(engines)}
    printed, seconds = up_json(local, "--workspace", cluster.workspace, **parameters)
    print(f"\nlocal up (warm, {engines} engines): {seconds:.1f} s", file=sys.stderr)
    cluster.parameters, cluster.engines = parameters, engines
    assert printed == {"url": cluster.url, "password": cluster.password, "engines": engines}
    assert cluster.viewer().id == viewer_id  # the viewer (and its kernels) stayed
    assert len(engine_ids(cluster.viewer(), engines)) == engines
