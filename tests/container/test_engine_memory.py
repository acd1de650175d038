"""An engine container at its memory limit: a task that allocates past it gets ipengine
OOM-killed, the supervisor says so in the container's log (memory_cgroup), where `kubectl logs`
shows it, and starts a new ipengine, which registers again; the container itself goes on.

The task comes from a client run inside the controller's container (the test's own machine does
not reach the container network), with the connection file a viewer would write."""

from __future__ import annotations

import json
import re
import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "image"))
from ipython_roles.connection_info import client_connection_info  # noqa: E402
from ipython_roles.curve_keys import controller_keys  # noqa: E402
from ipython_roles.settings import DEFAULT_CONTROLLER_PORT  # noqa: E402

from . import containers  # noqa: E402

pytestmark = pytest.mark.container

LABEL = "oomtest"
KEY = "engine-memory-test-key"
MEMORY_LIMIT = "256m"
MEMORY_LIMIT_WORDS = "256 MiB"
PYTHON = "/opt/venv/bin/python"
# argv[1]: the client connection file's content. Waits for the engine, then has it allocate
# 16 MiB at a time (each byte written, so it is resident) until the OOM killer ends it.
ALLOCATE_ON_THE_ENGINE = """
import os, sys, tempfile, time
import ipyparallel as ipp
path = os.path.join(tempfile.mkdtemp(), "client.json")
with open(path, "w") as handle:
    handle.write(sys.argv[1])
client = ipp.Client(path, timeout=60)
deadline = time.monotonic() + 240
while not client.ids and time.monotonic() < deadline:
    time.sleep(0.5)
print("engines", client.ids, flush=True)

def allocate_past_the_limit():
    chunks = []
    while True:
        chunks.append(b"x" * (16 * 2**20))

result = client[client.ids[0]].apply_async(allocate_past_the_limit)
try:
    result.get(timeout=60)
except Exception as error:
    print("the task:", type(error).__name__, flush=True)
"""
OOM_EXIT = re.compile(
    rf"ipengine exited with status -9: OOM-killed \(the container's memory limit is {MEMORY_LIMIT_WORDS}; "
    r"(\d+) OOM kills? so far\); starting it again in \d+\.\d s$",
    re.MULTILINE,
)
REGISTERED = "registered as engine"


def wait_for_log(started: containers.Started, predicate, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while True:
        logs = started.logs()
        if predicate(logs) or time.monotonic() > deadline:
            return logs
        time.sleep(1)


def test_an_engine_task_past_the_memory_limit_is_logged_as_oom_killed_and_ipengine_restarts(docker_client, image):
    environment = {"IPYTHON_CLUSTER_LABEL": LABEL, "IPYTHON_CLUSTER_KEY": KEY}
    network = docker_client.networks.create(f"ipython-oomtest-{uuid.uuid4().hex[:8]}", driver="bridge",
                                            labels=containers.labels())
    started: list[containers.Started] = []
    try:
        controller = containers.start(
            docker_client, image, {"IPYTHON_CONTAINER_TYPE": "controller", **environment},
            name=f"{network.name}-controller", network=network, aliases=[f"ipcluster-{LABEL}"])
        started.append(controller)
        engine = containers.start(
            docker_client, image, {"IPYTHON_CONTAINER_TYPE": "engine", **environment},
            name=f"{network.name}-engine", network=network, mem_limit=MEMORY_LIMIT, memswap_limit=MEMORY_LIMIT)
        started.append(engine)
        logs = wait_for_log(engine, lambda text: REGISTERED in text, 240)
        assert REGISTERED in logs, logs[-3000:]

        info = client_connection_info(f"ipcluster-{LABEL}", DEFAULT_CONTROLLER_PORT, KEY,
                                      controller_keys(KEY).public.decode("ascii"))
        code, output = controller.exec([PYTHON, "-c", ALLOCATE_ON_THE_ENGINE, json.dumps(info)])
        # the exit, then the new ipengine's registration
        logs = wait_for_log(engine, lambda text: "ipengine exited" in text and text.count(REGISTERED) >= 2, 180)
        print(f"the client (exit {code}):\n{output[-2000:]}\nthe engine's log:\n" + "\n".join(
            line for line in logs.splitlines() if "ipengine" in line))

        exits = [line for line in logs.splitlines() if "ipengine exited" in line]
        assert len(exits) == 1, logs[-3000:]
        oom = OOM_EXIT.search(exits[0])
        assert oom, exits
        # the count in the line is the container's cgroup count (v1's memory.oom_control, v2's events)
        kills, counters = containers.oom_kills(engine)
        assert kills is not None and 1 <= int(oom.group(1)) <= kills, counters
        # the supervisor started a new ipengine, which registered again
        after = logs.split(exits[0], 1)[1]
        assert "starting ipengine" in after and REGISTERED in after, logs[-3000:]
        # the container itself was not killed or restarted: its main process, the supervisor, goes on
        assert engine.status() == "running"
        engine.container.reload()
        assert engine.container.attrs.get("RestartCount", 0) == 0
    finally:
        for one in started:
            containers.remove(one)
        network.remove()
