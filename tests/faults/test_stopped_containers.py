"""A container that stops is restarted, or shown down, as Kubernetes' ``restartPolicy: Always``
would have it; an OOM kill of any container is shown in words.

* Killed through the engine's API (``podman kill``): the engine takes that as deliberate and
  does not restart it, so ``status`` shows it exited with its exit status, a viewer ``down``
  without its URL, and says that ``local up`` restarts it; ``up`` then starts it again in its
  pod (same container, its emptyDir kept), as the kubelet restarts a container.
* OOM-killed: the engine restarts it (its process died), and ``status`` says it was restarted
  after an OOM kill, with its memory limit. Podman says ``OOMKilled=false``; the kernel's log,
  which names the killed task's cgroup, tells (readable as root, as these tests run).
* An init container OOM-killed stops ``up`` with the words; a container left exited after an
  OOM kill is shown ``exit 137: OOM-killed``.

Small stacks of the project's image (tiny_apps.py) in workspaces and namespaces of their own.
"""

from __future__ import annotations

import json
import os
import time
import uuid

import pytest

from localrun import engine, labels
from tests.e2e.deployment import IMAGE, owned
from tests.e2e.tiny_apps import HOG, HOG_ONCE, SERVE, deployment, stack, write_app

pytestmark = pytest.mark.container

NOTHING = {"containers": [], "volumes": [], "networks": []}
#: Names of this session only: sessions sharing the engine may run this module at once.
SESSION = uuid.uuid4().hex[:6]
KILLED, OOM = f"issue14-kill-{SESSION}", f"issue14-oom-{SESSION}"
MIB = 1 << 20


def _kernel_log_is_readable() -> bool:
    try:
        os.close(os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK))
    except OSError:
        return False
    return True


READABLE_KERNEL_LOG = _kernel_log_is_readable()
kernel_log = pytest.mark.skipif(not READABLE_KERNEL_LOG,
                                reason="the kernel log (/dev/kmsg) is not readable here: root, or kernel.dmesg_restrict=0")
#: A SIGKILL that was no OOM kill, as far as this machine can tell.
KILLED_WORDS = "exit 137: killed by SIGKILL" + (
    "" if READABLE_KERNEL_LOG else " (an OOM kill or a kill: the kernel log, which tells, is not readable here)")


@pytest.fixture
def workspace(request, local, engine_client):
    """A workspace brought down at the end, also on failure; nothing of it is left."""
    name = request.param
    yield name
    local("down", "--workspace", name)
    assert owned(engine_client, workspace=name) == NOTHING
    assert not engine_client.networks.list(names=[labels.network_name(name)])


def _wait(condition, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.2)
    return result


def _status(local, workspace: str) -> tuple[list[str], dict]:
    text = local.ok("status", "--workspace", workspace).stdout.splitlines()
    report = json.loads(local.ok("status", "--workspace", workspace, "--json").stdout)
    return text, report["workspaces"][workspace]


@pytest.mark.parametrize("workspace", [KILLED], indirect=True)
def test_a_killed_viewer_is_down_without_its_url_and_up_restarts_it_in_its_pod(local, engine_client, tmp_path, workspace):
    app = write_app(tmp_path / "app", {"web-stack": stack(workspace, {
        "web": deployment("web", workspace, SERVE, port=8000, scratch=True)}, published="web")})
    url = json.loads(local.ok("up", "--workspace", workspace, "--from", str(app), "--json").stdout)["url"]
    [web] = engine.containers(engine_client, workspace=workspace)
    assert web.exec_run(["sh", "-c", "echo kept > /scratch/note"]).exit_code == 0

    web.kill()  # podman kill / docker kill, through the API
    _wait(lambda: web.reload() or web.status == "exited", f"{web.name} exited")
    time.sleep(3)
    web.reload()
    assert (web.status, web.attrs["RestartCount"]) == ("exited", 0)  # the engine leaves it down

    text, entry = _status(local, workspace)
    restart = f"`local up --workspace {workspace}` restarts it"
    assert text == [
        f"workspace {workspace}: web-stack",
        f"  exited     {web.name}  (web-stack): {KILLED_WORDS}; {restart}",
        f"  viewer     down: {web.name} is exited ({KILLED_WORDS}); {restart}",
    ]
    assert entry["urls"] == []
    assert [(v["url"], v["up"]) for v in entry["viewers"]] == [(url, False)]
    [container] = entry["containers"]
    assert (container["exit_code"], container["detail"]) == (137, KILLED_WORDS)
    assert container["oom_killed"] is (False if READABLE_KERNEL_LOG else None)

    again = local.ok("up", "--workspace", workspace, "--from", str(app), "--json")
    assert f"local: restarting container {web.name} ({KILLED_WORDS})" in again.stderr.splitlines()
    assert json.loads(again.stdout)["url"] == url
    [restarted] = engine.containers(engine_client, workspace=workspace)
    assert (restarted.id, restarted.status) == (web.id, "running")  # the same container, in its pod
    assert restarted.exec_run(["cat", "/scratch/note"]).output == b"kept\n"  # its emptyDir kept
    text, entry = _status(local, workspace)
    assert text == [f"workspace {workspace}: web-stack", f"  running    {web.name}  (web-stack)", f"  viewer     {url}"]


@kernel_log
@pytest.mark.parametrize("workspace", [OOM], indirect=True)
def test_an_oom_killed_container_is_restarted_and_status_says_so(local, engine_client, tmp_path, workspace):
    app = write_app(tmp_path / "app", {"hog-stack": stack(workspace, {
        "hog": deployment("hog", workspace, ["tini", "--", "python", "-c", HOG_ONCE], memory="64Mi", scratch=True)})})
    local.ok("up", "--workspace", workspace, "--from", str(app))
    [hog] = engine.containers(engine_client, workspace=workspace)
    _wait(lambda: b"restarted; sleeping" in hog.logs(), f"{hog.name} restarted after its OOM kill")
    hog.reload()
    assert (hog.status, hog.attrs["RestartCount"], hog.attrs["State"]["OOMKilled"]) == ("running", 1, False)

    text, entry = _status(local, workspace)
    assert text == [
        f"workspace {workspace}: hog-stack",
        f"  running    {hog.name}  (hog-stack): restarted 1 time, last exit: OOM-killed; memory limit 64 MiB",
    ]
    [container] = entry["containers"]
    assert {k: container[k] for k in ("status", "restarts", "oom_killed", "oom_kills", "memory_limit")} == {
        "status": "running", "restarts": 1, "oom_killed": True, "oom_kills": 1, "memory_limit": 64 * MIB}


@kernel_log
@pytest.mark.parametrize("workspace", [OOM], indirect=True)
def test_an_init_container_oom_killed_stops_up_with_the_words(local, engine_client, tmp_path, workspace):
    app = write_app(tmp_path / "app", {"hog-stack": stack(workspace, {
        "hog": deployment("hog", workspace, ["sleep", "3600"], memory="64Mi", init=["python", "-c", HOG])})})
    result = local("up", "--workspace", workspace, "--from", str(app))
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("local: error: ")]
    assert errors == [f"local: error: init container {workspace}_hog-0_init-prepare exited "
                      "(exit 137: OOM-killed; memory limit 64 MiB):"], result.stderr


@kernel_log
@pytest.mark.parametrize("workspace", [OOM], indirect=True)
def test_a_container_left_exited_by_an_oom_kill_is_shown_so(local, engine_client, workspace):
    """A container of the workspace that the engine did not restart after its OOM kill (made
    here without a restart policy, labelled as `up` labels its containers)."""
    hog = engine_client.containers.create(
        IMAGE, entrypoint=["python", "-c", HOG], name=f"{workspace}_hog-0_main", mem_limit=64 * MIB,
        labels=labels.owned(workspace=workspace, stack="hog-stack", namespace=workspace, kind=labels.APP,
                            obj=f"deployment/{workspace}/hog", pod="hog-0"),
    )
    hog.start()
    _wait(lambda: hog.reload() or hog.status == "exited", f"{hog.name} exited")

    text, entry = _status(local, workspace)
    assert text == [
        f"workspace {workspace}: no stack applied",
        f"  exited     {hog.name}  (hog-stack): exit 137: OOM-killed; memory limit 64 MiB; "
        f"`local up --workspace {workspace}` restarts it",
    ]
    [container] = entry["containers"]
    assert (container["exit_code"], container["oom_killed"], container["oom_kills"]) == (137, True, 1)
