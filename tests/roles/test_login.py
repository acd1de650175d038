"""The viewer lets in whoever knows IPYTHON_USER_PASSWORD, and nobody else."""

from __future__ import annotations

import json
import stat

import pytest
import requests

from .conftest import PASSWORD, Cluster
from .kernel_client import JupyterClient
from .processes import RoleProcess, wait_for_viewer

PROTECTED = ["/api/contents", "/api/kernels", "/api/sessions", "/api/terminals"]


def test_health_endpoint_answers_without_login(cluster: Cluster):
    response = requests.get(f"{cluster.url}/api", timeout=10)
    assert response.status_code == 200
    assert "version" in response.json()


def test_right_password_gets_in(cluster: Cluster):
    with JupyterClient(cluster.url, PASSWORD) as jupyter:
        for path in PROTECTED:
            assert jupyter.get(path).status_code == 200, path


@pytest.mark.parametrize("password", ["wrong password", "", PASSWORD.upper(), PASSWORD[:-1]])
def test_wrong_password_gets_no_access(cluster: Cluster, password: str):
    jupyter = JupyterClient(cluster.url)
    with pytest.raises(PermissionError, match="login refused"):
        jupyter.login(password)
    for path in PROTECTED:
        assert jupyter.get(path).status_code == 403, path
    assert jupyter.post("/api/kernels", {"name": "python3"}).status_code == 403


def test_no_login_gets_no_access(cluster: Cluster):
    jupyter = JupyterClient(cluster.url)
    for path in PROTECTED:
        assert jupyter.get(path).status_code == 403, path
    ui = jupyter.get("/tree")
    assert ui.status_code == 302 and "/login" in ui.headers["Location"]


@pytest.mark.parametrize("token", ["", "None", "null"])
def test_there_is_no_token_login(cluster: Cluster, token: str):
    response = requests.get(f"{cluster.url}/api/contents", params={"token": token}, timeout=10)
    assert response.status_code == 403
    response = requests.get(f"{cluster.url}/api/contents", headers={"Authorization": f"token {token}"}, timeout=10)
    assert response.status_code == 403


def test_config_file_holds_only_a_hash_and_is_private(cluster: Cluster):
    runtime = cluster.viewer.home / ".local" / "share" / "jupyter" / "runtime"
    config_file = runtime / "ipython-roles-viewer-config.json"
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(runtime.stat().st_mode) & 0o777 == 0o700  # Jupyter may add the sticky bit
    text = config_file.read_text()
    assert PASSWORD not in text
    hashed = json.loads(text)["PasswordIdentityProvider"]["hashed_password"]
    assert hashed.startswith("argon2:$argon2id$")
    assert json.loads(text)["IdentityProvider"]["token"] == ""


def test_explicit_opt_out_runs_without_authentication(tmp_path, ports):
    port = ports.port()
    viewer = RoleProcess(
        "open-viewer",
        tmp_path,
        {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_ALLOW_NO_PASSWORD": "true", "IPYTHON_VIEWER_PORT": str(port)},
    ).start()
    try:
        wait_for_viewer(viewer, port)
        assert requests.get(f"http://127.0.0.1:{port}/api/contents", timeout=10).status_code == 200
        assert "NO authentication" in viewer.log()
    finally:
        viewer.stop()
