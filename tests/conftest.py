"""Session-wide guard: the tests leave nothing behind in the container engine.

At the start of a session the engine's labelled objects (the local runner's
``io.ipython-k8s.local`` and the container tests' ``io.ipython-k8s.test``) are noted; at the
end, every labelled container, volume and network that was not there before is removed, named,
and fails the session. So a test that leaks fails the run that leaked (not a later one), and
the next run starts clean, also when this one failed. Images are not checked: the built image
is the layer cache every run reuses.

It needs an engine only when DOCKER_HOST names one that answers (tests/run.sh sets it); a run
of the engine-free tests (``-m "not container"``) does not touch any engine.
"""

from __future__ import annotations

import os

import pytest

from localrun.engine_setup import ping

LABELS = ("io.ipython-k8s.local", "io.ipython-k8s.test")
_KEY = pytest.StashKey[dict]()


def _client():
    host = os.environ.get("DOCKER_HOST")
    if not host or ping(host) is not None:
        return None
    import docker

    return docker.DockerClient(base_url=host, timeout=120)


def _labelled(client) -> dict[str, dict[str, object]]:
    """kind -> {name: object} of every object carrying one of LABELS."""
    found: dict[str, dict[str, object]] = {"container": {}, "volume": {}, "network": {}}
    for label in LABELS:
        for container in client.containers.list(all=True, filters={"label": label}):
            found["container"][container.name] = container
        for volume in client.volumes.list(filters={"label": label}):
            if label in (volume.attrs.get("Labels") or {}):  # Podman 4.3 may ignore a volume label filter
                found["volume"][volume.name] = volume
        for network in client.networks.list(filters={"label": label}):
            found["network"][network.name] = network
    return found


def pytest_sessionstart(session: pytest.Session) -> None:
    client = _client()
    if client is not None:
        session.stash[_KEY] = {"client": client, "before": {k: set(v) for k, v in _labelled(client).items()}}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    noted = session.stash.get(_KEY, None)
    if noted is None:
        return
    client = noted["client"]
    left = {kind: {name: obj for name, obj in objects.items() if name not in noted["before"][kind]}
            for kind, objects in _labelled(client).items()}
    for kind in ("container", "volume", "network"):  # containers first: they hold the others
        for obj in left[kind].values():
            try:
                obj.remove(force=True) if kind != "network" else obj.remove()
            except Exception:  # noqa: BLE001 - removed meanwhile; the report below still names it
                pass
    names = [f"{kind} {name}" for kind in left for name in sorted(left[kind])]
    if names:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"the tests left {len(names)} object(s) in the container engine (now removed): {', '.join(names)}"
        if reporter is not None:
            reporter.write_line(f"\nERROR: {message}", red=True)
        if session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    client.close()
