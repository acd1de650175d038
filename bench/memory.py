"""7. Controller memory: 100,000 tiny tasks, ours against ipyparallel's defaults (``ipcluster``).

Each run starts a controller and two engines, pushes 100,000 tiny tasks (``apply_async(int)``,
as the throughput comparison does) through a load-balanced view, either in one burst or in
bursts of 20,000 (each burst waits for the previous one to finish), and samples the
controller's memory: the PSS (``/proc/<pid>/smaps_rollup``) of the controller process and every
process it forked (ipyparallel's defaults run the schedulers as processes of their own; ours
runs them as threads next to a forked heart monitor) each time another 10,000 tasks have
finished, and its peak, sampled every quarter second.

Three figures come out of it:

* ``memory_per_task`` / ``memory_per_task_burst``: how much the controller keeps per task once
  it is warm, in KiB per task: the slope of a least-squares line through the samples from
  30,000 tasks on (past the records' bound, 16,384 records, and the windows of finished ids,
  32,768). Goal: 1 KiB per task at most;
* ``memory_burst_peak``: the controller's peak during the one burst of 100,000. Ours runs in a
  memory cgroup limited to 1 GiB where this machine lets us make one (as the controller's
  container would be: task_records sizes itself from that limit), so "met" means it finished
  inside 1 GiB; ipyparallel's defaults run without a limit (in 1 GiB they would be killed).

The samples themselves go to bench/results.json (``series``: [tasks, MiB] of the controller;
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


def tree_pss(pid: int) -> int:
    """PSS in bytes of ``pid`` and all its descendants (0 once it is gone)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError), open(f"/proc/{current}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
        todo += _children(current)
    return total


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline") as source:
            return source.read().replace("\0", " ")
    except OSError:
        return ""


def _descendant_running(pid: int, text: str) -> int | None:
    todo = [pid]
    while todo:
        current = todo.pop()
        if text in _cmdline(current):
            return current
        todo += _children(current)
    return None


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

def _sample_others(run: Run, tasks: int, engine_pids) -> None:
    run.others.append((tasks, sum(tree_pss(pid) for pid in engine_pids()), tree_pss(os.getpid())))


def _sampler(run: Run, pid_of, engine_pids, progress, step: int, stop_event: threading.Event) -> None:
    mark = step
    while not stop_event.is_set():
        pid = pid_of()
        pss = tree_pss(pid) if pid else 0
        if not pss:
            run.died = True
            return
        run.peak = max(run.peak, pss)
        done = progress()
        while done >= mark:
            run.samples.append((mark, pss))
            _sample_others(run, mark, engine_pids)
            mark += step
        stop_event.wait(SAMPLE_SECONDS)


def drive(client_file: Path, pid_of, alive, engine_pids, *, tasks: int, burst: int, step: int) -> Run:
    """Push ``tasks`` tiny tasks in bursts of ``burst``, sampling the controller (``pid_of()``),
    and the engines (``engine_pids()``) and this process alongside."""
    run = Run()
    client = ipyparallel.Client(str(client_file), timeout=30)
    try:
        view = client.load_balanced_view()
        view.apply_sync(int)  # warm: the first task pays for set-up on an engine
        time.sleep(1)
        run.samples.append((0, tree_pss(pid_of())))
        _sample_others(run, 0, engine_pids)
        submitted = 0

        def progress() -> int:
            return submitted - len(client.outstanding)

        stop_event = threading.Event()
        sampler = threading.Thread(target=_sampler, args=(run, pid_of, engine_pids, progress, step, stop_event),
                                   daemon=True)
        sampler.start()
        try:
            while submitted < tasks and not run.died:
                count = min(burst, tasks - submitted)
                for _ in range(count):
                    view.apply_async(int)  # dropped: the client keeps nothing per finished task
                submitted += count
                while client.outstanding and not run.died and alive():
                    client.wait(timeout=1)
                if not alive():
                    run.died = True
        finally:
            stop_event.set()
            sampler.join()
        if not run.died:
            time.sleep(1)
            if not run.samples or run.samples[-1][0] != tasks:
                run.samples.append((tasks, tree_pss(pid_of())))
                _sample_others(run, tasks, engine_pids)
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


def _registered(client_file: Path, engines: int) -> bool:
    client = ipyparallel.Client(str(client_file), timeout=5)
    try:
        return len(client.ids) >= engines
    finally:
        client.close()


def ours(work: Path, *, tasks: int, burst: int, step: int, limit: int | None) -> Run:
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
    processes = []
    try:
        controller = _start_in(command, clean_environment(root / "controller", IPYTHON_CONTAINER_TYPE="controller",
                                                         **common), root / "controller.log", cgroup)
        processes.append(controller)
        processes += [
            start(command, clean_environment(root / f"engine{n}", IPYTHON_CONTAINER_TYPE="engine", **common),
                  root / f"engine{n}.log")
            for n in range(ENGINES)
        ]
        wait_until(lambda: client_file.exists() and _registered(client_file, ENGINES), 180, f"{ENGINES} engines", 0.2)
        return drive(client_file, lambda: controller.pid if controller.poll() is None else None,
                     lambda: controller.poll() is None, lambda: [process.pid for process in processes[1:]],
                     tasks=tasks, burst=burst, step=step)
    finally:
        stop(*processes)
        if cgroup is not None:
            cgroup.remove()


def baseline(work: Path, *, tasks: int, burst: int, step: int, limit: int | None = None) -> Run:
    root = Path(tempfile.mkdtemp(dir=work))
    profile = root / "profile"
    client_file = profile / "security" / "ipcontroller-client.json"
    command = [str(BIN / "ipcluster"), "start", f"--n={ENGINES}", f"--profile-dir={profile}", "--daemonize=False"]
    process = start(command, clean_environment(root / "home"), root / "ipcluster.log")
    try:
        wait_until(lambda: client_file.exists() and _registered(client_file, ENGINES), 180, f"{ENGINES} engines", 0.2)
        controller = wait_until(lambda: _descendant_running(process.pid, "ipyparallel.controller"), 30, "ipcontroller")

        def pid_of() -> int | None:
            return controller if _cmdline(controller) else None

        engines = [pid for pid in _all_descendants(process.pid) if "ipyparallel.engine" in _cmdline(pid)]
        return drive(client_file, pid_of, lambda: bool(_cmdline(controller)), lambda: engines,
                     tasks=tasks, burst=burst, step=step)
    finally:
        stop(process)


def _all_descendants(pid: int) -> list[int]:
    found, todo = [], _children(pid)
    while todo:
        current = todo.pop()
        found.append(current)
        todo += _children(current)
    return found


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
        baseline_name="ipyparallel's default configuration (`ipcluster`)",
        goal="<= 1.0 KiB",
    )
    per_task_burst = MemoryComparison(
        name="memory_per_task_burst",
        what=f"controller memory kept per task, {tasks:,} tiny tasks in one burst (KiB/task after {warm:,})",
        unit="KiB",
        baseline_name="ipyparallel's default configuration (`ipcluster`)",
        goal="<= 1.0 KiB",
    )
    peak = MemoryComparison(
        name="memory_burst_peak",
        what=f"controller peak memory (PSS) during one burst of {tasks:,} tiny tasks"
             + (", ours in a 1 GiB memory cgroup" if limited else ""),
        unit="MiB",
        baseline_name="ipyparallel's default configuration (`ipcluster`), no limit",
        goal="< 1024 MiB",
    )
    for comparison in (per_task, per_task_burst, peak):
        comparison.series = {"ours": [], "baseline": [], "ours_died": [], "baseline_died": [],
                             "ours_engines_and_client": [], "baseline_engines_and_client": []}
    variants = [(per_task, burst), (per_task_burst, tasks)]
    if quick:
        variants = variants[:1]  # one quick run per side: both figures come from it
    for index in range(min(runs, MAX_RUNS)):
        for number, (comparison, burst_size) in enumerate(variants):
            sides = [("ours", ours, comparison.ours), ("baseline", baseline, comparison.baseline)]
            if (index + number) % 2:
                sides.reverse()
            for side, measure, sink in sides:
                print(f"bench: memory: {side}, {tasks} tasks in bursts of {burst_size}", file=sys.stderr, flush=True)
                result = measure(work, tasks=tasks, burst=burst_size, step=step,
                                 limit=LIMIT if side == "ours" and limited and burst_size == tasks else None)
                sink.append(result.per_task_kib(warm))
                comparison.series[side].append(result.series())
                comparison.series[f"{side}_died"].append(result.died)
                comparison.series[f"{side}_engines_and_client"].append(result.others_series())
                if burst_size == tasks or quick:
                    (peak.ours if side == "ours" else peak.baseline).append(result.peak / MIB)
                    peak.series[side].append(result.series())
                    peak.series[f"{side}_died"].append(result.died)
    if quick:
        per_task_burst.ours, per_task_burst.baseline = list(per_task.ours), list(per_task.baseline)
        per_task_burst.series = per_task.series
    return [per_task, per_task_burst, peak]


__all__ = ["MemoryCgroup", "run", "tree_pss"]
