"""Where the entrypoint writes at run time: only under HOME (or the directories the standard
variables point to), so that the image runs with a read-only root filesystem.

* IPython directory: ``$IPYTHONDIR`` or ``~/.ipython``; ipyparallel reads and writes the
  connection files in ``<ipython dir>/profile_default/security``, the default profile that a
  bare ``ipyparallel.Client()`` and ``ipengine`` look in.
* Jupyter runtime directory (``$JUPYTER_RUNTIME_DIR``, else ``~/.local/share/jupyter/runtime``,
  as jupyter_core computes it): private (0700) files of this start, the viewer's config with
  the hashed password and the engine supervisor's state for the health check.
* Workspace packages: ``~/.local/lib/pythonX.Y/workspace-packages``, the requirements of a
  cloned repository (see requirements_install for why not the venv).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def home_dir() -> Path:
    return Path(os.path.expanduser("~"))


def ipython_dir() -> Path:
    value = os.environ.get("IPYTHONDIR")
    return Path(value) if value else home_dir() / ".ipython"


def security_dir() -> Path:
    return ipython_dir() / "profile_default" / "security"


def runtime_dir() -> Path:
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir())


def workspace_packages_dir() -> Path:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return home_dir() / ".local" / "lib" / version / "workspace-packages"


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it 0700: what it holds is for this user only."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR_MODE)
    return path


def write_private_file(path: Path, text: str) -> Path:
    """Write atomically with mode 0600 from the start (no moment where it is world-readable)."""
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_private_json(path: Path, data: Any) -> Path:
    return write_private_file(path, json.dumps(data, indent=2) + "\n")


#: The folder holding this package: processes the roles start with ``python -m ipython_roles...``
#: (the controller, ipengine) need it on PYTHONPATH.
PACKAGE_PARENT = Path(__file__).resolve().parent.parent


def with_package_on_path(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with this package's folder first on PYTHONPATH (once)."""
    paths = [str(PACKAGE_PARENT)] + [path for path in environ.get("PYTHONPATH", "").split(os.pathsep) if path]
    return {**environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}
