"""The container's OOM-kill count and memory limit, read from cgroup files (memory_cgroup), and
the words the engine supervisor's exit line gets from them. The cgroup files are real files in a
temporary cgroup root, laid out as inside a container: v2's at the root, v1's under memory/.
The container tests (tests/container/test_viewer_memory.py, test_engine_memory.py) run the same
code against a real memory limit."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from ipython_roles.engine import EngineSupervisor
from ipython_roles.memory_cgroup import OomKillWatch, oom_kill_count, oom_kills, oom_words, size_words

V2_EVENTS = "low 0\nhigh 0\nmax 41\noom 2\noom_kill {count}\noom_group_kill 0\n"
V1_OOM_CONTROL = "oom_kill_disable 0\nunder_oom 0\noom_kill {count}\n"
MIB = 1 << 20


def cgroup_v2(root: Path, count: int, limit: str = "max") -> Path:
    (root / "memory.events").write_text(V2_EVENTS.format(count=count))
    (root / "memory.max").write_text(f"{limit}\n")
    return root


def cgroup_v1(root: Path, count: int, limit: int = 9223372036854771712) -> Path:
    (root / "memory").mkdir(exist_ok=True)
    (root / "memory" / "memory.oom_control").write_text(V1_OOM_CONTROL.format(count=count))
    (root / "memory" / "memory.limit_in_bytes").write_text(f"{limit}\n")
    return root


def own_cgroup(tmp_path: Path) -> Path:
    """/proc/self/cgroup of a process at its container's cgroup root (what cgroupns shows)."""
    path = tmp_path / "proc-self-cgroup"
    path.write_text("0::/\n")
    return path


@pytest.mark.parametrize("content, expected", [
    (V2_EVENTS.format(count=3), 3),
    (V1_OOM_CONTROL.format(count=1), 1),
    ("oom_kill_disable 0\nunder_oom 0\n", None),  # v1 before Linux 4.13: no count
    ("oom_kill lots\n", None),
    ("", None),
])
def test_the_oom_kill_line_is_read_from_either_file(tmp_path: Path, content, expected):
    path = tmp_path / "events"
    path.write_text(content)
    assert oom_kill_count(path) == expected


def test_the_count_is_v2s_then_v1s_and_none_without_either(tmp_path: Path):
    assert oom_kills(tmp_path) is None
    assert oom_kill_count(tmp_path / "memory.events") is None
    cgroup_v1(tmp_path, 4)
    assert oom_kills(tmp_path) == 4
    cgroup_v2(tmp_path, 7)
    assert oom_kills(tmp_path) == 7


@pytest.mark.parametrize("size, words", [
    (256 * MIB, "256 MiB"), (1536 * MIB, "1.5 GiB"), (1 << 30, "1 GiB"), (100 * MIB + 1, "100 MiB"),
])
def test_sizes_in_words(size, words):
    assert size_words(size) == words


def test_oom_words_say_the_limit_and_the_count():
    assert oom_words(1, 256 * MIB) == "OOM-killed (the container's memory limit is 256 MiB; 1 OOM kill so far)"
    assert oom_words(3, None) == "OOM-killed (no memory limit found in the container's cgroup; 3 OOM kills so far)"


@pytest.mark.parametrize("make, limit_words", [
    (lambda root, count: cgroup_v2(root, count, str(512 * MIB)), "512 MiB"),
    (lambda root, count: cgroup_v1(root, count, 256 * MIB), "256 MiB"),
    (lambda root, count: cgroup_v2(root, count), None),  # "max": no limit
    (lambda root, count: cgroup_v1(root, count), None),  # v1's "no limit" near 2**63
], ids=["v2", "v1", "v2-no-limit", "v1-no-limit"])
def test_the_watch_tells_a_count_that_went_up_since_its_last_look(tmp_path: Path, make, limit_words):
    root = tmp_path / "cgroup"
    root.mkdir()
    make(root, 2)  # two kills before the watch was made: not its news
    watch = OomKillWatch(root, own_cgroup(tmp_path))
    assert watch.news() is None
    make(root, 3)
    news = watch.news()
    assert news is not None and news.startswith("OOM-killed (") and news.endswith("; 3 OOM kills so far)")
    if limit_words:
        assert f"the container's memory limit is {limit_words};" in news
    else:
        assert "no memory limit found" in news
    assert watch.news() is None  # told once
    make(root, 5)
    assert watch.news() is not None and watch.seen == 5


def test_the_watch_says_nothing_where_no_count_is_readable(tmp_path: Path):
    watch = OomKillWatch(tmp_path, own_cgroup(tmp_path))
    assert watch.seen == 0
    assert watch.news() is None


def supervisor(tmp_path: Path) -> EngineSupervisor:
    return EngineSupervisor(
        tmp_path / "engine.json", controller_host="127.0.0.1", registration_port=1, ping_url="tcp://127.0.0.1:2",
        notification_url="tcp://127.0.0.1:3", cluster_key="key", state_file=tmp_path / "state.json",
        cwd=tmp_path, environ={},
    )


def test_the_engines_exit_line_says_oom_killed_when_the_count_went_up(tmp_path: Path):
    root = tmp_path / "cgroup"
    root.mkdir()
    cgroup_v2(root, 0, str(256 * MIB))
    engine = supervisor(tmp_path)
    engine._oom_kills = OomKillWatch(root, own_cgroup(tmp_path))
    killed = -signal.SIGKILL
    assert engine._failure_hint(killed) == ""  # a kill -9, no OOM kill counted
    cgroup_v2(root, 1, str(256 * MIB))
    assert engine._failure_hint(killed) == (
        ": OOM-killed (the container's memory limit is 256 MiB; 1 OOM kill so far)")
    assert engine._failure_hint(killed) == ""  # the next kill -9: the count did not go up again
    cgroup_v2(root, 2, str(256 * MIB))
    assert engine._failure_hint(1) == ""  # an exit of its own is not an OOM kill
