"""IPYTHON_CULL_IDLE_SECONDS: the viewer shuts down idle kernels nobody is connected to."""

from __future__ import annotations

import time

import pytest

from ipython_roles.settings import load_settings
from ipython_roles.viewer import culling_config, viewer_config

from .kernel_client import JupyterClient
from .processes import RoleProcess, wait_for_viewer, wait_until

PASSWORD = "culling test password"


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, {"cull_idle_timeout": 3600, "cull_interval": 60, "cull_connected": False, "cull_busy": False}),
        ("2", {"cull_idle_timeout": 2, "cull_interval": 1, "cull_connected": False, "cull_busy": False}),
        ("90", {"cull_idle_timeout": 90, "cull_interval": 45, "cull_connected": False, "cull_busy": False}),
        ("0", None),
    ],
)
def test_setting_becomes_the_kernel_manager_config(value, expected):
    environ = {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWORD": PASSWORD}
    if value is not None:
        environ["IPYTHON_CULL_IDLE_SECONDS"] = value
    settings = load_settings(environ)
    config = viewer_config(settings, "hash")
    assert config.get("MappingKernelManager") == expected
    assert culling_config(settings.cull_idle_seconds) == (expected or {})


def test_idle_kernel_is_culled_and_a_connected_one_is_not(tmp_path, ports):
    port = ports.port()
    viewer = RoleProcess(
        "viewer",
        tmp_path,
        {
            "IPYTHON_CONTAINER_TYPE": "viewer",
            "IPYTHON_USER_PASSWORD": PASSWORD,
            "IPYTHON_VIEWER_PORT": str(port),
            "IPYTHON_NOTEBOOK_DIR": str(tmp_path / "work"),
            "IPYTHON_CULL_IDLE_SECONDS": "2",
        },
    ).start()
    try:
        wait_for_viewer(viewer, port)
        url = f"http://127.0.0.1:{port}"
        with JupyterClient(url, PASSWORD) as jupyter, jupyter.kernel() as connected:
            assert connected.run("print(6 * 7)").stdout == "42\n"
            idle = jupyter.start_kernel()
            started = time.monotonic()

            def kernels() -> set[str]:
                return {kernel["id"] for kernel in jupyter.get("/api/kernels").json()}

            wait_until(lambda: idle not in kernels(), 30, "the idle kernel to be culled", process=viewer)
            culled_after = time.monotonic() - started
            assert connected.kernel_id in kernels()
            assert connected.run("print('still here')").stdout == "still here\n"
        assert "kernels idle for 2 s are shut down" in viewer.log()
        assert culled_after >= 2
        print(f"idle kernel culled {culled_after:.1f} s after it started (timeout 2 s)")
    finally:
        viewer.stop()
