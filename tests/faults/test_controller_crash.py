"""The controller crashes mid-session: the restart policy runs it again, every engine is back
within 60 s, and a notebook kernel that was connected gets a working ``Client()`` again.

Kubernetes equivalent: the kubelet restarting the controller's container (restartPolicy Always
of its Deployment). The engines are not restarted by anybody: their supervisors notice the new
controller and register new ipengine processes with it (image/ipython_roles/engine.py).
"""

from __future__ import annotations

import json
import sys
import time

from tests.roles.kernel_client import JupyterClient

from .crashes import crash, restart_count, wait_restarted

ENGINES_BACK_SECONDS = 60

#: Defined once in the kernel, called before and after the crash: a new Client() each time, as
#: a user re-running the notebook's first cell does.
DEFINE_CLUSTER_ANSWERS = """
import json, socket, time
import ipyparallel as ipp

def cluster_answers(wanted, seconds):
    deadline = time.monotonic() + seconds
    attempts = 0
    while time.monotonic() < deadline:
        attempts += 1
        client = None
        try:
            client = ipp.Client(timeout=5)
            if len(client.ids) == wanted:
                squares = client.load_balanced_view().map_async(lambda x: x * x, range(16)).get(timeout=20)
                hosts = client[:].apply_async(socket.gethostname).get(timeout=20)
                return {"ids": sorted(client.ids), "squares": squares, "hosts": sorted(hosts), "attempts": attempts}
        except Exception:  # the controller is not back yet, or an engine is not in yet: try again
            pass
        finally:
            if client is not None:
                client.close()
        time.sleep(0.5)
    return {"ids": None, "attempts": attempts}
"""


def _answers(kernel, wanted: int, seconds: float) -> dict:
    code = f"print(json.dumps(cluster_answers({wanted}, {seconds})))"
    return json.loads(kernel.run(code, timeout=seconds + 60).stdout)


def test_engines_and_a_kernels_client_are_back_within_60_seconds_of_a_controller_crash(faults):
    controller = faults.controller()
    engine_hosts = sorted(c.attrs["Config"]["Hostname"] for c in faults.engine_containers())
    engine_restarts = {c.name: restart_count(c) for c in faults.engine_containers()}
    squares = [x * x for x in range(16)]

    with JupyterClient(faults.url, password=faults.password, timeout=60) as jupyter, jupyter.kernel() as kernel:
        kernel.run(DEFINE_CLUSTER_ANSWERS)
        before = _answers(kernel, faults.engines, 120)
        assert before["ids"] is not None and len(before["ids"]) == faults.engines
        assert before["squares"] == squares and before["hosts"] == engine_hosts
        # a client that stays connected through the crash, as a notebook's `rc` does
        kernel.run("connected_through_the_crash = ipp.Client(timeout=10)")

        crashed = time.monotonic()
        restarts_before = crash(controller)
        controller_back = wait_restarted(controller, restarts_before)  # the restart policy, nobody else
        after = _answers(kernel, faults.engines, ENGINES_BACK_SECONDS)
        engines_back = time.monotonic() - crashed
        kernel.run("connected_through_the_crash.close()")

    print(f"\ncontroller crash: container running again after {controller_back:.1f} s, "
          f"{faults.engines} engines answering a new Client() after {engines_back:.1f} s "
          f"({after['attempts']} attempts)", file=sys.stderr)
    assert after["ids"] is not None, f"the engines were not back within {ENGINES_BACK_SECONDS} s"
    assert engines_back < ENGINES_BACK_SECONDS
    # A new controller numbers the engines anew: exactly the engine count, each container once.
    assert len(after["ids"]) == faults.engines
    assert after["squares"] == squares
    assert after["hosts"] == engine_hosts
    # the engines re-registered by themselves: no engine container was restarted
    assert {c.name: restart_count(c) for c in faults.engine_containers()} == engine_restarts
    assert restart_count(controller) == restarts_before + 1
