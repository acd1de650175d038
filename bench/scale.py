"""Scale: a controller and 64 engines, ours against ``ipcluster start -n 64``.

Each run starts one cluster of N engines (processes: the image's entrypoint in the controller
and engine roles, wired only by environment variables as in pods; the baseline is ipyparallel's
own ``ipcluster start -n N``), and on it, in order:

1. times process start to all N engines registered (one client, connected as soon as the
   controller answers, counting the engines it is told about);
2. leaves the cluster idle for ``IDLE_WINDOW_SECONDS``: the controller's CPU is then the
   heartbeats' alone (ours beat every second, ipyparallel's every 3 s);
3. pushes 2,000 tiny tasks (``int()``) through a load-balanced view: tasks per second;
4. runs N one-second tasks (``time.sleep(1)``) through a load-balanced view: the ideal is
   1 s x N / N engines = 1 s, reported as ideal / measured (1.0 = no overhead at all).

Throughout, it reads the controller's processes (ours: the controller and its forked heart
monitor; the baseline: ipcontroller and the schedulers and heart monitor it forks, not
ipcluster): CPU seconds (to ready, idle per second, for the tiny tasks, and from start to the end
of 4.), memory as PSS (``/proc/<pid>/smaps_rollup``: idle, and the peak of samples every 0.5 s),
and open file descriptors (RLIMIT_NOFILE is per process: the busiest process counts).

The comparisons (``pipenv run bench --only scale``) are medians, ours and the baseline
alternating, as elsewhere in bench/; ``--quick`` runs 8 engines and 200 tasks.
``python -m bench.scale --sizing 8,16,32,64`` measures one side at each engine count and prints
the sizing table: the controller's CPU and memory against the number of engines.

Everything runs on this machine: the engines' start-up (two Python processes each: for ours the
supervisor, which is also the nanny, and ipengine; for ipcluster's ipengine and its nanny)
competes with the controller for the same two cores, which a cluster whose engines have nodes of
their own does not do.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ipyparallel
import psutil

from .processes import BIN, ENTRYPOINT, clean_environment, free_port_block, running, start
from .timing import Comparison

sys.path.insert(0, str(ENTRYPOINT.parent))
from ipython_roles.connection_info import write_client_file  # noqa: E402
from ipython_roles.curve_keys import controller_keys  # noqa: E402

KEY = "bench-scale-key-0123456789abcdef"
#: Start to all registered: generous, since on two loaded cores 64 engines take a while.
READY_TIMEOUT_SECONDS = 600
#: The idle window in which the controller's CPU is the heartbeats' alone (``--quick``: 3 s, one of
#: ipyparallel's heartbeat periods).
IDLE_WINDOW_SECONDS = 10
POLL_SECONDS = 0.1


# -- reading processes -------------------------------------------------------------------------

def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def pss_mib(pid: int) -> float:
    """Proportional set size of one process, MiB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0.0


def tree_pss_mib(pid: int) -> float:
    return sum(pss_mib(process.pid) for process in _tree(pid))


def tree_cpu_seconds(pid: int) -> float:
    total = 0.0
    for process in _tree(pid):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def tree_cpu_nanoseconds(pid: int) -> int:
    """On-CPU time of the live threads of the tree (``/proc/<pid>/task/<tid>/schedstat``, in
    nanoseconds, where ``cpu_times`` counts 10 ms ticks): for short windows, such as the idle one."""
    total = 0
    for process in _tree(pid):
        try:
            for tid in os.listdir(f"/proc/{process.pid}/task"):
                with open(f"/proc/{process.pid}/task/{tid}/schedstat") as stat:
                    total += int(stat.read().split()[0])
        except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
            continue
    return total


def tree_fds(pid: int) -> tuple[int, int]:
    """Open file descriptors of the tree, and of its process with the most (the limit is per process)."""
    counts = []
    for process in _tree(pid):
        try:
            counts.append(process.num_fds())
        except psutil.NoSuchProcess:
            continue
    return sum(counts), max(counts, default=0)


# -- one cluster -------------------------------------------------------------------------------

@dataclass
class Cluster:
    """The processes of one cluster, how to find its controller, and the client file."""

    processes: list[subprocess.Popen]
    client_file: Path
    controller_pid: Callable[[], int | None]  # the controller's root process (None until it runs)
    engine_pids: Callable[[], list[int]]  # the root of each engine's processes
    started: float  # perf_counter() when the first process was started
    logs: list[Path] = field(default_factory=list)  # every process's output, the controller's among them


@dataclass
class Figures:
    ready: float = 0.0
    tiny_tasks_per_second: float = 0.0
    sleep_efficiency: float = 0.0  # ideal (1 s) / measured
    sleep_seconds: float = 0.0
    controller_cpu: float = 0.0  # CPU s, process start to the end of both workloads
    controller_cpu_ready: float = 0.0  # CPU s, process start to all engines registered
    controller_cpu_tasks: float = 0.0  # CPU s for the tiny tasks
    controller_idle_cpu_ms: float = 0.0  # CPU ms per second, idle with all engines registered
    controller_pss_peak: float = 0.0  # MiB
    controller_pss_idle: float = 0.0  # MiB, all engines registered, before any task
    controller_fds: int = 0  # all its processes, idle with all engines registered
    controller_fds_process: int = 0  # its process with the most (RLIMIT_NOFILE is per process)
    engine_pss_each: float = 0.0  # MiB, one engine's processes
    # what went wrong on the way, counted in the logs (see engine: what breaks first at scale)
    registration_timeouts: int = 0  # ipengines that got no registration reply in time (IPEngine.timeout)
    purged_registrations: int = 0  # registrations the hub dropped: no heartbeat within registration_timeout
    timeline: list = field(default_factory=list)  # (seconds since start, engines registered)


def _connect(client_file: Path, deadline: float) -> ipyparallel.Client:
    last: Exception | None = None
    while time.monotonic() < deadline:
        if client_file.exists():
            try:
                return ipyparallel.Client(str(client_file), timeout=5)
            except Exception as error:  # noqa: BLE001 - the controller is not answering yet
                last = error
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"no controller answered through {client_file}: {last!r}")


def _wait_registered(client: ipyparallel.Client, engines: int, cluster: Cluster, figures: Figures) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    seen = -1
    while True:
        count = len(client.ids)
        now = time.perf_counter() - cluster.started
        if count != seen:
            figures.timeline.append((round(now, 2), count))
            seen = count
        if count >= engines:
            figures.ready = now
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} of {engines} engines registered after {READY_TIMEOUT_SECONDS} s")
        time.sleep(POLL_SECONDS)


def _sample(cluster: Cluster, figures: Figures) -> None:
    pid = cluster.controller_pid()
    if pid is not None:
        figures.controller_pss_peak = max(figures.controller_pss_peak, tree_pss_mib(pid))


class _Sampler(threading.Thread):
    """The controller's PSS every half second while a phase runs (its peak is between phases)."""

    def __init__(self, cluster: Cluster, figures: Figures):
        super().__init__(daemon=True)
        self.cluster, self.figures, self.done = cluster, figures, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            _sample(self.cluster, self.figures)


def _measure(cluster: Cluster, engines: int, tasks: int, idle_window: float = IDLE_WINDOW_SECONDS) -> Figures:
    figures = Figures()
    sampler = _Sampler(cluster, figures)
    sampler.start()
    try:
        client = _connect(cluster.client_file, time.monotonic() + READY_TIMEOUT_SECONDS)
        try:
            _wait_registered(client, engines, cluster, figures)
            controller = cluster.controller_pid()
            assert controller is not None, "the engines registered with a controller that is not running"
            figures.controller_cpu_ready = tree_cpu_seconds(controller)
            # idle: the heartbeats of N engines and nothing else
            time.sleep(1)
            idle_before, idle_started = tree_cpu_nanoseconds(controller), time.perf_counter()
            time.sleep(idle_window)
            figures.controller_idle_cpu_ms = ((tree_cpu_nanoseconds(controller) - idle_before) / 1e6
                                              / (time.perf_counter() - idle_started))
            figures.controller_pss_idle = tree_pss_mib(controller)
            figures.controller_fds, figures.controller_fds_process = tree_fds(controller)
            engine_roots = cluster.engine_pids()
            figures.engine_pss_each = sum(tree_pss_mib(pid) for pid in engine_roots) / max(1, len(engine_roots))

            view = client.load_balanced_view()
            client[:].apply_sync(int)  # warm every engine: its first task pays for set-up
            cpu_before = tree_cpu_seconds(controller)
            started = time.perf_counter()
            results = [view.apply_async(int) for _ in range(tasks)]  # int() -> 0: the tiniest task
            client.wait(results, timeout=600)
            figures.tiny_tasks_per_second = tasks / (time.perf_counter() - started)
            figures.controller_cpu_tasks = tree_cpu_seconds(controller) - cpu_before
            assert all(result.get() == 0 for result in results)

            started = time.perf_counter()
            results = [view.apply_async(time.sleep, 1) for _ in range(engines)]
            client.wait(results, timeout=600)
            figures.sleep_seconds = time.perf_counter() - started
            for result in results:
                result.get()
            figures.sleep_efficiency = (1.0 * engines / engines) / figures.sleep_seconds
            _sample(cluster, figures)
            figures.controller_cpu = tree_cpu_seconds(controller)
        finally:
            client.close()
    finally:
        sampler.done.set()
        sampler.join()
    return figures


def _count_in_logs(cluster: Cluster, figures: Figures) -> None:
    for log in cluster.logs:
        text = log.read_text(errors="replace") if log.exists() else ""
        figures.registration_timeouts += text.count("Registration timed out")
        figures.purged_registrations += text.count("purging stalled registration")


def _ours(work: Path, engines: int, tasks: int, idle_window: float = IDLE_WINDOW_SECONDS) -> Figures:
    root = Path(tempfile.mkdtemp(dir=work))
    first_port = free_port_block()
    common = {
        "IPYTHON_CLUSTER_LABEL": "bench",
        "IPYTHON_CLUSTER_KEY": KEY,
        "IPYTHON_CONTROLLER_HOST": "127.0.0.1",
        "IPYTHON_CONTROLLER_PORT": str(first_port),
    }
    # as a viewer computes it: the controller's CurveZMQ public key derives from the cluster key
    client_file = write_client_file(root / "client", "127.0.0.1", first_port, KEY,
                                    controller_keys(KEY).public.decode("ascii"))
    command = [str(BIN / "python"), str(ENTRYPOINT)]
    started = time.perf_counter()
    controller = start(command, clean_environment(root / "controller", IPYTHON_CONTAINER_TYPE="controller", **common),
                       root / "controller.log")
    engine_processes = [
        start(command, clean_environment(root / f"engine{n}", IPYTHON_CONTAINER_TYPE="engine", **common),
              root / f"engine{n}.log")
        for n in range(engines)
    ]
    cluster = Cluster([controller, *engine_processes], client_file, lambda: controller.pid,
                      lambda: [process.pid for process in engine_processes], started,
                      [root / "controller.log", *(root / f"engine{n}.log" for n in range(engines))])
    with running(*cluster.processes):
        figures = _measure(cluster, engines, tasks, idle_window)
    _count_in_logs(cluster, figures)
    return figures


def _started_with(pid: int, module: str) -> list[int]:
    """Descendants of ``pid`` started as ``python -m module`` (not the children they forked)."""
    found = []
    for process in _tree(pid)[1:]:
        try:
            parent = process.parent()
            if module in process.cmdline() and (parent is None or module not in parent.cmdline()):
                found.append(process.pid)
        except psutil.Error:
            continue
    return found


def _baseline(work: Path, engines: int, tasks: int, idle_window: float = IDLE_WINDOW_SECONDS) -> Figures:
    root = Path(tempfile.mkdtemp(dir=work))
    profile = root / "profile"
    command = [str(BIN / "ipcluster"), "start", f"--n={engines}", f"--profile-dir={profile}", "--daemonize=False"]
    started = time.perf_counter()
    process = start(command, clean_environment(root / "home"), root / "ipcluster.log")

    def controller() -> int | None:
        found = _started_with(process.pid, "ipyparallel.controller")
        return found[0] if found else None

    cluster = Cluster([process], profile / "security" / "ipcontroller-client.json", controller,
                      lambda: _started_with(process.pid, "ipyparallel.engine"), started, [root / "ipcluster.log"])
    with running(process):
        figures = _measure(cluster, engines, tasks, idle_window)
    _count_in_logs(cluster, figures)  # ipcluster's log holds its controller's and engines' output
    return figures


SIDES = {"ours": _ours, "baseline": _baseline}


def run(runs: int, work: Path, engines: int = 64, tasks: int = 2000,
        idle_window: float = IDLE_WINDOW_SECONDS) -> list[Comparison]:
    baseline = f"`ipcluster start -n {engines}`"
    comparisons = {
        "ready": Comparison(
            name="scale_ready", what=f"controller plus {engines} engines (processes): start to all registered",
            unit="s", baseline_name=baseline, goal="<= 1.0"),
        "tiny_tasks_per_second": Comparison(
            name="scale_throughput", what=f"{tasks} tiny tasks through a load-balanced view, {engines} engines",
            unit="tasks/s", baseline_name=baseline, goal=">= 1.0", better="higher"),
        "sleep_efficiency": Comparison(
            name="scale_sleep",
            what=f"{engines} one-second tasks on {engines} engines: ideal (1 s) / measured, 1.0 = no overhead",
            unit="x ideal", baseline_name=baseline, goal=">= 1.0", better="higher"),
        "controller_cpu": Comparison(
            name="scale_controller_cpu",
            what=f"controller CPU, process start to the end of both workloads, {engines} engines",
            unit="CPU s", baseline_name=f"{baseline}'s ipcontroller", goal="<= 1.0"),
        "controller_idle_cpu_ms": Comparison(
            name="scale_controller_idle_cpu",
            what=f"controller CPU while idle with {engines} engines (their heartbeats: ours beat every 1 s, "
                 f"ipyparallel's every 3 s)",
            unit="ms/s", baseline_name=f"{baseline}'s ipcontroller", goal="<= 50 ms"),
        "controller_pss_peak": Comparison(
            name="scale_controller_pss", what=f"controller memory (PSS, peak of samples), {engines} engines",
            unit="MiB", baseline_name=f"{baseline}'s ipcontroller", goal="<= 1.0"),
    }
    for index in range(runs):
        order = ["ours", "baseline"] if index % 2 == 0 else ["baseline", "ours"]
        for side in order:
            figures = SIDES[side](work, engines, tasks, idle_window)
            print(f"bench: scale {side} (load {_load()}): {json.dumps(_rounded(figures))}", file=sys.stderr, flush=True)
            for attribute, comparison in comparisons.items():
                getattr(comparison, side).append(getattr(figures, attribute))
    return list(comparisons.values())


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _rounded(figures: Figures) -> dict:
    return {name: round(value, 3) if isinstance(value, float) else value for name, value in figures.__dict__.items()}


SIZING_COLUMNS = (
    ("engines", "engines"),
    ("ready", "ready (s)"),
    ("controller_cpu_ready", "CPU to ready (s)"),
    ("controller_idle_cpu_ms", "idle CPU (ms/s)"),
    ("controller_cpu_tasks", "CPU, tiny tasks (s)"),
    ("tiny_tasks_per_second", "tiny tasks/s"),
    ("sleep_efficiency", "1 s tasks: ideal/measured"),
    ("controller_pss_idle", "PSS idle (MiB)"),
    ("controller_pss_peak", "PSS peak (MiB)"),
    ("controller_fds_process", "fds (busiest process)"),
    ("engine_pss_each", "PSS per engine (MiB)"),
    ("registration_timeouts", "reply timeouts"),
    ("purged_registrations", "purged"),
    ("load", "load average before / after"),
)


def sizing(counts: list[int], work: Path, tasks: int, side: str = "ours") -> list[dict]:
    """One cluster per engine count (``side`` only), a row per count, printed as they come."""
    rows = []
    for engines in counts:
        load_before = _load()
        figures = SIDES[side](work, engines, tasks)
        row = {"engines": engines, **_rounded(figures), "load": f"{load_before} / {_load()}"}
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


def sizing_table(rows: list[dict]) -> str:
    def cell(value) -> str:
        return f"{value:.3g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(title for _, title in SIZING_COLUMNS) + " |",
             "|" + "---|" * len(SIZING_COLUMNS)]
    lines += ["| " + " | ".join(cell(row[name]) for name, _ in SIZING_COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale",
                                     description="the sizing table: one cluster per engine count, one side")
    parser.add_argument("--sizing", default="8,16,32,64", help="engine counts, comma-separated (default 8,16,32,64)")
    parser.add_argument("--tasks", type=int, default=2000, help="tiny tasks per cluster (default 2000)")
    parser.add_argument("--side", choices=sorted(SIDES), default="ours")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    arguments = parser.parse_args(argv)
    counts = [int(count) for count in arguments.sizing.split(",")]
    with tempfile.TemporaryDirectory(prefix="ipython-bench-scale-") as tmp:
        rows = sizing(counts, Path(tmp), arguments.tasks, arguments.side)
    if arguments.json:
        arguments.json.write_text(json.dumps(rows, indent=2) + "\n")
    print(sizing_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
