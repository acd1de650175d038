"""Session-wide guard: the tests leave nothing behind in the container engine.

At the start of a session the engine's test objects are noted: the container tests'
(label ``io.ipython-k8s.test``) and the local runner's (``io.ipython-k8s.local``) of any
workspace but ``default``, which is the user's own (`pipenv run local up`) and which no test
uses. At the end, every such container, volume and network that was not there before is
removed, named, and fails the session. So a test that leaks fails the run that leaked (not a
later one), and the next run starts clean, also when this one failed. A local-run network
still used by a container (the user's) is left alone. Images are not checked: the built image
is the layer cache every run reuses.

It needs an engine only when DOCKER_HOST names one that answers (tests/run.sh sets it); a run
of the engine-free tests (``-m "not container"``) does not touch any engine. Several sessions
sharing one engine at once (developers running parts of the suite side by side) set
IPYTHON_TESTS_SHARED_ENGINE=1: the guard cannot tell their objects apart and stays off.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from localrun import labels as local_labels
from localrun.engine_setup import docker_client, ping

TEST_LABEL = "io.ipython-k8s.test"
USERS_WORKSPACE = "default"
_KEY = pytest.StashKey[dict]()


def _client():
    host = os.environ.get("DOCKER_HOST")
    if not host or ping(host) is not None:
        return None
    return docker_client(host, timeout=120)


def _test_objects(client) -> dict[str, dict[str, object]]:
    """kind -> {name: object} of the objects tests make (see the module's docstring)."""
    def ours(labels: dict | None) -> bool:
        labels = labels or {}
        if TEST_LABEL in labels:
            return True
        return labels.get(local_labels.MARKER) == "true" and labels.get(local_labels.WORKSPACE) != USERS_WORKSPACE

    def listed(collection) -> dict[str, object]:
        found = {}
        for label in (TEST_LABEL, local_labels.MARKER):
            for obj in collection.list(**({"all": True} if collection is client.containers else {}),
                                       filters={"label": label}):
                if ours(obj.attrs.get("Labels") or obj.attrs.get("Config", {}).get("Labels")):
                    found[obj.name] = obj
        return found

    return {"container": listed(client.containers), "volume": listed(client.volumes), "network": listed(client.networks)}


#: Folders whose every test needs a container engine: marked `container` here, in one place, so
#: that `pipenv run test -m "not container"` is the fast suite that needs none.
ENGINE_FOLDERS = ("container", "e2e", "faults", "setup")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = Path(__file__).resolve().parent
    for item in items:
        parts = item.path.relative_to(tests).parts if item.path.is_relative_to(tests) else ()
        if parts and parts[0] in ENGINE_FOLDERS:
            item.add_marker(pytest.mark.container)


def pytest_sessionstart(session: pytest.Session) -> None:
    client = None if os.environ.get("IPYTHON_TESTS_SHARED_ENGINE") else _client()
    if client is not None:
        session.stash[_KEY] = {"client": client, "before": {k: set(v) for k, v in _test_objects(client).items()}}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    noted = session.stash.get(_KEY, None)
    if noted is None:
        return
    client = noted["client"]
    left = {kind: {name: obj for name, obj in objects.items() if name not in noted["before"][kind]}
            for kind, objects in _test_objects(client).items()}
    for kind in ("container", "volume", "network"):  # containers first: they hold the others
        for name, obj in list(left[kind].items()):
            try:
                obj.remove(force=True) if kind != "network" else obj.remove()
            except Exception:  # noqa: BLE001 - removed meanwhile, or a network a user's container uses
                if kind == "network":
                    del left[kind][name]
    names = [f"{kind} {name}" for kind in left for name in sorted(left[kind])]
    if names:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"the tests left {len(names)} object(s) in the container engine (now removed): {', '.join(names)}"
        if reporter is not None:
            reporter.write_line(f"\nERROR: {message}", red=True)
        if session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    client.close()
