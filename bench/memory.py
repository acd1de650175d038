"""7. Controller memory: 100,000 tiny tasks, ours against ipyparallel's defaults.

Each run starts a controller and two engines and pushes 100,000 tiny tasks (``apply_async(int)``,
as the throughput comparison does) through a load-balanced view, in one of two ways:

* in bursts of 20,000, each sent once the previous one has finished;
* in one burst: all 100,000 are sent before the engines start, so that the controller gets
  every task at once (with running engines the client's sending, not much faster than two
  engines' running, would spread them out).

It samples the controller's memory: the PSS (``/proc/<pid>/smaps_rollup``) of the controller
process and every process it forked (ipyparallel's defaults run the schedulers as processes of
their own; ours runs them as threads next to a forked heart monitor) each time another 10,000
tasks have finished, and its peak, sampled every quarter second. Ours is ``image/entrypoint.py``
in the controller and engine roles; the baseline is ``ipcontroller`` and two ``ipengine`` with
ipyparallel's defaults, as ``ipcluster start`` runs them.

Two figures come out of it:

* ``memory_per_task`` (the bursts): how much the controller keeps per task once warm, in KiB
  per task: the slope of a least-squares line through the samples from 30,000 tasks on (past
  the records' bound, 16,384 records, and the windows of finished ids, 32,768). Goal: 1 KiB
  per task at most;
* ``memory_burst_peak`` (the one burst): the controller's peak. Ours runs in a memory cgroup
  limited to 1 GiB where this machine lets us make one (as the controller's container would be:
  task_records sizes itself from that limit), so "met" means it finished inside 1 GiB; the
  baseline runs without a limit.

The samples go to bench/results.json (``series``: [tasks, MiB] of the controller, per run;
``*_engines_and_client``: [tasks, MiB of both engines, MiB of the client]). The client is this
process; it keeps no AsyncResult, so that its own memory does not grow with the tasks either.
Memory figures depend on the workload, not on the machine's load, and a run takes minutes:
each side runs :data:`MAX_RUNS` time(s) whatever ``--runs`` says.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import ipyparallel

from tests.roles.processes import wait_until

from .processes import BIN, ENTRYPOINT, clean_environment, free_port_block, start, stop
from .timing import Comparison

sys.path.insert(0, str(ENTRYPOINT.parent))
from ipython_roles.connection_info import write_client_file  # noqa: E402
from ipython_roles.curve_keys import controller_keys  # noqa: E402

KEY = "bench-memory-key-0123456789abcdef"
ENGINES = 2
TASKS = 100_000
BURST = 20_000
STEP = 10_000
#: Samples from this many tasks on make the slope (see the module docstring).
WARM = 30_000
#: --quick: figures from the start (the records are far from their bound), so that both are positive
QUICK = {"tasks": 2_000, "burst": 1_000, "step": 250, "warm": 0}
LIMIT = 1024**3
MAX_RUNS = 1
SAMPLE_SECONDS = 0.25
MIB = 2**20


@dataclass
class Run:
    """One side's run: PSS samples (tasks finished, bytes), the peak, and whether it survived."""

    samples: list[tuple[int, int]] = field(default_factory=list)
    peak: int = 0
    died: bool = False
    #: (tasks finished, PSS of all engines together, PSS of this process, the client) at each sample
    others: list[tuple[int, int, int]] = field(default_factory=list)

    def per_task_kib(self, warm: int) -> float:
        """The slope of the least-squares line through the samples from ``warm`` tasks on, KiB/task."""
        points = [(tasks, pss) for tasks, pss in self.samples if tasks >= warm] or self.samples[-2:]
        if len(points) < 2:
            return 0.0
        mean_x = sum(x for x, _ in points) / len(points)
        mean_y = sum(y for _, y in points) / len(points)
        spread = sum((x - mean_x) ** 2 for x, _ in points)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0
        return slope / 1024

    def series(self) -> list[list[float]]:
        return [[tasks, round(pss / MIB, 1)] for tasks, pss in self.samples]

    def others_series(self) -> list[list[float]]:
        return [[tasks, round(engines / MIB, 1), round(client / MIB, 1)] for tasks, engines, client in self.others]


# processes and their memory -----------------------------------------------------------------

def _children(pid: int) -> list[int]:
    found = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as children:
                found += [int(child) for child in children.read().split()]
    return found


def process_pss(pid: int) -> int:
    """PSS in bytes of ``pid`` alone (0 once it is gone)."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def tree_pss(pid: int) -> int:
    """PSS in bytes of ``pid`` and all its descendants (0 once it is gone)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += process_pss(current)
        todo += _children(current)
    return total


class MemoryCgroup:
    """A memory cgroup with a limit, made next to this process's own (cgroup v2 or v1), for a
    child process to enter before it execs; :attr:`path` is None where none can be made."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.path: Path | None = None
        self.procs: Path | None = None
        self.version = None
        with contextlib.suppress(OSError):
            self._make()

    def _make(self) -> None:
        name = f"ipython-bench-{uuid.uuid4().hex[:8]}"
        own = {}
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            number, _, rest = line.partition(":")
            controllers, _, path = rest.partition(":")
            own["v2" if number == "0" and not controllers else ",".join(sorted(controllers.split(",")))] = path
        v1 = next((path for controllers, path in own.items() if "memory" in controllers.split(",")), None)
        if v1 is not None and Path("/sys/fs/cgroup/memory").is_dir():
            folder = Path("/sys/fs/cgroup/memory") / v1.lstrip("/") / name
            folder.mkdir()
            self.path, self.version = folder, 1
            (folder / "memory.limit_in_bytes").write_text(str(self.limit))
        elif "v2" in own and Path("/sys/fs/cgroup/cgroup.controllers").exists():
            folder = Path("/sys/fs/cgroup") / own["v2"].lstrip("/") / name
            folder.mkdir()
            self.path, self.version = folder, 2
            (folder / "memory.max").write_text(str(self.limit))
        else:
            return
        self.procs = self.path / "cgroup.procs"

    def enter(self) -> None:
        """In the child, before exec: move this process into the cgroup."""
        if self.procs is not None:
            with open(self.procs, "w") as procs:
                procs.write(str(os.getpid()))

    def remove(self) -> None:
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.rmdir()


# the workload -------------------------------------------------------------------------------

class Side:
    """A controller and its engines as processes: what ``drive`` needs to know of either side."""

    def __init__(self, client_file: Path, controller: subprocess.Popen, start_engine) -> None:
        self.client_file = client_file
        self.controller = controller
        self._start_engine = start_engine
        self.engines: list[subprocess.Popen] = []

    def start_engines(self) -> None:
        self.engines += [self._start_engine(n) for n in range(ENGINES)]

    def alive(self) -> bool:
        return self.controller.poll() is None

    def pid(self) -> int | None:
        return self.controller.pid if self.alive() else None

    def engine_pids(self) -> list[int]:
        return [engine.pid for engine in self.engines]

    def processes(self) -> list[subprocess.Popen]:
        return [self.controller, *self.engines]


def _sample_others(run: Run, tasks: int, side: Side) -> None:
    # the client is this process alone: its descendants are the controller and the engines
    run.others.append((tasks, sum(tree_pss(pid) for pid in side.engine_pids()), process_pss(os.getpid())))


def _sampler(run: Run, side: Side, progress, step: int, stop_event: threading.Event) -> None:
    mark = step
    while not stop_event.is_set():
        pid = side.pid()
        pss = tree_pss(pid) if pid else 0
        if not pss:
            run.died = True
            return
        run.peak = max(run.peak, pss)
        done = progress()
        while done >= mark:
            run.samples.append((mark, pss))
            _sample_others(run, mark, side)
            mark += step
        stop_event.wait(SAMPLE_SECONDS)


def _client(client_file: Path, engines: int) -> list[ipyparallel.Client] | None:
    """[a client] once the controller answers with ``engines`` registered (in a list: a client
    without engines is falsy), else None."""
    if not client_file.exists():
        return None
    client = ipyparallel.Client(str(client_file), timeout=5)
    if len(client.ids) >= engines:
        return [client]
    client.close()
    return None


def drive(side: Side, *, tasks: int, burst: int, step: int) -> Run:
    """Push ``tasks`` tiny tasks in bursts of ``burst``, sampling the controller, the engines and
    this process. One burst of all the tasks is sent before the engines start, so that the
    controller gets every task at once (the client sends faster than two engines run tasks, but
    not that much faster); bursts are sent to running engines, each after the previous finished."""
    run = Run()
    at_once = burst >= tasks
    if not at_once:
        side.start_engines()
    [client] = wait_until(lambda: _client(side.client_file, 0 if at_once else ENGINES), 180,
                          "the controller and its engines", 0.2)
    try:
        view = client.load_balanced_view()
        if not at_once:
            view.apply_sync(int)  # warm: the first task pays for set-up on an engine
        time.sleep(1)
        run.samples.append((0, tree_pss(side.pid())))
        _sample_others(run, 0, side)
        submitted = [0]

        def progress() -> int:
            return submitted[0] - len(client.outstanding)

        stop_event = threading.Event()
        sampler = threading.Thread(target=_sampler, args=(run, side, progress, step, stop_event), daemon=True)
        sampler.start()
        try:
            while submitted[0] < tasks and not run.died:
                for _ in range(min(burst, tasks - submitted[0])):
                    view.apply_async(int)  # dropped: the client keeps nothing per finished task
                    submitted[0] += 1
                if at_once:
                    time.sleep(5)  # the client's queue reaches the controller
                    side.start_engines()
                while client.outstanding and not run.died and side.alive():
                    client.wait(timeout=1)
                if not side.alive():
                    run.died = True
        finally:
            stop_event.set()
            sampler.join()
        if not run.died:
            time.sleep(1)
            if not run.samples or run.samples[-1][0] != tasks:
                run.samples.append((tasks, tree_pss(side.pid())))
                _sample_others(run, tasks, side)
        client.history.clear()
    finally:
        client.close()
    return run


# the two sides ------------------------------------------------------------------------------

def _start_in(command: list[str], environ: dict[str, str], log: Path, cgroup: MemoryCgroup | None) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as sink:
        return subprocess.Popen(
            command, env=environ, cwd=environ["HOME"], stdin=subprocess.DEVNULL, stdout=sink,
            stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=cgroup.enter if cgroup is not None and cgroup.path is not None else None,
        )


def ours(work: Path, *, tasks: int, burst: int, step: int, limit: int | None) -> Run:
    """The image's entrypoint in the controller and engine roles, wired by environment variables."""
    root = Path(tempfile.mkdtemp(dir=work))
    first_port = free_port_block()
    common = {
        "IPYTHON_CLUSTER_LABEL": "bench",
        "IPYTHON_CLUSTER_KEY": KEY,
        "IPYTHON_CONTROLLER_HOST": "127.0.0.1",
        "IPYTHON_CONTROLLER_PORT": str(first_port),
    }
    client_file = write_client_file(root / "client", "127.0.0.1", first_port, KEY,
                                    controller_keys(KEY).public.decode("ascii"))
    command = [str(BIN / "python"), str(ENTRYPOINT)]
    cgroup = MemoryCgroup(limit) if limit else None
    controller = _start_in(command, clean_environment(root / "controller", IPYTHON_CONTAINER_TYPE="controller",
                                                     **common), root / "controller.log", cgroup)

    def engine(number: int) -> subprocess.Popen:
        return start(command, clean_environment(root / f"engine{number}", IPYTHON_CONTAINER_TYPE="engine", **common),
                     root / f"engine{number}.log")

    side = Side(client_file, controller, engine)
    try:
        return drive(side, tasks=tasks, burst=burst, step=step)
    finally:
        stop(*side.processes())
        if cgroup is not None:
            cgroup.remove()


def baseline(work: Path, *, tasks: int, burst: int, step: int, limit: int | None = None) -> Run:
    """``ipcontroller`` and ``ipengine`` with ipyparallel's defaults, as ``ipcluster start`` runs them."""
    root = Path(tempfile.mkdtemp(dir=work))
    profile = root / "profile"
    client_file = profile / "security" / "ipcontroller-client.json"
    environ = clean_environment(root / "home")
    controller = start([str(BIN / "ipcontroller"), f"--profile-dir={profile}"], environ, root / "controller.log")

    def engine(number: int) -> subprocess.Popen:
        wait_until(client_file.exists, 60, "the controller's connection file", 0.1)
        return start([str(BIN / "ipengine"), f"--profile-dir={profile}"], environ, root / f"engine{number}.log")

    side = Side(client_file, controller, engine)
    try:
        return drive(side, tasks=tasks, burst=burst, step=step)
    finally:
        stop(*side.processes())


def _cgroups_possible() -> bool:
    probe = MemoryCgroup(LIMIT)
    probe.remove()
    return probe.path is not None


# the comparisons ----------------------------------------------------------------------------

@dataclass
class MemoryComparison(Comparison):
    """A Comparison that also keeps each side's samples (tasks finished, MiB) for results.json."""

    series: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "series": self.series}


def run(runs: int, work: Path, quick: bool = False) -> list[Comparison]:
    sizes = QUICK if quick else {"tasks": TASKS, "burst": BURST, "step": STEP, "warm": WARM}
    tasks, burst, step, warm = sizes["tasks"], sizes["burst"], sizes["step"], sizes["warm"]
    limited = not quick and _cgroups_possible()
    per_task = MemoryComparison(
        name="memory_per_task",
        what=f"controller memory kept per task, {tasks:,} tiny tasks in bursts of {burst:,} (KiB/task after {warm:,})",
        unit="KiB",
        baseline_name="ipyparallel's defaults (`ipcontroller`, `ipengine`)",
        goal="<= 1.0 KiB",
    )
    peak = MemoryComparison(
        name="memory_burst_peak",
        what=f"controller peak memory (PSS), {tasks:,} tiny tasks in one burst"
             + (" (ours in a 1 GiB memory cgroup)" if limited else ""),
        unit="MiB",
        baseline_name="ipyparallel's defaults, no limit",
        goal="< 1024 MiB",
    )
    for comparison in (per_task, peak):
        comparison.series = {"ours": [], "baseline": [], "ours_died": [], "baseline_died": [],
                             "ours_engines_and_client": [], "baseline_engines_and_client": []}
    # (comparison, burst size, what it records); --quick: one run per side, both figures from it
    variants = [(per_task, burst), (peak, tasks)] if not quick else [(per_task, burst)]
    for index in range(min(runs, MAX_RUNS)):
        for number, (comparison, burst_size) in enumerate(variants):
            sides = [("ours", ours), ("baseline", baseline)]
            if (index + number) % 2:
                sides.reverse()
            for side, measure in sides:
                print(f"bench: memory: {side}, {tasks} tasks in bursts of {burst_size}", file=sys.stderr, flush=True)
                result = measure(work, tasks=tasks, burst=burst_size, step=step,
                                 limit=LIMIT if side == "ours" and limited and comparison is peak else None)
                comparison.series[side].append(result.series())
                comparison.series[f"{side}_died"].append(result.died)
                comparison.series[f"{side}_engines_and_client"].append(result.others_series())
                if comparison is per_task:
                    (per_task.ours if side == "ours" else per_task.baseline).append(result.per_task_kib(warm))
                if comparison is peak or quick:
                    (peak.ours if side == "ours" else peak.baseline).append(result.peak / MIB)
    if quick:
        peak.series = per_task.series
    return [per_task, peak]


__all__ = ["MemoryCgroup", "run", "tree_pss"]
