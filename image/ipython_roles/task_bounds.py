"""The controller's per-task bookkeeping outside the task records, bounded; and admission of new tasks.

ipyparallel's hub and task scheduler remember the id of every task they ever saw, in sets and
lists that are never emptied: the scheduler's ``all_ids``, ``all_done``, ``all_completed``,
``all_failed``, ``destinations`` and per-engine ``completed``/``failed`` (for dependencies:
``after=`` and ``follow=``), the hub's ``all_completed`` and per-engine ``completed`` lists (for
``get_result`` and ``queue_status``). About 0.45 KiB per task: 45 MiB per 100,000 tasks, for
good. And nothing limits how many tasks a controller takes in at once: a queued tiny task costs
it about 19 KiB (its record, the scheduler's job with the raw message, the hub's sets), so one
``map_async(..., chunksize=1)`` over 45,000 items took a 1 GiB controller to its OOM kill.

:func:`install`, called by task_records.TaskRecords once the controller's event loop runs
(``IPController.use_threads``: the hub and the task scheduler share that loop and its thread, so
nothing here needs a lock), changes three things:

* **windows of finished ids**: the scheduler and the hub remember the ids of the last
  ``finished_window`` finished tasks (twice the record limit by default, 32,768), oldest
  forgotten first, except ids that a task still waiting names in its ``after``/``follow``.
  What is given up: a new task whose ``after=``/``follow=`` names a task that finished longer
  ago than that fails at once with ``InvalidDependency``, exactly as for an id the controller
  never saw (rather than counting an old task as met without knowing whether it failed).
  ``get_result`` and ``resubmit`` are bounded by the records already (task_records), which the
  window outlasts. ``queue_status()`` still counts every completed task; its verbose form lists
  the ids of the recent ones only;
* **admission**: the scheduler holds at most ``max_held_tasks`` tasks that have not finished
  (half the record limit by default, 8,192) and ``max_held_bytes`` of their messages (half the
  records' size limit). At the limit it stops reading new tasks until a tenth of them have
  finished; meanwhile new tasks wait in their clients' send queues (the client keeps them in
  memory anyway; a submission never fails for this and a map over 100,000 items just takes its
  time). ``Client.queue_status()`` shows the held tasks, the controller's log one line at the
  start of such a burst. The scheduler's receiving socket gets a high-water mark
  (:data:`RECEIVE_HWM` messages per client connection), so that waiting tasks stay in the
  clients and not in the controller's ZeroMQ buffers. Because held tasks never outnumber the
  records, the record of a queued task is never culled: no "culled for size" errors;
* **the heap is trimmed** (glibc ``malloc_trim``) when a burst has drained and every
  :data:`TRIM_EVERY` finished tasks: the scheduler's and the hub's messages are freed by the
  Python and the ZeroMQ threads into several malloc arenas, which otherwise kept 60 to 140 MiB
  of freed memory after bursts of 10,000 to 45,000 tasks.

It reaches into ipyparallel 9's hub and task scheduler objects (their attribute names; see
tests/roles/test_task_bounds.py). With ``IPController.use_threads=False`` the task scheduler
runs in a process of its own that this module never sees: then only the hub is bounded, and the
log says so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import time
from collections import deque
from collections.abc import Callable, Iterable

#: Messages each client connection may queue in the scheduler's receiving socket before ZeroMQ
#: pushes back to the client (ipyparallel sets no limit).
RECEIVE_HWM = 1000
#: Resume reading new tasks when the held tasks are at most this share of the limits.
RESUME_SHARE = 0.9
#: Trim the heap after this many finished tasks (and whenever the held tasks drain to none).
TRIM_EVERY = 4096
#: The least interval between two heap trims, in seconds: a trim walks the free lists.
TRIM_INTERVAL = 2.0
#: Rate-limited summaries: the first event at once, then one line per this many seconds at most.
SUMMARY_INTERVAL = 60.0


class Summary:
    """A log line for a kind of event that may come by the thousand: the first at once, then at
    most one line per ``interval`` seconds with the number since (``flush`` writes what is left)."""

    def __init__(self, log: Callable[[str], None], text: str, interval: float = SUMMARY_INTERVAL) -> None:
        self.log = log
        self.text = text
        self.interval = interval
        self.pending = 0
        self.total = 0
        self._last: float | None = None

    def event(self, count: int = 1) -> None:
        self.pending += count
        self.total += count
        now = time.monotonic()
        if self._last is None or now - self._last >= self.interval:
            self._write(now)

    def flush(self) -> None:
        if self.pending:
            self._write(time.monotonic())

    def _write(self, now: float) -> None:
        self.log(self.text.format(count=self.pending, total=self.total))
        self.pending = 0
        self._last = now


class WatchedIds(set):
    """A set of task ids that calls ``on_add`` with each id added that it did not hold. A real
    ``set`` subclass: ipyparallel's set operations on it (``difference``, ``issubset``) stay C-speed."""

    def __init__(self, ids: Iterable[str] = (), on_add: Callable[[str], None] | None = None) -> None:
        super().__init__(ids)
        self.on_add = on_add

    def add(self, msg_id: str) -> None:
        if msg_id in self:
            return
        set.add(self, msg_id)
        self._added(msg_id)
        if self.on_add is not None:
            self.on_add(msg_id)

    def _added(self, msg_id: str) -> None:
        pass


class OrderedIds(WatchedIds):
    """WatchedIds that also remember the order the ids were added in, to forget the oldest."""

    def __init__(self, ids: Iterable[str] = (), on_add: Callable[[str], None] | None = None) -> None:
        ids = list(ids)
        super().__init__(ids, on_add)
        self.order: deque[str] = deque(ids)

    def _added(self, msg_id: str) -> None:
        self.order.append(msg_id)

    def forget_oldest(self, count: int, keep: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """Remove up to ``count`` of the oldest ids, except those in ``keep`` (which stay, as the
        oldest); return the removed ids."""
        removed: list[str] = []
        kept: list[str] = []
        order = self.order
        for _ in range(len(order)):
            if len(removed) >= count:
                break
            msg_id = order.popleft()
            if msg_id not in self:  # discarded by someone else meanwhile
                continue
            if msg_id in keep:
                kept.append(msg_id)
                continue
            set.discard(self, msg_id)
            removed.append(msg_id)
        order.extendleft(reversed(kept))
        return removed


class CompletedIds(list):
    """The hub's per-engine list of completed task ids, keeping only the last ``keep`` ids but
    counting all: ``len()`` is the number ever appended (what ``queue_status()`` reports), the
    items are the recent ids (what ``queue_status(verbose=True)`` lists)."""

    def __init__(self, ids: Iterable[str] = (), keep: int = 0, dropped: int = 0) -> None:
        super().__init__(ids)
        self.keep = keep
        self.dropped = dropped
        self.trim()

    def __len__(self) -> int:
        return list.__len__(self) + self.dropped

    def trim(self) -> None:
        excess = list.__len__(self) - self.keep
        if excess > 0:
            del self[:excess]
            self.dropped += excess


def _frame_bytes(frame) -> int:
    try:
        return len(frame)
    except TypeError:
        return 0


class _Heap:
    """glibc's malloc_trim, where there is one."""

    def __init__(self) -> None:
        self._trim = None
        name = ctypes.util.find_library("c")
        if name:
            try:
                self._trim = ctypes.CDLL(name).malloc_trim
            except (OSError, AttributeError):
                self._trim = None
        self._last = 0.0

    def trim(self, force: bool = False) -> bool:
        now = time.monotonic()
        if self._trim is None or (not force and now - self._last < TRIM_INTERVAL):
            return False
        self._last = now
        self._trim(0)
        return True


class SchedulerBounds:
    """The task scheduler's finished-id window and admission (see the module docstring)."""

    def __init__(self, scheduler, *, window: int, max_held_tasks: int, max_held_bytes: int, log, heap: _Heap) -> None:
        self.scheduler = scheduler
        self.window = window
        self.batch = max(1, window // 8)
        self.max_held_tasks = max_held_tasks
        self.max_held_bytes = max_held_bytes
        self.log = log
        self.heap = heap
        self.held: dict[str, int] = {}
        self.held_bytes = 0
        self.paused = False
        self.pauses = 0
        self.finished = 0
        self._incoming_bytes = 0
        self._trim_scheduled = False
        self._receive = scheduler.dispatch_submission
        values = scheduler._trait_values  # direct: a traitlets Set would turn our sets back into plain ones
        values["all_ids"] = WatchedIds(scheduler.all_ids, on_add=self._admitted)
        values["all_done"] = OrderedIds(scheduler.all_done, on_add=self._finished)
        self.pause_summary = Summary(
            log.info,
            f"task bounds: the scheduler holds its limit ({max_held_tasks} unfinished tasks or "
            f"{max_held_bytes // 2**20} MiB of their messages): it reads new tasks only as others finish, and "
            "they wait in their clients meanwhile ({count} time(s) since the last such line, {total} in all)",
        )
        scheduler.client_stream.socket.setsockopt(_zmq().RCVHWM, RECEIVE_HWM)
        scheduler.client_stream.on_recv(self._receive_submission, copy=False)

    # admission -------------------------------------------------------------------------------

    def _receive_submission(self, raw_msg) -> None:
        self._incoming_bytes = sum(_frame_bytes(frame) for frame in raw_msg)
        self._receive(raw_msg)
        self._incoming_bytes = 0
        if not self.paused and (len(self.held) >= self.max_held_tasks or self.held_bytes >= self.max_held_bytes):
            self.paused = True
            self.pauses += 1
            self.pause_summary.event()
            self.scheduler.client_stream.on_recv(None)

    def _admitted(self, msg_id: str) -> None:
        size = self._incoming_bytes
        self.held[msg_id] = size
        self.held_bytes += size

    def _finished(self, msg_id: str) -> None:
        size = self.held.pop(msg_id, 0)
        self.held_bytes -= size
        self.finished += 1
        if self.paused and (
            len(self.held) <= self.max_held_tasks * RESUME_SHARE and self.held_bytes <= self.max_held_bytes * RESUME_SHARE
        ):
            self.paused = False
            self.scheduler.client_stream.on_recv(self._receive_submission, copy=False)
        done = self.scheduler.all_done
        if len(done.order) > self.window + self.batch:
            self.forget(len(done.order) - self.window)
        if not self.held:
            self._drained()
        elif self.finished % TRIM_EVERY == 0:
            self.heap.trim()

    def _drained(self) -> None:
        """Trim the heap now, or once the least interval has passed if it was trimmed just before."""
        if self.heap.trim() or self._trim_scheduled:
            return
        self._trim_scheduled = True
        self.scheduler.loop.call_later(TRIM_INTERVAL, self._scheduled_trim)

    def _scheduled_trim(self) -> None:
        self._trim_scheduled = False
        if not self.held:
            self.heap.trim(force=True)

    # the window ------------------------------------------------------------------------------

    def waiting_dependencies(self) -> set[str]:
        """The ids that a task still queued, or running and possibly re-run, depends on."""
        scheduler = self.scheduler
        named: set[str] = set()
        jobs = list(scheduler.queue_map.values())
        for pending in scheduler.pending.values():
            jobs.extend(pending.values())
        for job in jobs:
            if job.after or job.follow:
                named.update(job.after)
                named.update(job.follow)
        return named

    def forget(self, count: int) -> list[str]:
        scheduler = self.scheduler
        removed = scheduler.all_done.forget_oldest(count, keep=self.waiting_dependencies())
        all_ids, completed, failed = scheduler.all_ids, scheduler.all_completed, scheduler.all_failed
        destinations, retries = scheduler.destinations, scheduler.retries
        by_engine_completed, by_engine_failed = scheduler.completed, scheduler.failed
        for msg_id in removed:
            all_ids.discard(msg_id)
            completed.discard(msg_id)
            failed.discard(msg_id)
            retries.pop(msg_id, None)  # ipyparallel keeps it for tasks failed as unreachable
            engine = destinations.pop(msg_id, None)
            if engine is not None:
                for per_engine in (by_engine_completed.get(engine), by_engine_failed.get(engine)):
                    if per_engine is not None:
                        per_engine.discard(msg_id)
        return removed


class HubBounds:
    """The hub's finished-id window (``all_completed``) and per-engine completed lists."""

    def __init__(self, hub, *, window: int) -> None:
        self.hub = hub
        self.window = window
        self.batch = max(1, window // 8)
        hub._trait_values["all_completed"] = OrderedIds(hub.all_completed, on_add=self._completed)
        self.trim_lists()

    def _completed(self, msg_id: str) -> None:
        done = self.hub.all_completed
        if len(done.order) > self.window + self.batch:
            done.forget_oldest(len(done.order) - self.window)
            self.trim_lists()

    def trim_lists(self) -> None:
        """Keep the recent ids of live engines (the window shared among them), none of gone ones."""
        hub = self.hub
        live = [eid for eid in hub.completed if eid in hub.engines]
        keep = self.window // max(1, len(live))
        for eid, ids in list(hub.completed.items()):
            retained = keep if eid in hub.engines else 0
            if not isinstance(ids, CompletedIds):
                hub.completed[eid] = CompletedIds(ids, keep=retained)
            else:
                ids.keep = retained
                ids.trim()


def _zmq():
    import zmq

    return zmq


def find_task_schedulers(loop) -> list:
    """The TaskScheduler objects of this process that run on ``loop`` (ipyparallel keeps no
    reference to them but their sockets' callbacks)."""
    from ipyparallel.controller.task_scheduler import TaskScheduler

    return [obj for obj in gc.get_objects() if isinstance(obj, TaskScheduler) and obj.loop is loop]


def install(app, records) -> tuple[HubBounds | None, list[SchedulerBounds]]:
    """Bound the hub's and the task scheduler's bookkeeping of ``app`` (a running IPController),
    sized by ``records`` (task_records.TaskRecords). Called on the controller's event loop."""
    log = records.log
    hub = getattr(app, "hub", None)
    if hub is None:
        log.warning("task bounds: no hub found, nothing bounded")
        return None, []
    heap = _Heap()
    hub_bounds = HubBounds(hub, window=records.finished_window)
    schedulers = [
        SchedulerBounds(
            scheduler,
            window=records.finished_window,
            max_held_tasks=records.max_held_tasks,
            max_held_bytes=records.max_held_bytes,
            log=log,
            heap=heap,
        )
        for scheduler in find_task_schedulers(hub.loop)
    ]
    if schedulers:
        log.info(
            "task bounds: the hub and the task scheduler remember the last %i finished tasks; the scheduler "
            "holds at most %i unfinished tasks and %i MiB of their messages, further tasks wait in their clients",
            records.finished_window,
            records.max_held_tasks,
            records.max_held_bytes // 2**20,
        )
    else:
        log.warning(
            "task bounds: the task scheduler runs in another process (IPController.use_threads=False): "
            "only the hub remembers a bounded number of finished tasks (%i); nothing limits the tasks held",
            records.finished_window,
        )
    return hub_bounds, schedulers
