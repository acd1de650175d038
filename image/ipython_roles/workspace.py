"""Populating the workspace from IPYTHON_NOTEBOOK_REPOSITORY, without ever clobbering it.

At every start of a viewer or an engine that has a repository:

* workspace empty (``lost+found`` of a fresh volume does not count): shallow-clone the
  repository (``--depth 1``, ``--branch <ref>`` when ``#ref`` is given) into it -> CLONED;
* workspace already holds that clone (its ``.git/config`` names the same origin URL), e.g. a
  persistent volume after a restart: leave every file as it is, so the user's edits survive
  -> ALREADY_CLONED;
* workspace holds anything else: leave it alone, say so in the log -> LEFT_ALONE;
* the clone fails (network, unknown ref, no access): the workspace is left exactly as empty as
  it was -> FAILED, with git's last line of complaint in the reason.

git's "dumb" HTTP transport (a repository on a plain static file server, after ``git
update-server-info``) refuses shallow clones ("dumb http transport does not support shallow
capabilities"); for that reason only, the clone is retried once in full, and the result's message
says so. Any other failure is not retried (a second attempt would only double the wait).

The clone goes into a staging directory inside the workspace (same filesystem: a volume mount
point itself cannot be renamed) and its entries are moved up only once it is complete, so a
failed or interrupted clone never leaves half a repository; staging directories left by an
interrupted start are removed at the next one. git never prompts (GIT_TERMINAL_PROMPT=0) and
passwords embedded in the URL are masked in everything logged.

Requirements are the caller's business (entrypoint.cli): requirements.txt is installed for
CLONED and ALREADY_CLONED, because the packages live under HOME, which may be fresh at every
start while the workspace volume persists.
"""

from __future__ import annotations

import enum
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .repository_source import RepositorySource

STAGING_PREFIX = ".ipython-roles-clone-"
#: Where the viewer keeps Jupyter's notebook-signing secret and signature database (see
#: viewer.NOTARY_DIR): on the workspace volume, because HOME is an emptyDir in a pod and a new pod
#: would otherwise trust none of the user's own notebooks. Hidden in Jupyter's file browser.
NOTARY_DIR = ".jupyter-notary"
#: Entries that do not make a workspace "not empty": a file system's lost+found, and the notary
#: directory, which the viewer creates before a failed clone can be retried at the next start.
IGNORED_ENTRIES = ("lost+found", NOTARY_DIR)
CLONE_TIMEOUT_SECONDS = 600


class Outcome(enum.Enum):
    CLONED = "cloned"
    ALREADY_CLONED = "already cloned"
    LEFT_ALONE = "left alone"
    FAILED = "failed"


@dataclass(frozen=True)
class PopulateResult:
    outcome: Outcome
    message: str

    @property
    def holds_clone(self) -> bool:
        return self.outcome in (Outcome.CLONED, Outcome.ALREADY_CLONED)


def _git_environment() -> dict[str, str]:
    environ = dict(os.environ)
    environ.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    return environ


def _redact(text: str, source: RepositorySource) -> str:
    for secret in source.secrets():
        if secret:
            text = text.replace(secret, "<hidden>")
    return text


def content_entries(workspace: Path) -> list[Path]:
    return [
        entry
        for entry in workspace.iterdir()
        if entry.name not in IGNORED_ENTRIES and not entry.name.startswith(STAGING_PREFIX)
    ]


def remove_stale_staging(workspace: Path) -> None:
    for entry in workspace.iterdir():
        if entry.name.startswith(STAGING_PREFIX) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


def origin_url(workspace: Path) -> str | None:
    """The clone's origin URL, read from .git/config directly (no ownership checks, no hooks)."""
    config = workspace / ".git" / "config"
    if not config.is_file():
        return None
    result = subprocess.run(
        ["git", "config", "--file", str(config), "--get", "remote.origin.url"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=_git_environment(),
    )
    return result.stdout.strip() or None


def holds_clone_of(workspace: Path, source: RepositorySource) -> bool:
    return origin_url(workspace) in (source.url, source.clone_url)


SHALLOW_UNSUPPORTED = "does not support shallow"


def clone_command(source: RepositorySource, destination: Path, *, shallow: bool = True) -> list[str]:
    command = ["git", "-c", "advice.detachedHead=false", "clone", "--quiet"]
    if shallow:
        command += ["--depth", "1"]
    if source.ref:
        command += ["--branch", source.ref]
    return command + ["--", source.clone_url, str(destination)]


def _run_clone(source: RepositorySource, workspace: Path, *, shallow: bool) -> str | None:
    """Clone into a fresh staging directory and move its entries up; git's stderr on failure."""
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=workspace))
    try:
        try:
            result = subprocess.run(
                clone_command(source, staging, shallow=shallow),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                env=_git_environment(),
                timeout=CLONE_TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired:
            return f"git clone took longer than {CLONE_TIMEOUT_SECONDS} s"
        if result.returncode != 0:
            return result.stderr or f"git clone exited with status {result.returncode}"
        for entry in staging.iterdir():
            os.rename(entry, workspace / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return None


def _clone(source: RepositorySource, workspace: Path) -> PopulateResult:
    message = f"cloned {source.describe()} into {workspace}"
    error = _run_clone(source, workspace, shallow=True)
    if error is not None and SHALLOW_UNSUPPORTED in error:
        message += " (full clone: the server does not support shallow clones, e.g. git's dumb HTTP)"
        error = _run_clone(source, workspace, shallow=False)
    if error is not None:
        lines = [line.strip() for line in error.splitlines() if line.strip()]
        return PopulateResult(Outcome.FAILED, _redact(lines[-1] if lines else error, source))
    return PopulateResult(Outcome.CLONED, message)


def populate(source: RepositorySource, workspace: Path) -> PopulateResult:
    """Bring ``workspace`` to hold ``source`` if it is empty; never touch a non-empty one."""
    workspace.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(workspace)
    if content_entries(workspace):
        if holds_clone_of(workspace, source):
            return PopulateResult(
                Outcome.ALREADY_CLONED,
                f"{workspace} already holds the clone of {source.describe()}; keeping its files as they are",
            )
        return PopulateResult(
            Outcome.LEFT_ALONE,
            f"{workspace} is not empty and is not a clone of {source.describe()}; leaving it alone",
        )
    return _clone(source, workspace)
