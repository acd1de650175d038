"""The controller's task records: ipyparallel's in-memory DictDB, culled so that running tasks keep theirs.

The hub keeps a record of every task (request, result, outputs) so that any client can look a
task up later (``Client.get_result`` by id, ``Client.db_query``, ``Client.resubmit``). Its
default store, ``DictDB``, holds at most 1024 records and then drops the oldest tenth, finished
or not. Submit 2,000 tasks at once (``view.map`` over 2,000 items does) and about a thousand
tasks still queued lose their record: the hub then logs an ERROR with a traceback twice for
each of them (when the task is assigned and when it finishes), thousands of lines that bury
real errors and cost CPU on the controller's one core. DictDB also remembers the id of every
record it ever culled, in a set that only grows, and its default buffer limit (1 GiB) does not
fit a controller container limited to 1 GiB.

:class:`TaskRecords` is DictDB with these changes, selected by the controller role with
``--IPController.db_class`` (see controller):

* culling drops finished records first, oldest first; the record of a task that has not
  finished goes only when no finished record is left to drop;
* an update for a record that is gone (a result of a task whose record was culled) is dropped
  with one summary line per minute at most, not an ERROR traceback per task;
* the ids of culled records, kept so that a lookup says "culled" rather than "no such task",
  are bounded to the last ``finished_window``;
* limits, sized to the container's memory limit M (cgroup v2 or v1, the process's own cgroup
  and its ancestors: memory_cgroup): ``record_limit``, M / 64 KiB records, at least 1024 and at
  most 16384 (a record of a tiny task takes about 12 KiB with its share of the heap: ~190 MiB
  for 16384; ``pipenv run bench --only memory``); ``size_limit``, the bytes of the tasks'
  arguments and results, M / 4, at most ipyparallel's 1 GiB;
* it installs task_bounds once the controller runs, which bounds the rest of the controller's
  per-task memory: the hub's and the task scheduler's ids of finished tasks (the last
  ``finished_window``, 2 x ``record_limit``), and the tasks held at once (``max_held_tasks``,
  ``record_limit`` / 2, and ``max_held_bytes``, ``size_limit`` / 2: so held tasks never outnumber
  the records and a queued task's record is never culled).

All stay configurable (``c.TaskRecords.record_limit = ...`` in the profile's
``ipcontroller_config.py``).

This module is imported inside the controller process, so it imports only ipyparallel, tornado,
pyzmq (through task_bounds) and the standard library.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timezone

from ipyparallel.controller.dictdb import DictDB
from traitlets import Integer, default

from .memory_cgroup import container_memory_limit
from .task_bounds import Summary

#: The most records by default, whatever the memory (~190 MiB of tiny tasks' records).
DEFAULT_RECORD_LIMIT = 16384
MIN_RECORD_LIMIT = 1024
#: Memory budgeted per record when sizing record_limit from the container's memory limit.
MEMORY_PER_RECORD = 64 * 1024
#: ipyparallel's own default for size_limit: the ceiling whatever the container's memory.
MAX_SIZE_LIMIT = 1024**3
#: The share of the container's memory limit the stored arguments and results may take.
MEMORY_SHARE = 4
_LATEST = datetime.max.replace(tzinfo=timezone.utc)


def size_limit_for(memory_limit: int | None) -> int:
    """A quarter of the memory limit, at most 1 GiB (ipyparallel's default, for no limit)."""
    if memory_limit is None:
        return MAX_SIZE_LIMIT
    return min(MAX_SIZE_LIMIT, memory_limit // MEMORY_SHARE)


def record_limit_for(memory_limit: int | None) -> int:
    """One record per 64 KiB of the memory limit, between 1024 and 16384 (16384 for no limit)."""
    if memory_limit is None:
        return DEFAULT_RECORD_LIMIT
    return max(MIN_RECORD_LIMIT, min(DEFAULT_RECORD_LIMIT, memory_limit // MEMORY_PER_RECORD))


class RecentIds:
    """A set that remembers only the ``capacity`` ids added last."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, msg_id: str) -> None:
        self._ids[msg_id] = None
        self._ids.move_to_end(msg_id)
        while len(self._ids) > self.capacity:
            self._ids.popitem(last=False)

    def __contains__(self, msg_id: object) -> bool:
        return msg_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)


class TaskRecords(DictDB):
    """DictDB that culls finished records first, forgets old culled ids, drops updates of culled
    records quietly, and bounds the rest of the controller's per-task memory (see the module)."""

    record_limit = Integer(
        DEFAULT_RECORD_LIMIT,
        config=True,
        help="The most records kept; above it the oldest tenth is culled, finished records first.",
    )
    finished_window = Integer(
        0,
        config=True,
        help="How many of the last finished tasks the hub and the task scheduler remember, for "
        "dependencies (after=, follow=) and get_result; 0: twice record_limit.",
    )
    max_held_tasks = Integer(
        0,
        config=True,
        help="The most unfinished tasks the task scheduler holds; further tasks wait in their clients. "
        "0: half of record_limit.",
    )
    max_held_bytes = Integer(
        0,
        config=True,
        help="The most bytes of unfinished tasks' messages the task scheduler holds; 0: half of size_limit.",
    )

    @default("record_limit")
    def _record_limit_default(self) -> int:
        return record_limit_for(container_memory_limit())

    @default("size_limit")
    def _size_limit_default(self) -> int:
        return size_limit_for(container_memory_limit())

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.finished_window = self.finished_window or 2 * self.record_limit
        self.max_held_tasks = self.max_held_tasks or max(1, self.record_limit // 2)
        self.max_held_bytes = self.max_held_bytes or max(1, self.size_limit // 2)
        # an instance attribute: DictDB's is a class-level set shared by all instances, never emptied
        self._culled_ids = RecentIds(self.finished_window)
        self.lost_updates = Summary(
            self.log.warning,
            "task records: {count} result(s) or output(s) arrived for tasks whose records had been culled "
            "({total} in all): their clients got them, get_result will not; more tasks were unfinished at once "
            "than the records hold (record_limit)",
        )
        self.culls = Summary(
            self.log.info,
            "task records: culled the oldest tenth {count} time(s) since the last such line ({total} in all) "
            f"for the limits ({self.record_limit} records, {self.size_limit // 2**20} MiB of arguments and results), "
            "finished records first",
        )
        self.bounds = None
        self.log.info(
            "task records: at most %i records and %i MiB of task arguments and results; "
            "finished records are culled first",
            self.record_limit,
            self.size_limit // 2**20,
        )
        if _is_controller(self.parent):
            from tornado.ioloop import IOLoop

            # the hub and the schedulers are made after the records: bound them once the loop runs
            IOLoop.current().add_callback(self._install_bounds)

    def _install_bounds(self) -> None:
        from tornado.ioloop import PeriodicCallback

        from . import task_bounds

        try:
            self.bounds = task_bounds.install(self.parent, self)
        except Exception as failure:  # noqa: BLE001 - ipyparallel's internals changed: run unbounded, say so once
            self.log.error("task bounds: not installed, the controller keeps memory per task: %r", failure)
            self.bounds = (None, [])
        summaries = [self.lost_updates, self.culls, *(bounds.pause_summary for bounds in self.bounds[1])]
        self._flush = PeriodicCallback(lambda: [summary.flush() for summary in summaries],
                                       task_bounds.SUMMARY_INTERVAL * 1000)
        self._flush.start()

    def update_record(self, msg_id: str, rec: dict) -> None:
        """Update a record; one that is gone (culled) is counted, not an error: the hub would log
        a traceback for each, and the task's result reached its client anyway."""
        if msg_id not in self._records:
            self.lost_updates.event()
            return
        super().update_record(msg_id, rec)

    def cull_order(self) -> list[str]:
        """All msg_ids in the order they would be culled: finished before unfinished, each
        oldest submitted first."""
        records = self._records

        def key(msg_id: str) -> tuple[bool, datetime]:
            record = records[msg_id]
            return record.get("completed") is None, record.get("submitted") or _LATEST

        return sorted(records, key=key)

    def _maybe_cull(self) -> None:
        over_count = len(self._records) > self.record_limit
        over_size = self._buffer_bytes > self.size_limit
        if not (over_count or over_size):
            return
        keep_records = int(self.record_limit * (1 - self.cull_fraction))
        keep_bytes = self.size_limit * (1 - self.cull_fraction)
        for msg_id in self.cull_order():
            if not ((over_count and len(self._records) > keep_records) or (over_size and self._buffer_bytes > keep_bytes)):
                break
            self._culled_ids.add(msg_id)
            self.drop_record(msg_id)
        self.culls.event()


def _is_controller(parent) -> bool:
    try:
        from ipyparallel.controller.app import IPController
    except ImportError:
        return False
    return isinstance(parent, IPController)
