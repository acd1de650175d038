"""Notebooks saved in the workspace survive the viewer: a crash and restart of its container, and
`local down --keep-volumes` + `local up` of its stack (a new pod); a plain `local down` removes
them.

The workspace is the viewer's PersistentVolumeClaim (locally a named volume); the container's
HOME and /tmp are emptyDirs, kept across a container restart but new in a new pod. A notebook
is saved as a browser saves it (the contents API, after logging in), read back the same way
after logging in again with the same password, and its file on the volume is compared byte for
byte.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass

import nbformat
import pytest

from localrun import engine, labels
from tests.e2e.deployment import NOTEBOOK, run_python
from tests.roles.kernel_client import JupyterClient

from .crashes import crash, wait_restarted
from .deployment import wait_until_answering

VIEWER_STACK = ("--stack", "viewer-stack")


def _notebook() -> dict:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Written before the viewer went down"),
        nbformat.v4.new_code_cell("print('still here')", execution_count=1,
                                  outputs=[nbformat.v4.new_output("stream", name="stdout", text="still here\n")]),
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def _save(url: str, password: str, name: str) -> dict:
    """Save a new notebook ``name`` (201 Created); what the server then reads back."""
    with JupyterClient(url, password=password) as jupyter:
        response = jupyter.put(f"/api/contents/{name}", {"type": "notebook", "format": "json", "content": _notebook()})
        assert response.status_code == 201, response.text
        return _read(jupyter, name)


def _read(jupyter: JupyterClient, name: str) -> dict:
    response = jupyter.get(f"/api/contents/{name}?content=1")
    assert response.status_code == 200, f"{name}: HTTP {response.status_code}"
    return copy.deepcopy(response.json()["content"])


def _read_after_login(url: str, password: str, name: str) -> dict:
    with JupyterClient(url, password=password) as jupyter:  # raises PermissionError if refused
        return _read(jupyter, name)


def _file_digest(viewer, name: str) -> str:
    return run_python(viewer, f"import hashlib; print(hashlib.sha256(open({name!r}, 'rb').read()).hexdigest())").strip()


def _trust(notebook: dict) -> list:
    """The server's verdict per cell; not part of the file (nbformat strips it on save)."""
    return [cell["metadata"].get("trusted") for cell in notebook["cells"]]


def _content(notebook: dict) -> dict:
    """The notebook as stored: without the server's per-cell ``trusted`` verdict."""
    stored = copy.deepcopy(notebook)
    for cell in stored["cells"]:
        cell["metadata"].pop("trusted", None)
    return stored


def _workspace_volumes(faults) -> list[str]:
    return [v.name for v in engine.volumes(faults.client, workspace=faults.workspace, stack="viewer-stack",
                                           kind=labels.PVC)]


def test_a_saved_notebook_survives_a_viewer_crash(faults):
    name = "saved-before-a-crash.ipynb"
    saved = _save(faults.url, faults.password, name)
    viewer = faults.viewer()
    digest = _file_digest(viewer, name)

    restarts_before = crash(viewer)
    restarted = wait_restarted(viewer, restarts_before)
    answering = wait_until_answering(faults.url)
    print(f"\nviewer crash: restarted after {restarted:.1f} s, answering {answering:.1f} s later", file=sys.stderr)

    assert _read_after_login(faults.url, faults.password, name) == saved  # trust included: same pod
    assert _file_digest(viewer, name) == digest


@dataclass
class AcrossNewPod:
    saved: dict
    read_back: dict
    digest_before: str
    digest_after: str


@pytest.fixture(scope="module")
def across_a_new_pod(faults) -> AcrossNewPod:
    """A notebook saved, then `down --stack viewer-stack --keep-volumes` and `up` again."""
    name = "saved-before-a-down.ipynb"
    saved = _save(faults.url, faults.password, name)
    digest = _file_digest(faults.viewer(), name)
    [volume] = _workspace_volumes(faults)

    faults.down(*VIEWER_STACK, "--keep-volumes")
    assert _workspace_volumes(faults) == [volume]
    assert not faults.client.containers.list(all=True, filters={"label": labels.selector(
        workspace=faults.workspace, stack="viewer-stack")})
    printed, seconds = faults.up(*VIEWER_STACK)
    print(f"\nlocal up --stack viewer-stack on the kept volume: {seconds:.1f} s", file=sys.stderr)
    assert (printed["url"], printed["password"]) == (faults.url, faults.password)
    return AcrossNewPod(saved, _read_after_login(faults.url, faults.password, name), digest,
                        _file_digest(faults.viewer(), name))


def test_down_keep_volumes_then_up_keeps_a_saved_notebook(across_a_new_pod):
    assert across_a_new_pod.digest_after == across_a_new_pod.digest_before
    assert _content(across_a_new_pod.read_back) == _content(across_a_new_pod.saved)


def test_a_saved_notebook_stays_trusted_in_a_new_pod(across_a_new_pod):
    assert _trust(across_a_new_pod.saved) == [None, True]
    assert _trust(across_a_new_pod.read_back) == _trust(across_a_new_pod.saved)


def test_a_plain_down_removes_the_saved_notebooks(faults):
    name = "saved-before-a-plain-down.ipynb"
    _save(faults.url, faults.password, name)
    assert len(_workspace_volumes(faults)) == 1

    faults.down(*VIEWER_STACK)
    assert _workspace_volumes(faults) == []
    printed, seconds = faults.up(*VIEWER_STACK)
    print(f"\nlocal up --stack viewer-stack on a new volume: {seconds:.1f} s", file=sys.stderr)
    assert (printed["url"], printed["password"]) == (faults.url, faults.password)
    with JupyterClient(faults.url, password=faults.password) as jupyter:
        assert jupyter.get(f"/api/contents/{name}").status_code == 404
        # the new volume was empty, so the repository was cloned into it again
        assert jupyter.get(f"/api/contents/{NOTEBOOK}").status_code == 200
