"""An engine crashes while a load-balanced map runs: the map never hangs.

By default the task that was on the dead engine fails with ipyparallel's EngineError (in a
CompositeError, as any failed task of a map) once the controller has given up on the engine's
heartbeat; with ``view.set_flags(retries=1)`` the scheduler runs that task again on another
engine and the map completes with every result. Either way the map ends within a hard bound.

Why a task is always lost, whatever the instant of the kill: the scheduler keeps one task in
flight per engine (``hwm`` 1) and still has unassigned tasks, so the dead engine either holds an
unfinished task or is handed the next one the moment its last result arrives.

The engine's container comes back by its restart policy and registers as a new engine; the old
engine id is dropped when its heartbeat is missed. Each case waits until the cluster is back to
its engine count, so the next test finds it as it was.
"""

from __future__ import annotations

import json
import sys
import time

import pytest

from tests.e2e.deployment import engine_ids

from .crashes import crash, wait_restarted

TASKS = 32
TASK_SECONDS = 0.5
#: No map may take longer than this, lost engine included (the controller's heartbeat 1 s x 10
#: misses, then 5 s before the scheduler declares the task stranded: ~16 s expected; ~40 s with
#: ipyparallel's 3 s heartbeat).
MAP_BOUND_SECONDS = 60

MAP_LOSING_AN_ENGINE = f"""
import json, os, socket, sys, time
import ipyparallel as ipp

def task(x):
    import socket, time
    time.sleep({TASK_SECONDS})
    return x * x, socket.gethostname()

client = ipp.Client(timeout=30)
view = client.load_balanced_view()
retries = int(os.environ["RETRIES"])
if retries:
    view.set_flags(retries=retries)
started = time.monotonic()
result = view.map_async(task, range({TASKS}))
while result.progress < 2 * len(client.ids) and not result.ready():  # every engine has had 2 tasks
    time.sleep(0.02)
print("kill now", flush=True)
outcome = {{"done_before_kill": result.progress}}
try:
    values = result.get(timeout={MAP_BOUND_SECONDS} - (time.monotonic() - started))
    outcome.update(outcome="completed", squares=[square for square, _ in values])
except ipp.error.TimeoutError:
    outcome.update(outcome="hung")
except Exception as error:
    outcome.update(outcome="failed", type=f"{{type(error).__module__}}.{{type(error).__name__}}", message=str(error),
                   remote=[ename for ename, *_ in getattr(error, "elist", [])])
outcome["seconds"] = time.monotonic() - started
print(json.dumps(outcome), flush=True)
"""


def run_map_and_crash_an_engine(faults, retries: int) -> tuple[dict, float]:
    """Start the map in the viewer, crash an engine container when the map is under way; return
    what the map reported and the seconds from the crash to the map's end."""
    viewer, victim = faults.viewer(), faults.engine_containers()[0]
    api = faults.client.api
    command = ["timeout", str(MAP_BOUND_SECONDS + 60), "python", "-c", MAP_LOSING_AN_ENGINE]
    execution = api.exec_create(viewer.id, command, environment={"RETRIES": str(retries)},
                                workdir="/home/ipython/work", stdout=True, stderr=True)
    output, crashed, restarts_before = "", None, None
    for stdout, stderr in api.exec_start(execution["Id"], stream=True, demux=True):
        output += (stdout or b"").decode(errors="replace") + (stderr or b"").decode(errors="replace")
        if crashed is None and "kill now" in output:
            crashed = time.monotonic()
            restarts_before = crash(victim)
    ended = time.monotonic()
    status = api.exec_inspect(execution["Id"])["ExitCode"]
    assert status == 0, f"the map's script exited {status}:\n{output}"
    assert crashed is not None, f"the map never got under way:\n{output}"
    wait_restarted(victim, restarts_before)
    return json.loads(output.strip().splitlines()[-1]), ended - crashed


@pytest.mark.parametrize(
    ("retries", "expected"),
    [(0, "failed"), (1, "completed")],
    ids=["default-fails-with-EngineError", "retries-completes"],
)
def test_a_map_losing_an_engine_ends_within_the_bound(faults, retries, expected):
    assert len(engine_ids(faults.viewer(), faults.engines)) == faults.engines
    outcome, after_crash = run_map_and_crash_an_engine(faults, retries)
    error = f": {outcome['message'][:160]!r}" if "message" in outcome else ""
    print(f"\nmap of {TASKS} x {TASK_SECONDS} s tasks, retries={retries}, an engine crashed after "
          f"{outcome['done_before_kill']} results: {outcome['outcome']} {after_crash:.1f} s after the crash "
          f"({outcome['seconds']:.1f} s in all){error}", file=sys.stderr)

    assert outcome["outcome"] == expected, outcome
    assert outcome["seconds"] < MAP_BOUND_SECONDS
    if expected == "completed":
        assert outcome["squares"] == [x * x for x in range(TASKS)]
    else:
        # a clear ipyparallel error: which task, and that its engine died
        assert outcome["type"] == "ipyparallel.error.CompositeError"
        assert outcome["remote"] == ["EngineError"]
        assert "died while running task" in outcome["message"]
    # the cluster heals: the restarted container is an engine again, the dead one is dropped
    assert len(engine_ids(faults.viewer(), faults.engines)) == faults.engines
