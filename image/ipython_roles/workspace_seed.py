"""The workspace seed: notebooks baked into the image, copied into an empty workspace at start.

WHY: S2I ``assemble`` (and a derived image's ``COPY``) puts notebooks into the workspace
directory of the image, /home/ipython/work; but the stacks mount a persistent volume there,
which hides whatever the image holds at that path. So assemble also records the assembled
files in the seed directory (IPYTHON_WORKSPACE_SEED, /opt/ipython/workspace-seed in the image),
which nothing mounts over and nothing writes to at run time, and at every start of a viewer or
an engine:

* no IPYTHON_NOTEBOOK_REPOSITORY, workspace empty (``lost+found`` of a fresh volume does not
  count) and the seed holds something: the seed is copied in, every copy writable by its owner
  and group 0 (OpenShift's arbitrary UID) -> the user edits the copy, the seed stays as built;
* workspace not empty: never touched (a restart keeps the user's edits);
* IPYTHON_NOTEBOOK_REPOSITORY set: the repository wins, the seed is not used. A repository
  given at run time is the more explicit choice than what the image was built with; and a
  failed clone must leave the workspace empty so that the next start clones again.

The copy goes through a staging directory inside the workspace, like a clone, so an interrupted
start never leaves half a seed that would count as "not empty" at the next one.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

from .workspace import STAGING_PREFIX, content_entries, remove_stale_staging

WRITABLE_FILE_BITS = stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IWGRP
WRITABLE_DIR_BITS = stat.S_IRWXU | stat.S_IRWXG


def _make_group_writable(root: Path) -> None:
    for directory, dirs, files in os.walk(root):
        os.chmod(directory, os.stat(directory).st_mode | WRITABLE_DIR_BITS)
        for name in files:
            path = Path(directory) / name
            if not path.is_symlink():
                os.chmod(path, os.stat(path).st_mode | WRITABLE_FILE_BITS)


def seed_entries(seed: Path) -> list[Path]:
    """What the seed holds (nothing when it does not exist)."""
    return sorted(seed.iterdir()) if seed.is_dir() else []


def seed_workspace(seed: Path, workspace: Path) -> int | None:
    """Copy the seed into ``workspace`` if it is empty; return the number of top-level entries
    copied, or None when nothing was done (no seed, or a workspace that holds something)."""
    entries = seed_entries(seed)
    if not entries:
        return None
    workspace.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(workspace)
    if content_entries(workspace):
        return None
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=workspace))
    try:
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                shutil.copytree(entry, staging / entry.name, symlinks=True)
            else:
                shutil.copy2(entry, staging / entry.name, follow_symlinks=False)
        _make_group_writable(staging)
        for entry in staging.iterdir():
            os.rename(entry, workspace / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return len(entries)
