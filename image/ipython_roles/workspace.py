"""Populating the workspace from IPYTHON_NOTEBOOK_REPOSITORY, without ever clobbering it.

At every start of a viewer or an engine that has a repository:

* workspace empty (``lost+found`` of a fresh volume does not count): shallow-clone the
  repository (``--depth 1``, ``--branch <ref>`` when ``#ref`` is given) into it -> CLONED;
* workspace already holds that clone (its ``.git/config`` names the same origin URL), e.g. a
  persistent volume after a restart: leave every file as it is -> ALREADY_CLONED; with
  IPYTHON_REPOSITORY_UPDATE=pull the caller then merges the new upstream commits with
  nbgitpuller's rules, which keep the user's edits (repository_update: PULLED, PULL_FAILED);
* workspace holds anything else: leave it alone, say so in the log -> LEFT_ALONE;
* the clone fails (network, unknown ref, no access): the workspace is left exactly as empty as
  it was -> FAILED, with ONE line saying why (:func:`failure_reason`): no such repository, not a
  git repository, no such branch or tag, authentication needed or refused, host name not
  resolved, host unreachable, untrusted TLS certificate, no ssh client in the image, a timeout;
  anything else is "git clone failed: " and git's own first error line.

git's "dumb" HTTP transport (a repository on a plain static file server, after ``git
update-server-info``) refuses shallow clones ("dumb http transport does not support shallow
capabilities"); for that reason only, the clone is retried once in full, and the result's message
says so. Any other failure is not retried (a second attempt would only double the wait).

The clone goes into a staging directory inside the workspace (same filesystem: a volume mount
point itself cannot be renamed) and its entries are moved up only once it is complete, so a
failed or interrupted clone never leaves half a repository; staging directories left by an
interrupted start are removed at the next one. git never prompts (GIT_TERMINAL_PROMPT=0), is
allowed the URL's protocols only (GIT_ALLOW_PROTOCOL) and runs without the IPYTHON_* variables.

Credentials of an http(s) URL never reach git's command line, its output or the clone's
``.git/config`` (which kernels can read): git is given the URL without them and gets them from
a one-shot credential helper that reads them from its own environment (:func:`clone_command`).
A clone made by an earlier version with them in its origin URL loses them at the next start.
Whatever is logged is masked besides (RepositorySource.describe / redact).

Requirements are the caller's business (entrypoint.cli): requirements.txt is installed for
every outcome that holds the clone, because the packages live under HOME, which may be fresh at every
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
    PULLED = "pulled"  # new upstream commits merged (repository_update)
    PULL_FAILED = "pull failed"  # the clone is there as it was (repository_update)


@dataclass(frozen=True)
class PopulateResult:
    outcome: Outcome
    message: str

    @property
    def holds_clone(self) -> bool:
        return self.outcome in (Outcome.CLONED, Outcome.ALREADY_CLONED, Outcome.PULLED, Outcome.PULL_FAILED)


#: The environment variables the credential helper of :func:`clone_command` reads; they are set
#: in git's environment only.
USERNAME_VARIABLE = "_IPYTHON_CLONE_USERNAME"
PASSWORD_VARIABLE = "_IPYTHON_CLONE_PASSWORD"
#: A credential helper (``git help credentials``): answers "get" with the user name and password
#: from its environment, ignores "store" and "erase".
CREDENTIAL_HELPER = (
    '!f() { test "$1" = get || exit 0; '
    f'printf \'username=%s\\npassword=%s\\n\' "${USERNAME_VARIABLE}" "${PASSWORD_VARIABLE}"; }}; f'
)
ALLOWED_PROTOCOLS = "https:http:git:ssh:file"


def _git_environment(source: RepositorySource | None = None) -> dict[str, str]:
    """git's environment: no IPYTHON_* variable (the repository's credentials among them), no
    prompt, C messages (they are matched by failure_reason), the credentials for the helper."""
    environ = {name: value for name, value in os.environ.items() if not name.startswith("IPYTHON_")}
    environ.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C", GIT_ALLOW_PROTOCOL=ALLOWED_PROTOCOLS)
    credentials = source.credentials() if source is not None else None
    if credentials is not None:
        environ[USERNAME_VARIABLE], environ[PASSWORD_VARIABLE] = credentials
    return environ


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


def _without_userinfo(url: str) -> str:
    scheme, separator, rest = url.partition("://")
    if not separator:  # user@host:path, or a path
        head, colon, path = url.partition(":")
        return f"{head.rpartition('@')[2]}{colon}{path}" if colon and "/" not in head else url
    authority, slash, path = rest.partition("/")
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"


def holds_clone_of(workspace: Path, source: RepositorySource) -> bool:
    """Its origin is this repository, whatever user name or token the URL had (a token that was
    replaced is still the same repository)."""
    origin = origin_url(workspace)
    return origin is not None and _without_userinfo(origin) in (source.public_clone_url, source.public_url)


def _remove_origin_credentials(workspace: Path, source: RepositorySource) -> bool:
    """A clone made before credentials were kept out of .git/config: take them out (True)."""
    origin = origin_url(workspace)
    if not source.has_credentials or origin is None or origin == source.clone_url:
        return False
    subprocess.run(
        ["git", "config", "--file", str(workspace / ".git" / "config"), "remote.origin.url", source.clone_url],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=_git_environment(),
        check=True,
    )
    return True


SHALLOW_UNSUPPORTED = "does not support shallow"
TIMED_OUT = f"git clone took longer than {CLONE_TIMEOUT_SECONDS} s"


def clone_command(source: RepositorySource, destination: Path, *, shallow: bool = True) -> list[str]:
    """The ``git clone`` command: no credential in it (see :data:`CREDENTIAL_HELPER`)."""
    command = ["git", "-c", "advice.detachedHead=false"]
    if source.credentials() is not None:
        # the empty value first: no other helper (a credential store, say) is asked or told
        command += ["-c", "credential.helper=", "-c", f"credential.helper={CREDENTIAL_HELPER}"]
    command += ["clone", "--quiet"]
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
                env=_git_environment(source),
                timeout=CLONE_TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired:
            return TIMED_OUT
        if result.returncode != 0:
            return result.stderr or f"fatal: git clone exited with status {result.returncode}"
        for entry in staging.iterdir():
            os.rename(entry, workspace / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return None


NO_SSH_CLIENT = "ssh:// and user@host:path need an ssh client, which the image does not have; use https://"
# git's lines that follow the real error and say nothing about it
_BOILERPLATE = (
    "could not read from remote repository",
    "please make sure you have the correct access rights",
    "and the repository exists",
)


def _any(text: str, *needles: str) -> bool:
    return any(needle in text for needle in needles)


def _local_reason(source: RepositorySource) -> str:
    path = Path(source.local_path or "/")
    if not path.exists():
        return f"no such repository: {path} does not exist"
    return f"not a git repository: {path}"


def _git_line(stderr: str) -> str:
    """git's own first error line (the most specific), else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    lines = [line for line in lines if not _any(line.lower(), *_BOILERPLATE)] or lines
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line
    return lines[-1] if lines else ""


def failure_reason(source: RepositorySource, stderr: str, command: str = "git clone") -> str:
    """One line saying why ``command`` (``git clone``, or repository_update's ``git fetch``)
    failed, from git's stderr (LC_ALL=C), credentials masked."""
    text = stderr.lower()
    host = source.host or "the host"
    if stderr == TIMED_OUT:
        reason = TIMED_OUT
    elif _any(text, "cannot run ssh", "unable to fork"):
        reason = NO_SSH_CLIENT
    elif source.ref and _any(text, "remote branch", "could not find remote branch") and "not found" in text:
        reason = f"no branch or tag {source.ref!r} in the repository"
    elif _any(text, "terminal prompts disabled", "could not read username", "could not read password",
              "authentication failed", "returned error: 401", "returned error: 403", "permission denied (publickey"):
        if source.has_credentials:
            reason = f"authentication failed: {host} refused the user name and password (or token) in the URL"
        else:
            reason = (f"authentication needed: {host} asks for credentials (a private repository? "
                      "give a token in the URL: https://TOKEN@host/path)")
    elif _any(text, "could not resolve host", "could not resolve hostname", "name or service not known",
              "temporary failure in name resolution", "unable to look up", "no address associated"):
        reason = f"host name not resolved: {host}"
    elif _any(text, "connection refused", "failed to connect", "couldn't connect", "could not connect",
              "unable to connect", "connection timed out", "timed out", "no route to host", "network is unreachable"):
        reason = f"host unreachable: {host} (connection refused or timed out)"
    elif _any(text, "ssl certificate problem", "certificate verify", "server certificate verification failed"):
        reason = f"the TLS certificate of {host} is not trusted: {_git_line(stderr)}"
    elif source.local_path is not None and _any(text, "does not appear to be a git repository", "does not exist"):
        reason = _local_reason(source)
    elif _any(text, "not found", "does not exist", "does not appear to be a git repository", "not exported",
              "returned error: 404"):
        reason = f"no such repository on {host}"
    else:
        line = _git_line(stderr)
        reason = f"{command} failed: {line}" if line else f"{command} failed"
    return source.redact(reason)


def _clone(source: RepositorySource, workspace: Path) -> PopulateResult:
    message = f"cloned {source.describe()} into {workspace}"
    error = _run_clone(source, workspace, shallow=True)
    if error is not None and SHALLOW_UNSUPPORTED in error:
        message += " (full clone: the server does not support shallow clones, e.g. git's dumb HTTP)"
        error = _run_clone(source, workspace, shallow=False)
    if error is not None:
        return PopulateResult(Outcome.FAILED, failure_reason(source, error))
    return PopulateResult(Outcome.CLONED, message)


def populate(source: RepositorySource, workspace: Path) -> PopulateResult:
    """Bring ``workspace`` to hold ``source`` if it is empty; never touch a non-empty one."""
    workspace.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(workspace)
    if content_entries(workspace):
        if holds_clone_of(workspace, source):
            scrubbed = _remove_origin_credentials(workspace, source)
            return PopulateResult(
                Outcome.ALREADY_CLONED,
                f"{workspace} already holds the clone of {source.describe()}"
                + (" (removed the credentials from its origin URL in .git/config)" if scrubbed else ""),
            )
        return PopulateResult(
            Outcome.LEFT_ALONE,
            f"{workspace} is not empty and is not a clone of {source.describe()}; leaving it alone",
        )
    return _clone(source, workspace)
