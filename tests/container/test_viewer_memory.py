"""A viewer container at its memory limit: the kernel that went past it dies and is restarted,
the Jupyter server goes on (kernel_launcher: every kernel starts with oom_score_adj=1000), and the
container's log says that the kernel was OOM-killed (memory_cgroup)."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
import requests

from localrun.engine import health, kernel_oom_kills
from tests.roles.kernel_client import JupyterClient, KernelConnection

from . import containers

pytestmark = pytest.mark.container

PASSWORD = "memory test password"
MEMORY_LIMIT = "512m"
MEMORY_LIMIT_WORDS = "512 MiB"
PROBE = (
    "import os\n"
    "print(os.getpid(), os.getppid(), open('/proc/self/oom_score_adj').read().strip(),"
    " open(f'/proc/{os.getppid()}/oom_score_adj').read().strip())"
)
# 16 MiB at a time, each byte written (b'x' * n fills the memory, so it is resident)
ALLOCATE_PAST_THE_LIMIT = "chunks = []\nwhile True:\n    chunks.append(b'x' * (16 * 2**20))\n"


def probe(jupyter: JupyterClient, kernel_id: str, timeout: float = 120) -> list[int]:
    """[kernel pid, server pid, the kernel's oom_score_adj, the server's]"""
    connection = KernelConnection(jupyter, kernel_id)
    try:
        return [int(n) for n in connection.run(PROBE, timeout=timeout).stdout.split()]
    finally:
        connection.close()


def test_a_kernel_past_the_memory_limit_dies_and_restarts_while_the_server_goes_on(docker_client, image):
    started = containers.start(
        docker_client, image, {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWORD": PASSWORD},
        publish_viewer=True, mem_limit=MEMORY_LIMIT, memswap_limit=MEMORY_LIMIT,
    )
    try:
        containers.wait_for_viewer(started)
        with JupyterClient(started.url, PASSWORD, timeout=60) as jupyter:
            kernel_id = jupyter.start_kernel()
            kernel, server, kernel_adj, server_adj = probe(jupyter, kernel_id)
            assert (kernel_adj, server_adj) == (1000, 0)

            hog = KernelConnection(jupyter, kernel_id)
            outcome: dict[str, object] = {}

            def allocate() -> None:
                try:
                    outcome["result"] = hog.run(ALLOCATE_PAST_THE_LIMIT, timeout=90, check=False)
                except Exception as error:  # noqa: BLE001 - the kernel dies under it: no reply
                    outcome["error"] = repr(error)

            thread = threading.Thread(target=allocate)
            thread.start()
            started_at = time.monotonic()
            answers = []
            states = []
            restarted = None
            while time.monotonic() - started_at < 120 and restarted is None:
                answers.append(requests.get(f"{started.url}/api", timeout=10).status_code)
                states.append(jupyter.get(f"/api/kernels/{kernel_id}").json().get("execution_state"))
                try:
                    now = probe(jupyter, kernel_id, timeout=10)
                except Exception:  # noqa: BLE001 - busy allocating, or between two lives
                    now = None
                if now is not None and now[0] != kernel:
                    restarted = now
                time.sleep(0.5)
            hog.close()
            thread.join(120)
            seconds = time.monotonic() - started_at
            logs = started.logs()
            print(f"kernel {kernel} -> {restarted} after {seconds:.1f} s; /api answered {answers}; "
                  f"kernel states {states}; the allocation: {outcome}\n" + "\n".join(
                      line for line in logs.splitlines() if "estart" in line or "died" in line or "OOM" in line))
            assert restarted is not None, logs[-3000:]
            # the server that started the new kernel is the one that started the first
            assert restarted[1] == server and restarted[2:] == [1000, 0]
            assert set(answers) == {200}
            assert "restarting kernel" in logs.lower() or "restarted" in logs.lower(), logs[-3000:]
            # it was the OOM killer: the container's memory cgroup counted a kill (v1, or v2's events)
            kills, counters = containers.oom_kills(started)
            assert kills is not None and kills >= 1, counters
            # and the container's log says so, where `kubectl logs` shows it: one WARNING line
            oom_lines = [line for line in logs.splitlines() if "OOM-killed" in line]
            assert len(oom_lines) == 1, logs[-3000:]
            said = re.search(rf"^\[W .*\] kernel {kernel_id} was OOM-killed \(the container's memory limit is "
                             rf"{MEMORY_LIMIT_WORDS}; (\d+) OOM kills? so far\)$", oom_lines[0])
            assert said and 1 <= int(said.group(1)) <= kills, (oom_lines, counters)
            assert started.status() == "running"
            started.container.reload()
            assert started.container.attrs.get("RestartCount", 0) == 0
            # `local status` reads the same container the same way: running, and the kill in words
            words = health(started.container, kernel_oom_kills()).words()
            assert re.fullmatch(rf"\d+ process(es)? OOM-killed; memory limit {MEMORY_LIMIT_WORDS}", words), words
            jupyter.shutdown_kernel(kernel_id)
            assert jupyter.get("/api/contents").status_code == 200
            print(json.dumps({"memory_limit": MEMORY_LIMIT, "restart_seconds": round(seconds, 1)}))
    finally:
        containers.remove(started)
