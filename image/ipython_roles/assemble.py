"""``entrypoint.py assemble SRC_DIR``: the S2I build step, with the code the roles use at start.

S2I puts the application source (a checkout of a notebook repository) in /tmp/src; assemble
copies it into the workspace (IPYTHON_NOTEBOOK_DIR, /home/ipython/work in the image) and into
the workspace seed (IPYTHON_WORKSPACE_SEED, /opt/ipython/workspace-seed), which the entrypoint
copies into an empty workspace volume mounted over /home/ipython/work at start (see
workspace_seed); it installs its requirements.txt into the running venv, which is writable at build time. So an
image built by S2I and a viewer that cloned the same repository at start hold the same files
and can import the same packages.

The top-level ``.git`` directory is not copied: the history is not needed to run notebooks and
would only grow the image. Copied files get the group permissions of their owner (``g=u``),
because OpenShift runs the image under an arbitrary UID that only shares group 0.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path


def _group_like_owner(path: Path) -> None:
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        return
    owner = (mode & stat.S_IRWXU) >> 3
    os.chmod(path, (mode & ~stat.S_IRWXG) | owner)


def copy_source(source: Path, workspace: Path) -> list[str]:
    """Copy ``source`` into ``workspace`` (created if needed); return the top-level names copied."""
    workspace.mkdir(parents=True, exist_ok=True)
    copied = []
    for entry in sorted(source.iterdir()):
        if entry.name == ".git":
            continue
        destination = workspace / entry.name
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, destination, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copy2(entry, destination, follow_symlinks=False)
        copied.append(entry.name)
    for name in copied:
        top = workspace / name
        _group_like_owner(top)
        if top.is_dir() and not top.is_symlink():
            for root, dirs, files in os.walk(top):
                for name_in_dir in dirs + files:
                    _group_like_owner(Path(root) / name_in_dir)
    try:
        _group_like_owner(workspace)
    except PermissionError:
        pass  # the workspace belongs to another build user; its own mode was set by the image
    return copied
