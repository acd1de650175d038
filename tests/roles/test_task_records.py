"""The controller's task records: culling keeps the records of unfinished tasks, remembers a
bounded number of culled ids, drops updates of culled records quietly (one summary line, no
traceback per task), and sizes itself to the container's memory limit, found through this
process's own cgroup.

The records are added and updated the way the hub does (add_record at submission,
update_record with ``completed`` at the result); the cgroup files are real files in a temporary
cgroup root."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from ipyparallel.controller.dictdb import DictDB

from ipython_roles.task_records import (
    MAX_SIZE_LIMIT,
    RecentIds,
    TaskRecords,
    container_memory_limit,
    record_limit_for,
    size_limit_for,
)

START = datetime(2026, 11, 26, tzinfo=timezone.utc)


def _submit(db: DictDB, number: int, payload: bytes = b"") -> str:
    msg_id = f"task-{number}"
    db.add_record(
        msg_id,
        {"msg_id": msg_id, "submitted": START + timedelta(seconds=number), "completed": None,
         "buffers": [payload] if payload else []},
    )
    return msg_id


def _finish(db: DictDB, msg_id: str) -> None:
    db.update_record(msg_id, {"completed": START + timedelta(days=1)})


def _burst(db: DictDB, tasks: int, finished: int) -> list[str]:
    """Submit ``tasks`` at once, then the first ``finished`` of them finish."""
    ids = [_submit(db, number) for number in range(tasks)]
    for msg_id in ids[:finished]:
        _finish(db, msg_id)
    return ids


@pytest.mark.parametrize("db_class, kept", [(DictDB, False), (TaskRecords, True)])
def test_a_long_task_keeps_its_record_while_later_short_tasks_finish(db_class, kept):
    """ipyparallel's DictDB culls the oldest record, finished or not: the long task's result then
    finds no record (the hub logs an ERROR traceback and the result is lost to db_query).
    TaskRecords culls the finished short tasks instead."""
    db = db_class(record_limit=100)
    long_task = _submit(db, 0)
    for number in range(1, 111):
        _finish(db, _submit(db, number))
    assert (long_task in db._records) is kept
    if kept:
        _finish(db, long_task)
        assert db.get_record(long_task)["completed"] is not None
    else:
        with pytest.raises(KeyError, match="culled"):
            _finish(db, long_task)
    assert len(db._records) <= 100


def test_finished_records_go_oldest_first():
    db = TaskRecords(record_limit=10, cull_fraction=0.5)
    ids = _burst(db, 10, finished=10)
    _submit(db, 10)  # 11 records > 10: cull down to 5
    assert sorted(db._records) == sorted(ids[6:] + ["task-10"])
    with pytest.raises(KeyError, match="culled"):
        db.get_record(ids[0])


def test_unfinished_records_go_only_when_nothing_finished_is_left():
    db = TaskRecords(record_limit=10, cull_fraction=0.5)
    ids = _burst(db, 11, finished=0)  # all queued: the oldest queued go
    assert sorted(db._records) == sorted(ids[6:])


def test_the_size_limit_culls_finished_records_first():
    db = TaskRecords(size_limit=1000, cull_fraction=0.2)
    queued = _submit(db, 0, b"q" * 300)
    finished = [_submit(db, number, b"f" * 300) for number in (1, 2)]
    for msg_id in finished:
        _finish(db, msg_id)
    _submit(db, 3, b"n" * 300)  # 1200 bytes > 1000: down to 800 at most
    assert queued in db._records and "task-3" in db._records
    assert not any(msg_id in db._records for msg_id in finished)
    assert db._buffer_bytes == 600


def test_culled_ids_are_remembered_only_up_to_a_bound():
    ids = RecentIds(3)
    for msg_id in "abcde":
        ids.add(msg_id)
    ids.add("c")
    assert [msg_id in ids for msg_id in "abcde"] == [False, False, True, True, True]
    assert len(ids) == 3
    ids.add("f")
    assert "d" not in ids and "c" in ids


def test_two_databases_do_not_share_culled_ids():
    first, second = TaskRecords(record_limit=2, cull_fraction=0.5), TaskRecords(record_limit=2, cull_fraction=0.5)
    for number in range(3):
        _finish(first, _submit(first, number))
    assert "task-0" in first._culled_ids and "task-0" not in second._culled_ids


@pytest.mark.parametrize(
    "files, expected",
    [
        ({"memory.max": "1073741824\n"}, 1073741824),  # cgroup v2 with a limit
        ({"memory.max": "max\n"}, None),  # cgroup v2, no limit
        ({"memory/memory.limit_in_bytes": "536870912\n"}, 536870912),  # cgroup v1
        ({"memory/memory.limit_in_bytes": "9223372036854771712\n"}, None),  # cgroup v1, no limit
        ({}, None),  # no cgroup files at all
    ],
)
def test_the_container_memory_limit_is_read_from_the_cgroup(tmp_path: Path, files, expected):
    """Inside a container (a cgroup namespace): the container's own files are at the root."""
    proc_cgroup = tmp_path / "proc-self-cgroup"
    proc_cgroup.write_text("0::/\n")
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert container_memory_limit(tmp_path, proc_cgroup) == expected


@pytest.mark.parametrize(
    "own, files, expected",
    [
        # cgroup v2 on a host: this process's cgroup, limited by an ancestor
        ("0::/pods/pod1/controller\n", {"pods/pod1/memory.max": "1073741824", "pods/pod1/controller/memory.max": "max"},
         1073741824),
        # the smallest limit on the way up wins
        ("0::/a/b\n", {"a/memory.max": "536870912", "a/b/memory.max": "1073741824"}, 536870912),
        # cgroup v1 (hybrid): the memory controller's own path
        ("4:memory:/process_api/x/bench\n0::/\n", {"memory/process_api/x/bench/memory.limit_in_bytes": "1073741824",
                                                     "memory/memory.limit_in_bytes": "9223372036854771712"},
         1073741824),
        # v1 with the controllers listed together
        ("3:cpu,memory:/job\n", {"memory/job/memory.limit_in_bytes": "268435456"}, 268435456),
    ],
)
def test_the_memory_limit_of_this_process_own_cgroup_counts(tmp_path: Path, own, files, expected):
    """On a host (no cgroup namespace) the limit is found through /proc/self/cgroup: the limit of
    the cgroup the bench's controller runs in, or of a pod's cgroup."""
    proc_cgroup = tmp_path / "proc-self-cgroup"
    proc_cgroup.write_text(own)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert container_memory_limit(tmp_path, proc_cgroup) == expected


@pytest.mark.parametrize(
    "memory_limit, record_limit",
    [(None, 16384), (16 * 1024**3, 16384), (1024**3, 16384), (512 * 1024**2, 8192), (32 * 1024**2, 1024)],
)
def test_the_record_limit_is_one_record_per_64_kib_between_1024_and_16384(memory_limit, record_limit):
    assert record_limit_for(memory_limit) == record_limit


def test_the_other_limits_follow_the_record_limit_and_size_limit():
    db = TaskRecords(record_limit=1000, size_limit=64 * 2**20)
    assert (db.finished_window, db.max_held_tasks, db.max_held_bytes) == (2000, 500, 32 * 2**20)
    assert db._culled_ids.capacity == 2000
    configured = TaskRecords(record_limit=1000, finished_window=50, max_held_tasks=7, max_held_bytes=9)
    assert (configured.finished_window, configured.max_held_tasks, configured.max_held_bytes) == (50, 7, 9)


def test_an_update_of_a_culled_record_is_counted_not_raised(caplog):
    """The hub updates a record when a task lands on an engine and when its result comes: DictDB
    raised KeyError for a culled record, and the hub logged an ERROR traceback each time (49,282
    lines for one burst of 45,000). Now: dropped, one summary line."""
    db = TaskRecords(record_limit=10, cull_fraction=0.5)
    with caplog.at_level(logging.INFO):
        ids = _burst(db, 11, finished=0)  # all queued: the oldest queued records are culled
        for msg_id in ids:
            _finish(db, msg_id)
        db.update_record("never-seen", {"completed": START})
    culled = [msg_id for msg_id in ids if msg_id not in db._records]
    assert culled and all(db.get_record(msg_id)["completed"] for msg_id in ids if msg_id in db._records)
    lines = [record for record in caplog.records if "whose records had been culled" in record.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING and not lines[0].exc_info
    assert db.lost_updates.total == len(culled) + 1


def test_culling_is_one_summary_line_not_one_per_cull(caplog):
    db = TaskRecords(record_limit=10, cull_fraction=0.5)
    with caplog.at_level(logging.INFO):
        for number in range(100):
            _finish(db, _submit(db, number))
    assert db.culls.total > 10
    assert len([record for record in caplog.records if "culled the oldest tenth" in record.getMessage()]) == 1


@pytest.mark.parametrize(
    "memory_limit, size_limit",
    [(None, MAX_SIZE_LIMIT), (1024**3, 256 * 1024**2), (2 * 1024**3, 512 * 1024**2), (16 * 1024**3, MAX_SIZE_LIMIT)],
)
def test_the_size_limit_is_a_quarter_of_the_memory_limit_at_most_one_gib(memory_limit, size_limit):
    assert size_limit_for(memory_limit) == size_limit


def test_the_default_limits_follow_this_machines_cgroup():
    records = TaskRecords()
    assert records.size_limit == size_limit_for(container_memory_limit())
    assert records.record_limit == record_limit_for(container_memory_limit())
