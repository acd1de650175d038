"""3. Cluster ready and 4. task throughput: our controller and engines against ``ipcluster start``.

Each run starts a cluster of one controller and N engines, times process start to N engines
registered (3), then pushes tiny tasks through a load-balanced view and reports tasks per
second (4), then stops the cluster. Ours is ``image/entrypoint.py`` in the controller and engine
roles, wired only by environment variables as in a pod; the baseline is ipyparallel's own
``ipcluster start -n N`` with its defaults.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import ipyparallel

from tests.roles.processes import wait_until

from .processes import BIN, ENTRYPOINT, clean_environment, free_port_block, running, start
from .timing import Comparison, seconds

sys.path.insert(0, str(ENTRYPOINT.parent))
from ipython_roles.connection_info import write_client_file  # noqa: E402
from ipython_roles.curve_keys import controller_keys  # noqa: E402

KEY = "bench-cluster-key-0123456789abcdef"


def _registered(client_file: Path, engines: int) -> bool:
    client = ipyparallel.Client(str(client_file), timeout=5)
    try:
        return len(client.ids) >= engines
    finally:
        client.close()


def _throughput(client_file: Path, tasks: int) -> float:
    client = ipyparallel.Client(str(client_file), timeout=10)
    try:
        view = client.load_balanced_view()
        view.apply_sync(int)  # warm: the first task pays for set-up on an engine
        started = time.perf_counter()
        # int() -> 0: a builtin, so the task is as tiny as a task gets and needs no import on the engine
        results = [view.apply_async(int) for _ in range(tasks)]
        client.wait(results, timeout=300)
        elapsed = time.perf_counter() - started
        assert all(result.get() == 0 for result in results)
        return tasks / elapsed
    finally:
        client.close()


def _measure(processes, client_file: Path, engines: int, started: float, tasks: int) -> tuple[float, float]:
    with running(*processes):
        wait_until(lambda: client_file.exists() and _registered(client_file, engines), 180, f"{engines} engines", 0.05)
        ready = time.perf_counter() - started
        return ready, _throughput(client_file, tasks)


def ours(work: Path, engines: int, tasks: int) -> tuple[float, float]:
    root = Path(tempfile.mkdtemp(dir=work))
    first_port = free_port_block()
    common = {
        "IPYTHON_CLUSTER_LABEL": "bench",
        "IPYTHON_CLUSTER_KEY": KEY,
        "IPYTHON_CONTROLLER_HOST": "127.0.0.1",
        "IPYTHON_CONTROLLER_PORT": str(first_port),
    }
    # as a viewer computes it: the controller's CurveZMQ public key derives from the cluster key
    server_key = controller_keys(KEY).public.decode("ascii")
    client_file = write_client_file(root / "client", "127.0.0.1", first_port, KEY, server_key)
    command = [str(BIN / "python"), str(ENTRYPOINT)]
    started = time.perf_counter()
    processes = [start(command, clean_environment(root / "controller", IPYTHON_CONTAINER_TYPE="controller", **common),
                       root / "controller.log")]
    processes += [
        start(command, clean_environment(root / f"engine{n}", IPYTHON_CONTAINER_TYPE="engine", **common),
              root / f"engine{n}.log")
        for n in range(engines)
    ]
    return _measure(processes, client_file, engines, started, tasks)


def baseline(work: Path, engines: int, tasks: int) -> tuple[float, float]:
    root = Path(tempfile.mkdtemp(dir=work))
    profile = root / "profile"
    client_file = profile / "security" / "ipcontroller-client.json"
    command = [str(BIN / "ipcluster"), "start", f"--n={engines}", f"--profile-dir={profile}", "--daemonize=False"]
    started = time.perf_counter()
    process = start(command, clean_environment(root / "home"), root / "ipcluster.log")
    return _measure([process], client_file, engines, started, tasks)


def run(runs: int, work: Path, engines: int = 4, tasks: int = 2000) -> tuple[Comparison, Comparison]:
    ready = Comparison(
        name="cluster_ready",
        what=f"controller plus {engines} engines: start to all registered",
        unit="s",
        baseline_name=f"`ipcluster start -n {engines}`",
        goal="<= 1.0",
    )
    throughput = Comparison(
        name="throughput",
        what=f"{tasks} tiny tasks through a load-balanced view, {engines} engines",
        unit="tasks/s",
        baseline_name="ipyparallel's default configuration (`ipcluster`)",
        goal=">= 1.0",
        better="higher",
    )
    for index in range(runs):
        sides = [(ours, ready.ours, throughput.ours), (baseline, ready.baseline, throughput.baseline)]
        if index % 2:
            sides.reverse()
        for measure, ready_sink, throughput_sink in sides:
            seconds_to_ready, tasks_per_second = measure(work, engines, tasks)
            ready_sink.append(seconds_to_ready)
            throughput_sink.append(tasks_per_second)
    return ready, throughput


__all__ = ["run", "seconds"]
