"""A controller that crashes and comes back (same ports, same key, fresh HOME as a new pod
would have) gets its engines back within 60 s, without anybody restarting them."""

from __future__ import annotations

import json
import time

from .conftest import PASSWORD, Cluster, wait_for_log
from .kernel_client import JupyterClient
from .processes import RoleProcess, wait_for_port

BOTH_ENGINES_ANSWER = """
import ipyparallel, json, os, time
deadline = time.monotonic() + {timeout}
pids = None
while pids is None and time.monotonic() < deadline:
    try:
        client = ipyparallel.Client(timeout=5)
        if len(client.ids) == 2:
            pids = client[:].apply_async(os.getpid).get(timeout=10)
        client.close()
    except Exception:
        pass
    if pids is None:
        time.sleep(0.5)
print(json.dumps(pids))
"""


def test_engines_rejoin_a_restarted_controller_within_60_seconds(cluster: Cluster):
    with JupyterClient(cluster.url, PASSWORD, timeout=90) as jupyter, jupyter.kernel() as kernel:
        pids_before = json.loads(kernel.run(BOTH_ENGINES_ANSWER.format(timeout=60), timeout=90).stdout)
        assert pids_before and len(set(pids_before)) == 2

        crashed = time.monotonic()
        cluster.controller.kill()  # SIGKILL the controller's whole process group: a crash
        replacement = RoleProcess("controller-restarted", cluster.controller.root, cluster.controller.variables)
        cluster.controller = replacement.start()
        wait_for_port(replacement, cluster.controller_port)

        output = kernel.run(BOTH_ENGINES_ANSWER.format(timeout=60), timeout=90).stdout
        recovered_after = time.monotonic() - crashed
        pids_after = json.loads(output)

    assert pids_after is not None, "the engines did not come back within 60 s"
    assert recovered_after < 60
    assert len(set(pids_after)) == 2
    # new ipengine processes, started by the supervisors, not the old ones reconnected
    assert not set(pids_after) & set(pids_before)
    for engine in cluster.engines:
        wait_for_log(engine, "restarted (heartbeat clock went back", 1)
    print(f"engines answered {recovered_after:.1f} s after the controller crashed")
