"""Starting the image's containers for the container tests, through the Docker API (podman here).

Every container and network gets the label :data:`TEST_LABEL`, so that a session can remove
what an interrupted earlier session left behind. Viewer ports are published on 127.0.0.1 only
(a random host port): the tests talk to the viewer as a user on this machine would, and never
to a container's own address.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests

TEST_LABEL = "io.ipython-k8s.test"
TEST_LABEL_VALUE = "container"
VIEWER_PORT = 8888
START_TIMEOUT_SECONDS = 180  # a cold viewer on a busy 2-core machine


@dataclass
class Started:
    """A running container and where its viewer port is published (if it has one)."""

    container: Any
    host_port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.host_port}"

    def logs(self) -> str:
        return self.container.logs(stdout=True, stderr=True).decode("utf-8", "replace")

    def exec(self, command: Sequence[str], **kwargs: Any) -> tuple[int, str]:
        result = self.container.exec_run(list(command), **kwargs)
        return result.exit_code, result.output.decode("utf-8", "replace")

    def status(self) -> str:
        self.container.reload()
        return self.container.status


def labels() -> dict[str, str]:
    return {TEST_LABEL: TEST_LABEL_VALUE}


def remove_leftovers(client: Any) -> None:
    """Remove the containers and networks an interrupted earlier session left."""
    selector = {"label": f"{TEST_LABEL}={TEST_LABEL_VALUE}"}
    for container in client.containers.list(all=True, filters=selector):
        container.remove(force=True)
    for network in client.networks.list(filters=selector):
        network.remove()


def start(
    client: Any,
    image: str,
    environment: Mapping[str, str],
    *,
    name: str | None = None,
    user: str | None = None,
    network: Any = None,
    aliases: Sequence[str] = (),
    publish_viewer: bool = False,
    command: Sequence[str] | None = None,
    **options: Any,
) -> Started:
    """Create and start a container of ``image``; with ``network``, join it under ``aliases``."""
    container = client.containers.create(
        image,
        command=list(command) if command is not None else None,
        environment=dict(environment),
        name=name,
        hostname=name,
        user=user,
        labels=labels(),
        ports={f"{VIEWER_PORT}/tcp": ("127.0.0.1", None)} if publish_viewer else None,
        network=network.name if network is not None else None,
        detach=True,
        **options,
    )
    try:
        if network is not None and aliases:
            # create() joined the network without aliases; join again with them (Docker and Podman).
            network.disconnect(container)
            network.connect(container, aliases=list(aliases))
        container.start()
    except Exception:
        container.remove(force=True)  # a container that cannot start is not left "Created"
        raise
    host_port = None
    if publish_viewer:
        container.reload()
        host_port = int(container.attrs["NetworkSettings"]["Ports"][f"{VIEWER_PORT}/tcp"][0]["HostPort"])
    return Started(container, host_port)


def remove(started: Started | None) -> None:
    if started is not None:
        started.container.remove(force=True)


def wait_for_exit(started: Started, timeout: float = 120) -> int:
    return int(started.container.wait(timeout=timeout)["StatusCode"])


def wait_for_viewer(started: Started, timeout: float = START_TIMEOUT_SECONDS) -> None:
    """Wait until GET /api answers 200; fail with the container's log if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{started.url}/api", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        if started.status() not in ("created", "running"):
            raise AssertionError(f"the viewer container exited ({started.status()}):\n{started.logs()[-3000:]}")
        time.sleep(0.5)
    raise AssertionError(f"the viewer did not answer /api within {timeout} s:\n{started.logs()[-3000:]}")


@contextlib.contextmanager
def running_viewer(client: Any, image: str, password: str) -> Iterator[Started]:
    """A viewer container with ``password``, published and answering; removed afterwards."""
    started = start(client, image, {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWORD": password},
                    publish_viewer=True)
    try:
        wait_for_viewer(started)
        yield started
    finally:
        remove(started)


def oom_kills(started: Started) -> tuple[int | None, str]:
    """The OOM kills the container's memory cgroup counted (v1's memory.oom_control, v2's
    memory.events; None when neither says), and what the files said."""
    _, counters = started.exec(["sh", "-c", "cat /sys/fs/cgroup/memory/memory.oom_control "
                                            "/sys/fs/cgroup/memory.events 2>/dev/null; true"])
    kills = [int(line.split()[1]) for line in counters.splitlines() if line.startswith("oom_kill ")]
    return (kills[0] if kills else None), counters


def healthcheck_command(started: Started) -> list[str]:
    """The image's HEALTHCHECK test as an argv (as the container got it from the image)."""
    started.container.reload()
    test = (started.container.attrs["Config"].get("Healthcheck") or {}).get("Test") or []
    if not test or test[0] not in ("CMD", "CMD-SHELL"):
        raise AssertionError(f"the container has no HEALTHCHECK from the image: {test!r}")
    return test[1:] if test[0] == "CMD" else ["/bin/sh", "-c", test[1]]
