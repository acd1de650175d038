"""The controller's per-task bookkeeping is bounded (task_bounds, installed by task_records):
windows of finished ids in the hub and the task scheduler, a limit on the tasks held at once,
quiet culled records. Issue 13.

The structures are tested on their own first; then a real controller and two engines (as
processes, configured small through the controller's profile: 100 records, a window of 60
finished tasks, at most 20 tasks held) show what users rely on still works (dependencies on
recent tasks, get_result, resubmit, queue_status counts), what is given up (a dependency on a
task older than the window fails at once with InvalidDependency), and that a burst over the
limits waits in the client and floods no log."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from pathlib import Path

import ipyparallel
import pytest
from ipyparallel import error

from ipython_roles.connection_info import write_client_file
from ipython_roles.curve_keys import controller_keys
from ipython_roles.task_bounds import CompletedIds, OrderedIds, Summary, WatchedIds

from .conftest import CLUSTER_KEY, cluster_variables
from .processes import RoleProcess, wait_until

RECORD_LIMIT = 100
WINDOW = 60
MAX_HELD = 20
CONTROLLER_CONFIG = f"""
c.TaskRecords.record_limit = {RECORD_LIMIT}
c.TaskRecords.finished_window = {WINDOW}
c.TaskRecords.max_held_tasks = {MAX_HELD}
"""


# --- the structures --------------------------------------------------------------------------


def test_ordered_ids_forget_the_oldest_but_keep_those_still_named():
    added = []
    ids = OrderedIds(on_add=added.append)
    for msg_id in "abcdef":
        ids.add(msg_id)
    ids.add("a")  # already there: neither reordered nor reported again
    assert added == list("abcdef")
    assert ids.forget_oldest(3, keep={"b"}) == ["a", "c", "d"]
    assert ids == {"b", "e", "f"} and list(ids.order) == ["b", "e", "f"]
    assert isinstance(ids, set) and {"b", "x"}.difference(ids) == {"x"}


def test_watched_ids_report_each_new_id_once():
    seen = []
    ids = WatchedIds(["old"], on_add=seen.append)
    for msg_id in ("old", "new", "new"):
        ids.add(msg_id)
    assert seen == ["new"] and ids == {"old", "new"}


def test_completed_ids_count_everything_and_keep_the_recent():
    ids = CompletedIds(["a", "b", "c"], keep=2)
    assert len(ids) == 3 and list(ids) == ["b", "c"]
    ids.append("d")
    ids.trim()
    assert len(ids) == 4 and list(ids) == ["c", "d"]
    ids.keep = 0
    ids.trim()
    assert len(ids) == 4 and list(ids) == []


def test_a_summary_logs_the_first_event_then_counts():
    lines = []
    summary = Summary(lines.append, "{count} of {total}", interval=3600)
    for _ in range(5):
        summary.event()
    assert lines == ["1 of 1"]
    summary.flush()
    summary.flush()
    assert lines == ["1 of 1", "4 of 5"]


# --- a small controller ------------------------------------------------------------------------


class SmallCluster:
    def __init__(self, root: Path, port: int) -> None:
        self.controller = RoleProcess("controller", root, cluster_variables(port, IPYTHON_CONTAINER_TYPE="controller"))
        profile = self.controller.home / ".ipython" / "profile_default"
        profile.mkdir(parents=True)
        (profile / "ipcontroller_config.py").write_text(CONTROLLER_CONFIG)
        self.engines = [
            RoleProcess(
                f"engine-{n}",
                root,
                cluster_variables(port, IPYTHON_CONTAINER_TYPE="engine", IPYTHON_NOTEBOOK_DIR=str(root / f"engine-{n}")),
            )
            for n in (1, 2)
        ]
        self.client_file = write_client_file(
            root / "client", "127.0.0.1", port, CLUSTER_KEY, controller_keys(CLUSTER_KEY).public.decode("ascii")
        )

    def client(self) -> ipyparallel.Client:
        return ipyparallel.Client(str(self.client_file), timeout=30)

    def log(self) -> str:
        return self.controller.log()


@pytest.fixture(scope="module")
def small(tmp_path_factory, ports):
    cluster = SmallCluster(tmp_path_factory.mktemp("bounded"), ports.controller_base())
    processes = [cluster.controller, *cluster.engines]
    try:
        for process in processes:
            process.start()

        def registered() -> bool:
            with cluster.client() as client:
                return len(client.ids) == 2

        wait_until(registered, 120, "two engines registered", 0.5, process=cluster.controller)
        yield cluster
        assert cluster.controller.alive(), cluster.log()[-3000:]
    finally:
        for process in processes:
            process.stop()


@pytest.fixture
def client(small):
    with small.client() as connected:
        yield connected


def _finish(view, count: int) -> None:
    results = [view.apply_async(int) for _ in range(count)]
    assert [result.get(timeout=120) for result in results] == [0] * count


def test_the_controller_says_what_it_bounds(small):
    wait_until(lambda: "task bounds: the hub and the task scheduler remember the last" in small.log(), 30, "task bounds")
    assert f"remember the last {WINDOW} finished tasks" in small.log()
    assert f"holds at most {MAX_HELD} unfinished tasks" in small.log()


def test_dependencies_on_recent_tasks_are_honoured(client):
    view = client.load_balanced_view()
    first = view.apply_async(pow, 6, 2)  # builtins: nothing of this module to import on the engine
    first.get(timeout=60)
    with view.temp_flags(after=first.msg_ids):
        assert view.apply_async(int).get(timeout=60) == 0
    with view.temp_flags(follow=first.msg_ids):
        follower = view.apply_async(int)
        follower.get(timeout=60)
    assert follower.engine_id == first.engine_id


def test_a_dependency_on_a_task_older_than_the_window_fails_at_once(client):
    """What is given up: after more than the window's worth of tasks finished, the id is unknown."""
    view = client.load_balanced_view()
    old = view.apply_async(int)
    old.get(timeout=60)
    _finish(view, 2 * WINDOW)
    for flag in ("after", "follow"):
        with view.temp_flags(**{flag: old.msg_ids}):
            late = view.apply_async(int)
        with pytest.raises(error.RemoteError) as failure:
            late.get(timeout=30)
        assert failure.value.ename == "InvalidDependency", flag


def test_a_task_waiting_for_an_engine_keeps_its_finished_dependency(client):
    """B waits for engine 0 (busy) after A, which finished; meanwhile more than the window of
    tasks finish on engine 1. A must not be forgotten while B waits, or B would wait forever."""
    first, second = client.ids[:2]
    on_first, on_second = client.load_balanced_view(targets=[first]), client.load_balanced_view(targets=[second])
    before = on_second.apply_async(time.sleep, 0.5)
    busy = on_first.apply_async(time.sleep, 6)
    with on_first.temp_flags(after=before.msg_ids):
        waiting = on_first.apply_async(int)
    before.get(timeout=60)
    _finish(on_second, 2 * WINDOW)
    busy.get(timeout=60)
    assert waiting.get(timeout=60) == 0


def test_get_result_and_resubmit_of_a_recent_task(small, client):
    view = client.load_balanced_view()
    task = view.apply_async(str, "recent")
    assert task.get(timeout=60) == "recent"
    with small.client() as fresh:  # nothing cached locally: the hub answers from its records
        assert fresh.get_result(task.msg_ids[0]).get(timeout=60) == "recent"
        assert fresh.resubmit(task.msg_ids).get(timeout=60) == ["recent"]


def _completed(client) -> int:
    return sum(status["completed"] for engine, status in client.queue_status().items() if engine != "unassigned")


def _settled_completed(client, timeout: float = 15) -> int:
    """The hub's count of completed tasks once it stops moving: the hub hears of a result on its
    own socket, so its count may trail the client's results by a few (an earlier test's too)."""
    deadline, last = time.monotonic() + timeout, _completed(client)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = _completed(client)
        if now == last:
            return now
        last = now
    raise AssertionError(f"the hub's completed count kept moving for {timeout} s (last {last})")


def test_queue_status_counts_every_completed_task_but_lists_the_recent(client):
    view = client.load_balanced_view()
    before = _settled_completed(client)
    _finish(view, 3 * WINDOW)
    deadline = time.monotonic() + 15
    while _completed(client) - before < 3 * WINDOW and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _settled_completed(client) - before == 3 * WINDOW
    listed = client.queue_status(verbose=True)
    assert sum(len(status["completed"]) for engine, status in listed.items() if engine != "unassigned") <= WINDOW + WINDOW // 8


def test_a_burst_over_the_held_limit_waits_in_the_client(small, client):
    view = client.load_balanced_view()
    blockers = [view.apply_async(time.sleep, 4) for _ in client.ids]
    burst = [view.apply_async(int) for _ in range(10 * MAX_HELD)]
    most_unassigned, deadline = 0, time.monotonic() + 3
    while time.monotonic() < deadline:
        most_unassigned = max(most_unassigned, client.queue_status()["unassigned"])
        time.sleep(0.1)
    assert 0 < most_unassigned <= MAX_HELD
    assert [result.get(timeout=120) for result in burst] == [0] * len(burst)
    for blocker in blockers:
        blocker.get(timeout=60)
    assert "the scheduler holds its limit" in small.log()


def test_a_load_balanced_burst_over_the_record_limit_logs_no_errors(small, client):
    view = client.load_balanced_view()
    burst = [view.apply_async(int) for _ in range(4 * RECORD_LIMIT)]
    assert [result.get(timeout=180) for result in burst] == [0] * len(burst)
    log = small.log()
    assert "culled for size" not in log and "Traceback" not in log and "DB Error" not in log, log[-3000:]


def test_a_direct_burst_over_the_record_limit_is_one_summary_line(small, client):
    """Direct (MUX) tasks bypass the scheduler: their queued records may be culled, and their
    results are then counted in one line instead of a traceback each."""
    engine = client[client.ids[0]]
    burst = [engine.apply_async(int) for _ in range(4 * RECORD_LIMIT)]
    assert [result.get(timeout=180) for result in burst] == [0] * len(burst)
    log = small.log()
    assert "Traceback" not in log and "culled for size" not in log, log[-3000:]
    assert log.count("arrived for tasks whose records had been culled") <= 2


def test_task_records_outside_a_controller_install_nothing(caplog):
    from ipython_roles.task_records import TaskRecords

    with caplog.at_level(logging.INFO):
        records = TaskRecords(record_limit=10)
    assert records.bounds is None
    assert records.finished_window == 20 and records.max_held_tasks == 5


def test_with_schedulers_in_processes_only_the_hub_is_bounded_and_the_log_says_so(tmp_path, ports):
    """ipyparallel's default (IPController.use_threads=False) runs the task scheduler in a forked
    process that task_bounds never sees: the controller still runs, and says what it bounds."""
    from ipython_roles.controller import controller_environment

    from .processes import PYTHON, REPO_ROOT, base_environment

    home = tmp_path / "home"
    environ = controller_environment(base_environment(home))
    command = [PYTHON, "-m", "ipyparallel.controller", "--ip=127.0.0.1", "--IPController.use_threads=False",
               "--IPController.db_class=ipython_roles.task_records.TaskRecords"]
    log_path = tmp_path / "controller.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=environ, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        wait_until(lambda: "task bounds:" in log_path.read_text(), 60, "the task bounds line")
        text = log_path.read_text()
        assert "the task scheduler runs in another process" in text and "only the hub" in text
        assert process.poll() is None
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
