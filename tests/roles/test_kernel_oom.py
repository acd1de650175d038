"""Kernels start with oom_score_adj=1000, so that memory pressure kills a kernel, not the server
(kernel_launcher). The container test with a real memory limit is tests/container/test_viewer_memory.py."""

from __future__ import annotations

from pathlib import Path

from .kernel_client import JupyterClient, KernelConnection
from .processes import RoleProcess, wait_for_viewer, wait_until

PASSWORD = "kernel oom test password"
PROBE = (
    "import os, subprocess\n"
    "print(os.getpid(), os.getppid())\n"
    "print(subprocess.run(['cat', '/proc/self/oom_score_adj'], capture_output=True, text=True).stdout.strip())"
)


def oom_score_adj(pid: int) -> int:
    return int(Path(f"/proc/{pid}/oom_score_adj").read_text())


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def probe(jupyter: JupyterClient, kernel_id: str) -> tuple[int, int, int]:
    """(kernel pid, its parent's pid, oom_score_adj of a process the kernel starts)"""
    connection = KernelConnection(jupyter, kernel_id)
    try:
        ids, child = connection.run(PROBE, timeout=60).stdout.splitlines()
    finally:
        connection.close()
    pid, parent = (int(n) for n in ids.split())
    return pid, parent, int(child)


def test_kernels_and_their_children_go_first_and_the_server_does_not(tmp_path, ports):
    port = ports.port()
    viewer = RoleProcess(
        "viewer",
        tmp_path,
        {
            "IPYTHON_CONTAINER_TYPE": "viewer",
            "IPYTHON_USER_PASSWORD": PASSWORD,
            "IPYTHON_VIEWER_PORT": str(port),
            "IPYTHON_NOTEBOOK_DIR": str(tmp_path / "work"),
        },
    ).start()
    try:
        wait_for_viewer(viewer, port)
        with JupyterClient(f"http://127.0.0.1:{port}", PASSWORD) as jupyter:
            kernel_id = jupyter.start_kernel()
            try:
                pid, parent, child = probe(jupyter, kernel_id)
                # the server started the kernel itself (the shell that set the score exec'd it)
                assert parent == viewer.pid
                assert "ipykernel_launcher" in cmdline(pid) and "/bin/sh" not in cmdline(pid)
                assert oom_score_adj(pid) == 1000
                assert child == 1000
                assert oom_score_adj(viewer.pid) == 0
                # a restart goes through the same command
                jupyter.post(f"/api/kernels/{kernel_id}/restart").raise_for_status()
                restarted = wait_until(lambda: probe(jupyter, kernel_id), 60, "the restarted kernel", process=viewer)
                assert restarted[0] != pid
                assert oom_score_adj(restarted[0]) == 1000
                assert oom_score_adj(viewer.pid) == 0
            finally:
                jupyter.shutdown_kernel(kernel_id)
    finally:
        viewer.stop()
