"""How `local status` and `local up` put a container's state in words (engine.Health), and the
engines' times they read: the table of cases, without an engine (the containers themselves are
in tests/faults/test_stopped_containers.py)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from localrun.engine import Health, _timestamp

MIB = 1 << 20


def health(status: str = "running", **fields) -> Health:
    defaults = dict(name="ns_pod-0_main", status=status, exit_code=None, restarts=0, last_exit_oom=None,
                    oom_kills=None, memory_limit=None, error=None)
    return Health(**{**defaults, **fields})


@pytest.mark.parametrize(
    ("state", "words"),
    [
        (health(), ""),
        (health(oom_kills=0, memory_limit=64 * MIB), ""),
        (health(restarts=2), "restarted 2 times"),
        (health(restarts=1, last_exit_oom=True, oom_kills=1, memory_limit=64 * MIB),
         "restarted 1 time, last exit: OOM-killed; memory limit 64 MiB"),
        (health(restarts=1, last_exit_oom=True, oom_kills=3, memory_limit=2 << 30),
         "restarted 1 time, last exit: OOM-killed; 2 more processes OOM-killed; memory limit 2 GiB"),
        (health(oom_kills=1, memory_limit=1536 * MIB), "1 process OOM-killed; memory limit 1.5 GiB"),
        (health("exited", exit_code=0, last_exit_oom=False), "exit 0"),
        (health("exited", exit_code=2, last_exit_oom=False), "exit 2"),
        (health("exited", exit_code=143, last_exit_oom=False), "exit 143: killed by SIGTERM"),
        (health("exited", exit_code=137, last_exit_oom=False, oom_kills=0), "exit 137: killed by SIGKILL"),
        (health("exited", exit_code=137, last_exit_oom=True, oom_kills=1, memory_limit=64 * MIB),
         "exit 137: OOM-killed; memory limit 64 MiB"),
        (health("exited", exit_code=137),
         "exit 137: killed by SIGKILL (an OOM kill or a kill: the kernel log, which tells, is not readable here)"),
        (health("exited", exit_code=127, last_exit_oom=False, error="executable file not found"),
         "exit 127; the engine says: executable file not found"),
        (health("created"), "never ran"),
    ],
)
def test_a_containers_state_in_words(state, words):
    assert state.words() == words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=timezone.utc).timestamp()),
        ("2024-05-01T10:00:00.123456789Z", datetime(2024, 5, 1, 10, tzinfo=timezone.utc).timestamp() + 0.123456789),
        ("2024-05-01T12:00:00.5+02:00", datetime(2024, 5, 1, 10, tzinfo=timezone.utc).timestamp() + 0.5),
        ("0001-01-01T00:00:00Z", None),  # the engines' "never"
        ("", None),
        (None, None),
        ("yesterday", None),
    ],
)
def test_engine_times_are_read_to_the_nanosecond_and_never_is_none(text, expected):
    value = _timestamp(text)
    assert value == pytest.approx(expected, abs=1e-6) if expected is not None else value is None
