"""Shared data and engine groups, run by `local up` as a user would (issue 12).

One `up` of both stacks with a shared volume and a second engine group: a notebook kernel in
the viewer writes a file under /home/ipython/shared and every engine of both groups reads it;
each engine reports its group, and a DirectView of one group's engines runs only there.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.roles.kernel_client import JupyterClient

from .deployment import IMAGE, brought_up

WORKSPACE = "e2e-groups"
SHARED = "/home/ipython/shared"

KERNEL_CODE = """
import json
import ipyparallel as ipp
with open({path!r}, "w") as f:
    f.write({token!r})
rc = ipp.Client()
rc.wait_for_engines(3, timeout=180)
read = rc[:].apply_sync(lambda path: open(path).read(), {path!r})
groups = rc[:].pull("engine_group", block=True)
big = [i for i, g in zip(rc.ids, groups) if g == "big"]
in_big = rc[big].apply_sync(lambda: __import__("os").environ["IPYTHON_ENGINE_GROUP"])
print(json.dumps({{"read": read, "groups": sorted(groups), "in_big": in_big}}))
rc.close()
"""


@pytest.fixture(scope="module")
def grouped(local, engine_client):
    parameters = {"IPYTHON_ENGINES": "1", "IPYTHON_ENGINE_GROUPS": "big:2", "IPYTHON_SHARED_STORAGE": "1Gi",
                  "IPYTHON_IMAGE": IMAGE}
    with brought_up(local, engine_client, WORKSPACE, parameters, "1 + 2 engines, shared volume") as deployment:
        yield deployment


def test_a_file_a_notebook_writes_to_the_shared_volume_is_read_by_every_engine_and_groups_are_addressable(grouped):
    assert grouped.engines == 3  # the default group's one and the group big's two
    token = uuid.uuid4().hex
    code = KERNEL_CODE.format(path=f"{SHARED}/from-the-notebook.txt", token=token)
    with JupyterClient(grouped.url, password=grouped.password) as jupyter, jupyter.kernel() as kernel:
        output = kernel.run(code, timeout=240).stdout
    result = json.loads(output.strip().splitlines()[-1])
    assert result == {"read": [token] * 3, "groups": ["big", "big", "default"], "in_big": ["big", "big"]}
