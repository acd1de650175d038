"""Keeping the secrets out of every process's initial environment, PID 1 included.

``/proc/<pid>/environ`` shows the environment a process was exec'd with, for as long as it
runs, to every process of the same user: a notebook kernel can read it for any process of its
container. Removing a variable later (``os.environ``) does not change what it shows. So the
secret variables (settings.SECRET_VARIABLES: IPYTHON_USER_PASSWORD, IPYTHON_CLUSTER_KEY, and a
repository URL with credentials) must not be in the environment any long-lived process was
exec'd with, and an exec is the only way to get a clean one:

* As PID 1 (the image's ENTRYPOINT is this entrypoint, not tini), the entrypoint writes the
  secrets into a pipe, closes its write end and execs ``tini -- python entrypoint.py ARGS``
  with the secrets removed from the environment and :data:`FD_VARIABLE` naming the pipe's read
  end. PID 1 is then tini, whose environment holds no secret; the entrypoint runs again as its
  child. That holds for any command: the S2I ``run`` script, for instance, ends in a role start.
* Started otherwise (``docker run --init``, ``python image/entrypoint.py`` on a workstation), a
  role start does the same without tini: it re-execs itself.
* The process that starts the role reads the pipe (:func:`take`) before anything else, closes
  it, and keeps the secrets in memory only: the roles write what they need into 0600 files
  (the password's argon2 hash, the cluster key file, connection files) and start everything
  with an environment without them (cli.without_secrets).

Where a process must hold a secret, it does so in a file of its own user, not in its
environment: the engines and the viewer's kernels hold the cluster key in their connection
files (an engine cannot work without it; a kernel's ``Client()`` needs it), as docs/security.md says.

Pipes hold 64 KiB before a writer would block; the secrets are small, and a larger payload is
refused with a one-line error rather than a hang.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping, Sequence

#: The environment variable naming the pipe's read end. Not ``IPYTHON_*``: the settings refuse
#: unknown variables of that prefix, and this one is the entrypoint's own, never a user's.
FD_VARIABLE = "_IPYTHON_SECRETS_FD"
PIPE_CAPACITY = 65536


def _secrets(environ: Mapping[str, str], names: Sequence[str]) -> dict[str, str]:
    return {name: environ[name] for name in names if name in environ}


def should_hand_off(arguments: Sequence[str], environ: Mapping[str, str], names: Sequence[str], pid: int) -> bool:
    """PID 1 always (tini goes in front); otherwise a role start that still has secrets."""
    if FD_VARIABLE in environ:
        return False  # handed off already: this is the process after the exec
    return pid == 1 or (not arguments and bool(_secrets(environ, names)))


def hand_off(arguments: Sequence[str], environ: Mapping[str, str], names: Sequence[str], entrypoint: str) -> None:
    """Exec the entrypoint again (behind tini as PID 1) with the secrets in a pipe. Does not return."""
    secrets = _secrets(environ, names)
    payload = json.dumps(secrets).encode("utf-8")
    if len(payload) >= PIPE_CAPACITY:
        raise ValueError(f"the secret variables hold {len(payload)} bytes; at most {PIPE_CAPACITY - 1} are handed over")
    read_end, write_end = os.pipe()
    os.write(write_end, payload)
    os.close(write_end)
    os.set_inheritable(read_end, True)
    clean = {name: value for name, value in environ.items() if name not in secrets}
    clean[FD_VARIABLE] = str(read_end)
    program, command = sys.executable, [sys.executable, entrypoint, *arguments]
    tini = shutil.which("tini") if os.getpid() == 1 else None
    if tini:
        program, command = tini, ["tini", "--", *command]
    os.execve(program, command, clean)


def take(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment with the handed-over secrets back in (this process's memory only).

    Without :data:`FD_VARIABLE` (nothing was handed over) it is a copy of ``environ``. An
    unreadable pipe (a stale variable of another container's start) gives no secrets: the
    settings then say which one is missing.
    """
    result = dict(environ)
    descriptor = result.pop(FD_VARIABLE, None)
    if descriptor is None:
        return result
    chunks = []
    try:
        fd = int(descriptor)
        while chunk := os.read(fd, PIPE_CAPACITY):
            chunks.append(chunk)
        os.close(fd)
        secrets = json.loads(b"".join(chunks) or b"{}")
    except (ValueError, OSError):
        return result
    result.update({str(name): str(value) for name, value in secrets.items()})
    return result
