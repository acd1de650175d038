"""A whole cluster as containers on one network, wired only by the contract's variables.

controller, two engines and a viewer share a user-defined network. The controller joins it
under the alias ``ipcluster-<label>`` (what the Kubernetes Service of that name provides), and
nobody is told more than the label and the key: engines and the viewer's kernels find the
controller by that DNS name (netavark + aardvark-dns with Podman, see .ci/podman.sh). A kernel
of the viewer, driven through the REST + websocket API after login, sees both engines and runs
code on each.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.roles.kernel_client import JupyterClient

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "image"))
from ipython_roles.task_records import record_limit_for  # noqa: E402

from . import containers

pytestmark = pytest.mark.container

LABEL = "ctest"
KEY = "container-cluster-test-key"
PASSWORD = "cluster viewer password"
#: The controller's container memory limit; its task records may take a quarter of it.
CONTROLLER_MEMORY = "512m"

ENGINES_AND_HOSTS = """
import json, os, socket, time
import ipyparallel as ipp
client = ipp.Client()
deadline = time.monotonic() + 240
while len(client.ids) < 2 and time.monotonic() < deadline:
    time.sleep(0.5)
answers = client[:].apply_sync(lambda: (__import__('socket').gethostname(), __import__('os').getpid()))
print(json.dumps({"ids": client.ids, "answers": answers}))
"""


@pytest.fixture(scope="module")
def cluster(docker_client, image):
    cluster_environment = {"IPYTHON_CLUSTER_LABEL": LABEL, "IPYTHON_CLUSTER_KEY": KEY}
    network = docker_client.networks.create(f"ipython-ctest-{uuid.uuid4().hex[:8]}", driver="bridge",
                                            labels=containers.labels())
    started = []
    try:
        # Engines first: they must wait for a controller that is not there yet.
        for number in (1, 2):
            started.append(containers.start(
                docker_client, image, {"IPYTHON_CONTAINER_TYPE": "engine", **cluster_environment},
                name=f"{network.name}-engine-{number}", network=network))
        started.append(containers.start(
            docker_client, image, {"IPYTHON_CONTAINER_TYPE": "controller", **cluster_environment},
            name=f"{network.name}-controller", network=network, aliases=[f"ipcluster-{LABEL}"],
            mem_limit=CONTROLLER_MEMORY))
        viewer = containers.start(
            docker_client, image,
            {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWORD": PASSWORD, **cluster_environment},
            name=f"{network.name}-viewer", network=network, publish_viewer=True)
        started.append(viewer)
        containers.wait_for_viewer(viewer)
        yield viewer, started
    finally:
        for one in started:
            containers.remove(one)
        network.remove()


def test_viewer_kernel_reaches_both_engines_through_the_controller_alias(cluster):
    viewer, started = cluster
    with JupyterClient(viewer.url, PASSWORD, timeout=60) as jupyter, jupyter.kernel() as kernel:
        output = kernel.run(ENGINES_AND_HOSTS, timeout=300).stdout
    result = json.loads(output.strip().splitlines()[-1])
    logs = "\n\n".join(f"--- {one.container.name}\n{one.logs()[-1500:]}" for one in started)
    assert len(result["ids"]) == 2, logs
    hosts = {host for host, _pid in result["answers"]}
    pids = {(host, pid) for host, pid in result["answers"]}
    assert hosts == {f"{viewer.container.name.rsplit('-', 1)[0]}-engine-1",
                     f"{viewer.container.name.rsplit('-', 1)[0]}-engine-2"}, logs
    assert len(pids) == 2


def test_the_controllers_task_records_fit_its_memory_limit(cluster):
    """TaskRecords reads the container's cgroup: 512 MiB of memory, so 8192 records (64 KiB
    each, task_records.record_limit_for) and 128 MiB of task buffers."""
    _viewer, started = cluster
    controller = next(one for one in started if one.container.name.endswith("-controller"))
    deadline = time.monotonic() + 60
    while "task records: at most" not in controller.logs() and time.monotonic() < deadline:
        time.sleep(0.5)
    records = record_limit_for(512 * 2**20)
    assert records == 8192
    assert f"task records: at most {records} records and 128 MiB of task arguments and results" in controller.logs()


def test_every_role_of_the_cluster_is_healthy(cluster):
    _viewer, started = cluster
    for one in started:
        deadline = time.monotonic() + 120  # an engine is healthy once it runs, after the controller
        while True:
            code, output = one.exec(containers.healthcheck_command(one))
            if code == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert code == 0, f"{one.container.name}: {output}\n{one.logs()[-2000:]}"
        assert output.startswith("healthy: ")


# Run in a kernel or an engine task: every place a process of the container can read that
# holds one of the needles. The needles arrive reversed, so that the code (which a kernel keeps
# in its history database) never holds them in plain text.
SCAN_FOR_SECRETS = r'''
import os, pathlib

def scan_for_secrets(reversed_needles):
    needles = {name: value[::-1].encode() for name, value in reversed_needles.items()}
    found = set()
    def look(data, where):
        found.update(f"{name} in {where}" for name, needle in needles.items() if needle in data)
    def read(path):
        try:
            with open(path, "rb") as handle:
                return handle.read(1 << 22)
        except OSError:
            return b""
    for proc in pathlib.Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        look(read(proc / "environ"), "environ of pid " + proc.name)
        look(read(proc / "cmdline"), "cmdline of pid " + proc.name)
        try:
            targets = [os.readlink(fd) for fd in (proc / "fd").iterdir()]
        except OSError:
            targets = []
        for target in targets:
            if target.startswith("/") and os.path.isfile(target):
                look(read(target), target)
    for root in (os.path.expanduser("~"), "/tmp"):
        for directory, _dirs, files in os.walk(root):
            for name in files:
                look(read(os.path.join(directory, name)), os.path.join(directory, name))
    return sorted(found)
'''


def test_no_process_a_user_reaches_holds_the_password_and_only_connection_files_the_key(cluster):
    """PID 1 (tini) included; the key is where docs/security.md says it must be, nowhere else."""
    viewer, _started = cluster
    needles = repr({"password": PASSWORD[::-1], "key": KEY[::-1]})
    in_kernel = SCAN_FOR_SECRETS + f"print(json.dumps(scan_for_secrets({needles})))\n"
    on_engines = (
        "import ipyparallel as ipp\n"
        f"scan = {SCAN_FOR_SECRETS!r}\n"
        "def remote(needles, code=scan):\n"
        "    namespace = {}\n"
        "    exec(code, namespace)\n"
        "    return namespace['scan_for_secrets'](needles)\n"
        "client = ipp.Client()\n"
        f"print(json.dumps(client[:].apply_sync(remote, {needles})))\n"
    )
    with JupyterClient(viewer.url, PASSWORD, timeout=60) as jupyter, jupyter.kernel() as kernel:
        kernel_found = json.loads(kernel.run("import json\n" + in_kernel, timeout=120).stdout.strip().splitlines()[-1])
        engines_found = json.loads(kernel.run("import json\n" + on_engines, timeout=300).stdout.strip().splitlines()[-1])
    assert not [where for where in kernel_found if not where.startswith("key in ") or not where.endswith("/ipcontroller-client.json")], kernel_found
    assert kernel_found, "the kernel's client connection file holds the key (the scan must find it)"
    for found in engines_found:
        assert not [where for where in found if not where.startswith("key in ") or not where.endswith("/ipcontroller-engine.json")], found
        assert found, "the engine's connection file holds the key (the scan must find it)"
