"""The local state file: what Terraform's state is for a deploy, for a local run.

WHY: a second ``local up`` must keep the password, the cluster key and the generated labels
(else the workspace volume's notebooks would sit behind a new URL and every engine would get a
new key), and a viewer brought up later must read the outputs of the cluster-stack applied
earlier, as ``terraform_remote_state`` does. So, per workspace and stack, the file keeps the
random values with the arguments they were made from (new arguments, new value: the provider
replaces them too), and what was applied (the Kubernetes objects and the outputs).

It holds secrets, like a tfstate: the directory is 0700, the file 0600. ``up`` and ``down``
hold ``state.lock`` for the whole command (two concurrent ``up`` would race on the containers
as well as on the file); ``status`` only reads, without the lock, so it answers while an ``up``
waits for its viewer.

WHY a reader needs no lock: the file is never written in place. A writer writes a temporary
file in the same directory, fsyncs it and renames it over ``state.json`` (then fsyncs the
directory), so a reader opens the old file or the new one, never half of one. A write that
fails (a full disk, a read-only directory) removes its temporary file and leaves the old
state as it was; a writer killed half-way leaves a ``.state.json.*.tmp`` that the next writer
removes. Every failure is one line naming the file and the operating system's reason in words.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import LocalRunError
from .report import os_error_words

STATE_VERSION = 1
STATE_FILE = "state.json"
LOCK_FILE = "state.lock"
#: Temporary files of a write: ``.state.json.<random>.tmp`` (``state.tmp``: the name before 0.1.1).
TEMPORARY_PATTERNS = (f".{STATE_FILE}.*.tmp", "state.tmp")


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

    def namespaces(self, workspace: str, stack: str) -> list[str]:
        """The namespaces whose networks the stack's containers ever used in this workspace
        (kept by ``down``, so that a later ``down`` still looks at their networks)."""
        stacks = self.data["workspaces"].get(workspace, {}).get("stacks", {})
        return list(stacks.get(stack, {}).get("namespaces", []))

    def published_port(self, workspace: str, key: str) -> int | None:
        return self.data["workspaces"].get(workspace, {}).get("published", {}).get(key)

    # -- writing --------------------------------------------------------------------------
    def set_applied(self, workspace: str, stack: str, applied: dict[str, Any] | None) -> None:
        entry = self._stack(workspace, stack)
        if applied is None:
            entry.pop("applied", None)
        else:
            entry["applied"] = applied

    def add_namespaces(self, workspace: str, stack: str, namespaces: set[str]) -> None:
        entry = self._stack(workspace, stack)
        entry["namespaces"] = sorted(set(entry.get("namespaces", [])) | set(namespaces))

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
        """Write the state atomically (see the module's docstring); on failure nothing changes."""
        path = self.path
        _make_directory(self.directory)
        try:
            descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{STATE_FILE}.", suffix=".tmp")
        except OSError as error:
            raise LocalRunError(f"cannot write the local state {path}: {os_error_words(error)}") from None
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                json.dump(self.data, stream, indent=1, sort_keys=True)
                stream.write("\n")
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)
        except BaseException as error:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            if isinstance(error, OSError):
                raise LocalRunError(f"cannot write the local state {path}: {os_error_words(error)}") from None
            raise
        _fsync_directory(self.directory)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; a file system that cannot fsync a directory is left as it is."""
    try:
        descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _make_directory(directory: Path) -> None:
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise LocalRunError(f"cannot create the local state directory {directory}: {os_error_words(error)}") from None


def _is_state(data: Any) -> bool:
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION or not isinstance(data.get("workspaces"), dict):
        return False
    for workspace in data["workspaces"].values():
        if not isinstance(workspace, dict) or not isinstance(workspace.get("stacks", {}), dict):
            return False
        if not all(isinstance(stack, dict) for stack in workspace.get("stacks", {}).values()):
            return False
    return True


def _load(directory: Path) -> State:
    path = directory / STATE_FILE
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return State(directory, {"version": STATE_VERSION, "workspaces": {}})
    except OSError as error:
        raise LocalRunError(f"cannot read the local state {path}: {os_error_words(error)}") from None
    try:
        data = json.loads(content.decode("utf-8"))
        problem = None if _is_state(data) else f"it is not a local state of version {STATE_VERSION}"
    except UnicodeDecodeError:
        problem = "it is not text (not UTF-8)"
    except json.JSONDecodeError as error:
        problem = ("it is empty" if not content.strip() else
                   f"it is not valid JSON ({error.msg[0].lower()}{error.msg[1:]} at line {error.lineno}, column {error.colno})")
    if problem is not None:
        raise LocalRunError(
            f"cannot read the local state {path}: {problem}; move it away to start afresh "
            f"(new passwords, keys and labels)"
        )
    return State(directory, data)


def read_state(directory: Path) -> State:
    """The state as it is now, for a command that only reads it (``status``): no lock, nothing
    created; a directory or file that does not exist is an empty state."""
    return _load(directory)


def _remove_stray_temporaries(directory: Path) -> None:
    """Temporary files of a writer killed half-way (only a lock holder writes, so none is live)."""
    for pattern in TEMPORARY_PATTERNS:
        for stray in directory.glob(pattern):
            with contextlib.suppress(OSError):
                stray.unlink()


@contextlib.contextmanager
def locked_state(directory: Path) -> Iterator[State]:
    """The state, with the lock held for the whole command (``up``, ``down``)."""
    _make_directory(directory)
    try:
        if directory.stat().st_mode & 0o777 != 0o700:
            os.chmod(directory, 0o700)
    except OSError as error:
        raise LocalRunError(f"cannot make the local state directory {directory} private (mode 0700): "
                            f"{os_error_words(error)}") from None
    lock = directory / LOCK_FILE
    try:
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise LocalRunError(f"cannot open the lock of the local state {lock}: {os_error_words(error)}") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LocalRunError(f"another `local up` or `local down` is running on {directory} (lock {LOCK_FILE})") from None
        _remove_stray_temporaries(directory)
        yield _load(directory)
    finally:
        os.close(descriptor)
