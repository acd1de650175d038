"""IPYTHON_REPOSITORY_UPDATE=pull: a workspace that already holds the clone gets the new commits.

A persistent workspace (a volume kept across restarts) is cloned once (workspace.populate) and
would never see a later upstream fix. So at every start of a viewer or an engine whose workspace
already holds the clone of IPYTHON_NOTEBOOK_REPOSITORY, the branch is fetched and merged with
nbgitpuller's rules, nbgitpuller's own code (``GitPuller.update``), as its ``/git-pull`` link does
on a JupyterHub:

* the user's edits win: local changes are committed ("Automatic commit by nbgitpuller") and the
  upstream branch is merged with ``-Xours``; a file the user changed and upstream deleted is kept;
* a file the user deleted comes back (nbgitpuller checks it out again);
* new upstream files appear; an untracked file of the user's in the way is renamed first
  (``name__<timestamp>.ext``).

What this module adds around it:

* the fetch is ours, not nbgitpuller's (``git fetch`` with no credentials and no timeout): the
  same credential helper as the clone (the token in git's environment only, never on its command
  line, in ``.git/config`` or in a log), a timeout (:data:`FETCH_TIMEOUT_SECONDS`), and the one
  line saying why it failed (workspace.failure_reason). nbgitpuller's remote look-up of the
  branch is skipped for the same reason: the fetch of ``refs/heads/<branch>`` proves it exists;
* git runs without hooks (``core.hooksPath=/dev/null``) and without an fsmonitor command: the
  workspace is writable by the notebooks' kernels, and nothing they wrote into ``.git`` is run by
  the start; ``safe.directory`` names the workspace, whose top directory may belong to another
  UID (a volume's mount point under an arbitrary UID of group 0);
* a clone of a tag (a detached HEAD) is not pulled: a tag does not move. A workspace whose HEAD is
  on another branch than the one asked for (``URL#branch``) is left alone: the user switched;
* nothing stops the start: an upstream that cannot be reached, or a merge that fails, is one line
  in the log and the workspace stays as it was (a failed merge is aborted), also with
  IPYTHON_REPOSITORY_REQUIRED=true, which is about starting without the repository at all (here
  it is there, only older).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

from .repository_source import RepositorySource
from .workspace import CREDENTIAL_HELPER, Outcome, PopulateResult, _git_environment, failure_reason

FETCH_TIMEOUT_SECONDS = 120


def _config_environment(config: list[tuple[str, str]]) -> dict[str, str]:
    """``git -c`` for every git that nbgitpuller starts: GIT_CONFIG_COUNT/KEY_n/VALUE_n (git 2.31)."""
    environ = {"GIT_CONFIG_COUNT": str(len(config))}
    for index, (key, value) in enumerate(config):
        environ[f"GIT_CONFIG_KEY_{index}"] = key
        environ[f"GIT_CONFIG_VALUE_{index}"] = value
    return environ


def git_environment(workspace: Path, source: RepositorySource | None = None) -> dict[str, str]:
    """git's environment in the workspace: workspace._git_environment (no IPYTHON_* variable, no
    prompt, C messages; the credentials for the helper when ``source`` has them), no hooks, no
    fsmonitor, the workspace a safe directory, and the credential helper when needed."""
    config = [("safe.directory", str(workspace)), ("core.hooksPath", "/dev/null"), ("core.fsmonitor", "false")]
    if source is not None and source.credentials() is not None:
        # the empty value first: no other helper (a credential store, say) is asked or told
        config += [("credential.helper", ""), ("credential.helper", CREDENTIAL_HELPER)]
    return {**_git_environment(source), **_config_environment(config)}


def _git(workspace: Path, environ: Mapping[str, str], *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *arguments], cwd=workspace, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, env=dict(environ))


def current_branch(workspace: Path, environ: Mapping[str, str]) -> str | None:
    """The branch HEAD is on; None for a detached HEAD (a clone of a tag)."""
    result = _git(workspace, environ, "symbolic-ref", "--quiet", "--short", "HEAD")
    return result.stdout.strip() or None if result.returncode == 0 else None


def fetch(source: RepositorySource, workspace: Path, branch: str) -> str | None:
    """Fetch ``branch`` of the repository into ``origin/<branch>``; git's stderr on failure."""
    command = ["git", "fetch", "--quiet", "--no-tags", "--", source.clone_url,
               f"+refs/heads/{branch}:refs/remotes/origin/{branch}"]
    try:
        result = subprocess.run(command, cwd=workspace, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                env=git_environment(workspace, source), timeout=FETCH_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return f"git fetch took longer than {FETCH_TIMEOUT_SECONDS} s"
    if result.returncode != 0:
        return result.stderr or f"fatal: git fetch exited with status {result.returncode}"
    return None


def workspace_puller(workspace: Path, source: RepositorySource, branch: str):
    """nbgitpuller's GitPuller for a workspace whose branch was just fetched (:func:`fetch`).

    Imported here, not at the top: nbgitpuller imports jupyter_server, which an engine's start
    does not otherwise need, and only a workspace that holds a clone is pulled."""
    from nbgitpuller.pull import GitPuller

    class WorkspacePuller(GitPuller):
        def branch_exists(self, branch):  # noqa: ARG002 - nbgitpuller asks the remote; the fetch proved it
            return None

        def update_remotes(self):  # nbgitpuller runs `git fetch` here; ours already ran
            yield from ()

    return WorkspacePuller(source.clone_url, str(workspace), branch=branch)


@contextlib.contextmanager
def _process_environment(environ: Mapping[str, str]) -> Iterator[None]:
    """nbgitpuller starts git with os.environ: make it git's environment while it runs.

    The entrypoint runs one thread at this point (the roles start after the workspace is ready)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _count(workspace: Path, environ: Mapping[str, str], revisions: str) -> int:
    result = _git(workspace, environ, "rev-list", "--count", revisions)
    return int(result.stdout.strip()) if result.returncode == 0 and result.stdout.strip().isdigit() else 0


def _last_error_line(lines: list[str], error: Exception) -> str:
    for line in reversed(lines):
        stripped = line.strip()
        if stripped.startswith(("fatal:", "error:", "CONFLICT", "Recent .git/index.lock")):
            return stripped
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def pull(source: RepositorySource, workspace: Path) -> PopulateResult:
    """Merge the new upstream commits into ``workspace``, which holds the clone of ``source``.

    Outcomes: PULLED (merged), ALREADY_CLONED (nothing to pull: no new commit and nothing the
    user deleted, a tag, another branch), PULL_FAILED (one line why; the workspace as it was)."""
    described = source.describe()
    local = git_environment(workspace)
    branch = current_branch(workspace, local)
    if branch is None:
        what = f"tag or commit {source.ref!r}" if source.ref else "a detached HEAD"
        return PopulateResult(Outcome.ALREADY_CLONED, f"{workspace} holds the clone of {described} at {what}, "
                                                      "which does not move: nothing to pull")
    if source.ref and branch != source.ref:
        return PopulateResult(Outcome.ALREADY_CLONED, f"{workspace} holds the clone of {described} on branch "
                                                      f"{branch!r}, not {source.ref!r}: not pulling")
    error = fetch(source, workspace, branch)
    if error is not None:
        reason = error if error.startswith("git fetch took longer") else failure_reason(source, error, "git fetch")
        return PopulateResult(Outcome.PULL_FAILED, f"could not pull {described}: {reason}; "
                                                   f"starting with {workspace} as it is")
    new = _count(workspace, local, f"HEAD..origin/{branch}")
    lines: list[str] = []
    try:
        with _process_environment(local):
            for line in workspace_puller(workspace, source, branch).update():
                lines.append(line)
    except Exception as failure:  # noqa: BLE001 - nbgitpuller raises CalledProcessError and plain Exception
        aborted = _git(workspace, local, "merge", "--abort").returncode == 0
        return PopulateResult(
            Outcome.PULL_FAILED,
            source.redact(f"could not merge the new commits of {described} into {workspace}: "
                          f"{_last_error_line(lines, failure)}; "
                          + ("merge aborted, " if aborted else "") + "starting with the workspace as it is"),
        )
    restored = sum(1 for line in lines if line.startswith("$ git checkout"))
    if not new and not restored:
        return PopulateResult(Outcome.ALREADY_CLONED, f"{workspace} holds the clone of {described}, "
                                                      f"which has no new commits on {branch!r}")
    files = f"{restored} deleted file{'s' if restored != 1 else ''} restored"
    if not new:
        done = f"no new commits of {described}; {files} in {workspace}"
    else:
        done = f"{new} new commit{'s' if new != 1 else ''} of {described} merged into {workspace}"
        done += f", {files}" if restored else ""
    return PopulateResult(Outcome.PULLED, f"pulled: {done} (nbgitpuller's merge rules: the user's edits kept)")
