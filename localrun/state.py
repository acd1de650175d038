"""The local state file: what Terraform's state is for a deploy, for a local run.

WHY: a second ``local up`` must keep the password, the cluster key and the generated labels
(else the workspace volume's notebooks would sit behind a new URL and every engine would get a
new key), and a viewer brought up later must read the outputs of the cluster-stack applied
earlier, as ``terraform_remote_state`` does. So, per workspace and stack, the file keeps the
random values with the arguments they were made from (new arguments, new value: the provider
replaces them too), and what was applied (the Kubernetes objects and the outputs).

It holds secrets, like a tfstate: the directory is 0700, the file 0600, written atomically.
One ``local`` command at a time holds ``state.lock`` (two concurrent ``up`` would race on the
containers as well as on the file).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import LocalRunError

STATE_VERSION = 1
STATE_FILE = "state.json"
LOCK_FILE = "state.lock"


class State:
    """The parsed state file; ``save()`` writes it back."""

    def __init__(self, directory: Path, data: dict[str, Any]):
        self.directory = directory
        self.data = data

    @property
    def path(self) -> Path:
        return self.directory / STATE_FILE

    # -- reading --------------------------------------------------------------------------
    def workspaces(self) -> list[str]:
        return sorted(self.data["workspaces"])

    def _stack(self, workspace: str, stack: str) -> dict[str, Any]:
        spaces = self.data["workspaces"].setdefault(workspace, {"stacks": {}, "published": {}})
        return spaces["stacks"].setdefault(stack, {"random": {}})

    def random_values(self, workspace: str, stack: str, address: str, config: dict[str, Any]) -> dict[str, Any] | None:
        """The stored values of a random resource if they were made from this configuration."""
        entry = self._stack(workspace, stack)["random"].get(address)
        if entry is not None and entry.get("config") == config:
            return entry["values"]
        return None

    def set_random_values(self, workspace: str, stack: str, address: str, config: dict[str, Any], values: dict[str, Any]) -> None:
        self._stack(workspace, stack)["random"][address] = {"config": config, "values": values}

    def applied(self, workspace: str, stack: str) -> dict[str, Any] | None:
        stacks = self.data["workspaces"].get(workspace, {}).get("stacks", {})
        return stacks.get(stack, {}).get("applied")

    def applied_stacks(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(workspace, stack, applied) for every stack that is up, in any workspace."""
        for workspace, content in sorted(self.data["workspaces"].items()):
            for stack, entry in sorted(content.get("stacks", {}).items()):
                if entry.get("applied") is not None:
                    yield workspace, stack, entry["applied"]

    def published_port(self, workspace: str, key: str) -> int | None:
        return self.data["workspaces"].get(workspace, {}).get("published", {}).get(key)

    # -- writing --------------------------------------------------------------------------
    def set_applied(self, workspace: str, stack: str, applied: dict[str, Any] | None) -> None:
        entry = self._stack(workspace, stack)
        if applied is None:
            entry.pop("applied", None)
        else:
            entry["applied"] = applied

    def set_published_port(self, workspace: str, key: str, port: int | None) -> None:
        published = self.data["workspaces"].setdefault(workspace, {"stacks": {}, "published": {}}).setdefault("published", {})
        if port is None:
            published.pop(key, None)
        else:
            published[key] = port

    def forget(self, workspace: str, stacks: list[str] | None = None) -> None:
        """Drop the generated values (and everything else) of a workspace, or of some stacks."""
        if stacks is None:
            self.data["workspaces"].pop(workspace, None)
            return
        for stack in stacks:
            self.data["workspaces"].get(workspace, {}).get("stacks", {}).pop(stack, None)

    def save(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as stream:
            json.dump(self.data, stream, indent=1, sort_keys=True)
            stream.write("\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, self.path)


def _load(directory: Path) -> State:
    path = directory / STATE_FILE
    if not path.exists():
        return State(directory, {"version": STATE_VERSION, "workspaces": {}})
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise LocalRunError(f"cannot read the local state {path}: {error}") from None
    if data.get("version") != STATE_VERSION or not isinstance(data.get("workspaces"), dict):
        raise LocalRunError(f"{path}: not a local state of version {STATE_VERSION}; move it away to start afresh")
    return State(directory, data)


@contextlib.contextmanager
def locked_state(directory: Path) -> Iterator[State]:
    """The state, with the lock held for the whole command."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    descriptor = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LocalRunError(f"another `local` command is running on {directory} (lock {LOCK_FILE})") from None
        yield _load(directory)
    finally:
        os.close(descriptor)
