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

:class:`TaskRecords` is DictDB with three changes, selected by the controller role with
``--IPController.db_class`` (see controller):

* culling drops finished records first, oldest first; the record of a task that has not
  finished goes only when no finished record is left to drop;
* the ids of culled records, kept so that a lookup says "culled" rather than "no such task",
  are bounded to the last :data:`CULLED_IDS_KEPT`;
* limits: ``record_limit`` 16384 records by default (a record of a tiny task takes about
  7 KiB, so ~110 MiB); ``size_limit``, the bytes of the tasks' arguments and results, defaults
  to a quarter of the container's memory limit (cgroup v2 or v1), at most ipyparallel's 1 GiB.
  Both stay configurable (``--TaskRecords.record_limit``/``size_limit``).

This module is imported inside the controller process, so it imports only ipyparallel and the
standard library.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path

from ipyparallel.controller.dictdb import DictDB
from traitlets import Integer, default

CULLED_IDS_KEPT = 65536
DEFAULT_RECORD_LIMIT = 16384
#: ipyparallel's own default for size_limit: the ceiling whatever the container's memory.
MAX_SIZE_LIMIT = 1024**3
#: The share of the container's memory limit the stored arguments and results may take.
MEMORY_SHARE = 4
#: cgroup v1 reports "no limit" as a number near 2**63.
_UNLIMITED = 1 << 62
_LATEST = datetime.max.replace(tzinfo=timezone.utc)
CGROUP_ROOT = Path("/sys/fs/cgroup")


def container_memory_limit(cgroup_root: Path = CGROUP_ROOT) -> int | None:
    """The memory limit of this container in bytes (cgroup v2 ``memory.max``, else v1
    ``memory/memory.limit_in_bytes``); None when there is none or it cannot be read."""
    for path in (cgroup_root / "memory.max", cgroup_root / "memory" / "memory.limit_in_bytes"):
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if not text.isdigit():  # "max": cgroup v2 without a limit
            return None
        value = int(text)
        return value if 0 < value < _UNLIMITED else None
    return None


def size_limit_for(memory_limit: int | None) -> int:
    """A quarter of the memory limit, at most 1 GiB (ipyparallel's default, for no limit)."""
    if memory_limit is None:
        return MAX_SIZE_LIMIT
    return min(MAX_SIZE_LIMIT, memory_limit // MEMORY_SHARE)


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
    """DictDB that culls finished records first and forgets old culled ids (see the module)."""

    record_limit = Integer(
        DEFAULT_RECORD_LIMIT,
        config=True,
        help="The most records kept; above it the oldest tenth is culled, finished records first.",
    )

    @default("size_limit")
    def _size_limit_default(self) -> int:
        return size_limit_for(container_memory_limit())

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        # an instance attribute: DictDB's is a class-level set shared by all instances, never emptied
        self._culled_ids = RecentIds(CULLED_IDS_KEPT)
        self.log.info(
            "task records: at most %i records and %i MiB of task arguments and results; "
            "finished records are culled first",
            self.record_limit,
            self.size_limit // 2**20,
        )

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
        before_records, before_bytes = len(self._records), self._buffer_bytes
        for msg_id in self.cull_order():
            if not ((over_count and len(self._records) > keep_records) or (over_size and self._buffer_bytes > keep_bytes)):
                break
            self._culled_ids.add(msg_id)
            self.drop_record(msg_id)
        self.log.info(
            "task records: %i records with %i bytes of buffers exceeded the limits (%i records, %i bytes); "
            "culled the %i oldest, finished first",
            before_records,
            before_bytes,
            self.record_limit,
            self.size_limit,
            before_records - len(self._records),
        )
