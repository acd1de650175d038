"""Notebook trust survives a new pod: Jupyter's notary lives on the workspace volume, not in HOME.

In a pod HOME is an emptyDir: a viewer that kept the notebook-signing secret and its signature
database there would trust none of the user's notebooks after a redeploy. A new HOME per start
is that new pod here; the workspace directory is the volume.
"""

from __future__ import annotations

import json

from ipython_roles.repository_source import parse_repository
from ipython_roles.workspace import NOTARY_DIR, Outcome, populate

from .conftest import PASSWORD
from .kernel_client import JupyterClient
from .processes import RoleProcess, wait_for_viewer

# marked trusted, as the front end marks the cells of a notebook the user ran: the server signs it on save
CODE_CELL = {"cell_type": "code", "execution_count": 1, "id": "c1", "metadata": {"trusted": True},
             "outputs": [{"output_type": "display_data", "data": {"text/html": "<b>hi</b>"}, "metadata": {}}],
             "source": "display(HTML('<b>hi</b>'))"}


def _viewer(tmp_path, ports, workspace, home_name):
    port = ports.port()
    viewer = RoleProcess(home_name, tmp_path, {
        "IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWORD": PASSWORD,
        "IPYTHON_VIEWER_PORT": str(port), "IPYTHON_NOTEBOOK_DIR": str(workspace),
    }).start()
    wait_for_viewer(viewer, port)
    return viewer, f"http://127.0.0.1:{port}"


def test_a_notebook_saved_in_one_pod_is_trusted_in_the_next(tmp_path, ports):
    workspace = tmp_path / "volume"
    notebook = {"cells": [CODE_CELL], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    first, url = _viewer(tmp_path, ports, workspace, "first-pod")
    try:
        with JupyterClient(url, password=PASSWORD) as jupyter:
            saved = jupyter.put("/api/contents/trusted.ipynb", {"type": "notebook", "content": notebook})
            assert saved.status_code in (200, 201), saved.text
            assert jupyter.get("/api/contents/trusted.ipynb").json()["content"]["metadata"].get("trusted") is not False
    finally:
        first.stop()
    assert (workspace / NOTARY_DIR / "notebook_secret").is_file()

    second, url = _viewer(tmp_path, ports, workspace, "second-pod")  # a fresh HOME: a new pod
    try:
        with JupyterClient(url, password=PASSWORD) as jupyter:
            cells = jupyter.get("/api/contents/trusted.ipynb").json()["content"]["cells"]
            assert [cell["metadata"].get("trusted") for cell in cells] == [True], json.dumps(cells)[:300]
    finally:
        second.stop()


def test_the_notary_directory_does_not_make_a_workspace_non_empty(tmp_path, notebook_repository):
    workspace = tmp_path / "volume"
    (workspace / NOTARY_DIR).mkdir(parents=True)  # left by a viewer whose clone failed
    result = populate(parse_repository(str(notebook_repository)), workspace)
    assert result.outcome is Outcome.CLONED, result.message
    assert (workspace / "analysis.ipynb").is_file() and (workspace / NOTARY_DIR).is_dir()
