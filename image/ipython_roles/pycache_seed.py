"""Linking the byte-code compiled at build into this container's PYTHONPYCACHEPREFIX.

The image compiles its roles' start path at build into SEED (/opt/ipython/pycache), laid out as
a PYTHONPYCACHEPREFIX tree (image/build_helpers/start_path.py says what and why). Python looks
for byte-code only under the prefix, /tmp/pycache, which is the container's own (and writable:
a read-only root file system still has /tmp). So before anything else is imported, every
seed file the prefix lacks is symlinked there: about 1,200 ``symlink`` calls, ~20 ms. What the
seed lacks still compiles on first use into the prefix, as before; a source that changed (an S2I
build upgrading a package) has a stale seed file, which Python notices (the byte-code records
the source's size and time) and replaces by a fresh file in the prefix.

entrypoint.py loads this module by itself, before the package (whose import pulls in everything
else), so it uses only what the interpreter has loaded at start (os, sys). Nothing happens
outside the image: without a seed directory, or without a prefix, it is a no-op (``python
image/entrypoint.py`` on a workstation).
"""

import os
import sys

SEED = "/opt/ipython/pycache"


def link_seed(seed: str = SEED, prefix: "str | None" = None) -> int:
    """Symlink every seed file missing under ``prefix`` (default: sys.pycache_prefix); the count."""
    prefix = prefix if prefix is not None else sys.pycache_prefix
    if not prefix or not os.path.isdir(seed):
        return 0
    linked = 0
    for directory, _dirs, files in os.walk(seed):
        target_dir = os.path.join(prefix, os.path.relpath(directory, seed))
        try:
            os.makedirs(target_dir, exist_ok=True)
            present = set(os.listdir(target_dir))
        except OSError:
            return linked  # a prefix we cannot write: Python compiles in memory, as before
        for name in files:
            if name not in present:
                try:
                    os.symlink(os.path.join(directory, name), os.path.join(target_dir, name))
                    linked += 1
                except FileExistsError:  # another process of the container linked it meanwhile
                    pass
    return linked
