"""A controller, two engines and a viewer, wired only by environment variables.

Each process has its own HOME; nothing is copied between them. A kernel of the viewer reaches
both engines with a bare ``Client()`` and with the seed's ``from IPython.parallel import Client``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psutil
import pytest

from .conftest import CLUSTER_KEY, PASSWORD, Cluster
from .kernel_client import JupyterClient
from .processes import ENTRYPOINT, PYTHON, RoleProcess, base_environment, wait_until

ENGINES_READY = """
import ipyparallel, time
deadline = time.monotonic() + 60
while True:
    client = ipyparallel.Client()
    if len(client.ids) == 2 or time.monotonic() > deadline:
        break
    client.close(); time.sleep(0.5)
print(sorted(client.ids))
"""


@pytest.fixture(scope="module")
def kernel(cluster: Cluster):
    with JupyterClient(cluster.url, PASSWORD, timeout=60) as jupyter, jupyter.kernel() as kernel:
        yield kernel


def test_bare_client_sees_both_engines(kernel):
    assert kernel.run(ENGINES_READY, timeout=90).stdout.strip() == "[0, 1]"


def test_engines_are_two_distinct_processes(kernel):
    output = kernel.run("import os, ipyparallel\nprint(sorted(ipyparallel.Client()[:].apply_sync(os.getpid)))")
    pids = json.loads(output.stdout)
    assert len(pids) == 2 and len(set(pids)) == 2


def test_seed_ipython_parallel_form_runs_unchanged(kernel):
    output = kernel.run(
        "from IPython.parallel import Client\ncli = Client()\nprint(cli.ids, cli[:].apply_sync(lambda: 6 * 7))"
    )
    assert output.stdout.strip() == "[0, 1] [42, 42]"
    # one deprecation notice pointing at the cell, not one per import
    assert output.stderr.count("DeprecationWarning: IPython.parallel is an alias of ipyparallel") == 1, output.stderr


def test_kernel_sees_neither_password_nor_key(kernel):
    output = kernel.run(
        "import os\n"
        "print(sorted(k for k in os.environ if k in ('IPYTHON_USER_PASSWORD', 'IPYTHON_CLUSTER_KEY')))\n"
        "print(any(v in ({!r}, {!r}) for v in os.environ.values()))".format(PASSWORD, CLUSTER_KEY)
    )
    assert output.stdout.split() == ["[]", "False"]


def test_engine_kernel_sees_no_key(kernel):
    output = kernel.run(
        "import ipyparallel\n"
        "print(ipyparallel.Client()[:].apply_sync(lambda: __import__('os').environ.get('IPYTHON_CLUSTER_KEY')))"
    )
    assert output.stdout.strip() == "[None, None]"


def test_engine_with_a_wrong_key_is_not_admitted(cluster: Cluster, kernel, tmp_path):
    variables = {
        name: value for name, value in cluster.engines[0].variables.items() if name != "IPYTHON_NOTEBOOK_REPOSITORY"
    }
    variables.update(IPYTHON_CLUSTER_KEY="not-the-key", IPYTHON_NOTEBOOK_DIR=str(tmp_path / "work"))
    rogue = RoleProcess("rogue-engine", tmp_path, variables)
    rogue.start()
    try:
        wait_until(
            lambda: "ipengine exited with status 255 (registration failed" in rogue.log(),
            60,
            "the rogue engine to be refused",
            process=rogue,
        )
        assert kernel.run("import ipyparallel\nprint(ipyparallel.Client().ids)").stdout.strip() == "[0, 1]"
    finally:
        rogue.stop()


BURST = """
import ipyparallel, time
client = ipyparallel.Client()
view = client.load_balanced_view()
results = [view.apply_async(int) for _ in range({tasks})]
client.wait(results, timeout=300)
ids = {{result.msg_ids[0] for result in results}}
deadline = time.monotonic() + 120  # the hub records tasks after the fact: let it catch up
while True:
    recorded = {{record["msg_id"] for record in client.db_query({{"completed": {{"$ne": None}}}}, keys=["msg_id"])}}
    if ids <= recorded or time.monotonic() > deadline:
        break
    time.sleep(0.5)
print(len(ids & recorded))
"""


def test_a_burst_beyond_ipyparallels_record_limit_keeps_every_record(cluster: Cluster, kernel):
    """ipyparallel's DictDB keeps 1024 records and culls queued tasks' records beyond that,
    logging two ERROR tracebacks for each; the controller's TaskRecords keeps them all."""
    output = kernel.run(BURST.format(tasks=1500), timeout=600)
    assert output.stdout.strip() == "1500", output.stdout + output.stderr
    assert "has been culled" not in cluster.controller.log()


def test_the_controller_runs_its_schedulers_as_threads(cluster: Cluster):
    """IPController.use_threads: only the heart monitor, which ipyparallel always forks, runs apart."""
    children = psutil.Process(cluster.controller.pid).children(recursive=True)
    assert [" ".join(child.cmdline()) for child in children] == [" ".join(psutil.Process(cluster.controller.pid).cmdline())]
    assert "Hub using DB backend: TaskRecords" in cluster.controller.log()


def _security(process) -> Path:
    return process.home / ".ipython" / "profile_default" / "security"


def test_computed_connection_files_match_what_the_controller_wrote(cluster: Cluster):
    """Engines and viewer computed the files the controller wrote itself (only the
    interface differs: the controller writes its bind address 0.0.0.0, the others the host)."""
    for name, computed_by in (("engine", cluster.engines[0]), ("client", cluster.viewer)):
        written = json.loads((_security(cluster.controller) / f"ipcontroller-{name}.json").read_text())
        computed = json.loads((_security(computed_by) / f"ipcontroller-{name}.json").read_text())
        assert list(computed) == list(written)
        assert written.pop("interface") == "tcp://0.0.0.0"
        assert computed.pop("interface") == "tcp://127.0.0.1"
        assert computed == written
        assert (_security(computed_by) / f"ipcontroller-{name}.json").stat().st_mode & 0o777 == 0o600


def test_controller_uses_only_its_port_range_on_all_interfaces(cluster: Cluster):
    listening = subprocess.run(["ss", "-Htlnp"], capture_output=True, text=True, check=True).stdout
    first = cluster.controller_port
    public = sorted(
        int(line.split()[3].rsplit(":", 1)[1])
        for line in listening.splitlines()
        if f"pid={cluster.controller.pid}," in line or _child_of(cluster.controller.pid, line)
        if line.split()[3].startswith(("0.0.0.0:", "*:"))
    )
    assert public == list(range(first, first + 15))


def _child_of(pid: int, ss_line: str) -> bool:
    for part in ss_line.split("pid=")[1:]:
        child = int(part.split(",")[0])
        try:
            if int(Path(f"/proc/{child}/stat").read_text().split()[4]) == pid:  # same process group
                return True
        except (OSError, ValueError):
            pass
    return False


def test_the_controller_log_and_command_hold_no_secret(cluster: Cluster):
    for process in cluster.processes():
        assert CLUSTER_KEY not in process.log()
        assert PASSWORD not in process.log()
    cmdline = Path(f"/proc/{cluster.controller.pid}/cmdline").read_bytes().decode()
    assert "--Session.keyfile=" in cmdline and CLUSTER_KEY not in cmdline
    assert "exec: " in cluster.controller.log()


@pytest.mark.parametrize("role", ["viewer", "controller", "engine"])
def test_healthcheck_reports_each_role_healthy(cluster: Cluster, role: str):
    process = {"viewer": cluster.viewer, "controller": cluster.controller, "engine": cluster.engines[0]}[role]
    environ = base_environment(process.home, **process.variables)
    result = subprocess.run([PYTHON, str(ENTRYPOINT), "healthcheck"], env=environ, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"healthy: {role}: ")


def test_engines_run_in_their_populated_workspace_with_its_requirements(kernel):
    output = kernel.run(
        "import ipyparallel\n"
        "def probe():\n"
        "    import os, roles_tinypkg\n"
        "    return roles_tinypkg.answer(), os.path.exists('analysis.ipynb'), 'workspace-packages' in roles_tinypkg.__file__\n"
        "print(ipyparallel.Client()[:].apply_sync(probe))"
    )
    assert output.stdout.strip() == "[(42, True, True), (42, True, True)]"
