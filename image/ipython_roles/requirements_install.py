"""Installing a workspace's requirements.txt: with uv when it is there, else with pip.

Which installer: ``uv pip install --target`` and ``pip install --target`` were timed on the
same requirements from a local wheel folder, offline, median of 3 on the 2-core development
machine (uv with a cold cache, as in the image, which sets UV_NO_CACHE):

===============================================  =======  ==============  ======
requirements (wheels)                            uv cold  uv warm cache   pip
===============================================  =======  ==============  ======
one tiny pure-Python wheel                       0.17 s   0.05 s          2.27 s
requests, python-dateutil, tabulate, attrs (9)   0.47 s   0.07 s          2.95 s
the same + numpy (10, 17 MB)                     1.22 s   0.15 s          8.77 s
===============================================  =======  ==============  ======

uv is 6-15 times faster, so it is used whenever the ``uv`` package (or a ``uv`` on PATH) is
available, pip otherwise; tests/roles/test_requirements_install.py measures both again.

Where, at run time: into ``~/.local/lib/pythonX.Y/workspace-packages`` with ``--target``, and
that directory is put first on PYTHONPATH (its ``bin`` first on PATH) of the process the
entrypoint execs. Why:

* the venv (/opt/venv) may be read-only at run time (Kubernetes readOnlyRootFilesystem) and
  should stay as the image shipped it anyway, so a restart starts from known versions; HOME is
  writable (an emptyDir or a volume);
* a user site directory would be the classic place, but a venv turns it off
  (``site.ENABLE_USER_SITE`` is False, ``pip install --user`` refuses), so it cannot be used;
* PYTHONPATH is inherited by everything the role starts: the Jupyter server and every kernel
  it launches, the engine supervisor and every ipengine, so all of them import the packages;
  entries on PYTHONPATH come before the venv's site-packages, so a version pinned by the
  repository wins over the image's, as it would after an S2I build. ``--target`` makes pip and
  uv look only into the target, so dependencies the venv already has are installed again
  there: more disk, same behaviour.

At build time (``entrypoint.py assemble``) the requirements go into the running venv itself.

Package sources: the installers read their usual configuration. The entrypoint honours the
pip variables PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS (space-separated) and
PIP_NO_INDEX for both installers: pip reads them itself, and for uv they are translated into
``--index-url``, ``--extra-index-url``, ``--find-links`` and ``--no-index`` (uv has no
``--no-index`` variable). uv's own UV_* variables keep working when uv is used. An offline
install from a wheel folder is ``PIP_FIND_LINKS=/wheels PIP_NO_INDEX=true``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

UV = "uv"
PIP = "pip"
INSTALL_TIMEOUT_SECONDS = 1800


class InstallError(RuntimeError):
    """The installer failed; the message is one line for the log."""


@dataclass(frozen=True)
class Installer:
    name: str
    executable: str

    def command(self, requirements: Path, target: Path | None, environ: Mapping[str, str]) -> list[str]:
        if self.name == UV:
            command = [self.executable, "pip", "install", "--python", sys.executable]
            if target is not None:
                command += ["--target", str(target)]
            command += _uv_flags_from_pip_variables(environ)
        else:
            command = [self.executable, "-m", "pip", "install", "--disable-pip-version-check"]
            if target is not None:
                # --upgrade: replace what an earlier start left in the target instead of warning
                command += ["--target", str(target), "--upgrade"]
        return command + ["-r", str(requirements)]


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _uv_flags_from_pip_variables(environ: Mapping[str, str]) -> list[str]:
    flags: list[str] = []
    if environ.get("PIP_INDEX_URL") and not (environ.get("UV_INDEX_URL") or environ.get("UV_DEFAULT_INDEX")):
        flags += ["--index-url", environ["PIP_INDEX_URL"]]
    if not environ.get("UV_EXTRA_INDEX_URL"):
        for url in (environ.get("PIP_EXTRA_INDEX_URL") or "").split():
            flags += ["--extra-index-url", url]
    if not environ.get("UV_FIND_LINKS"):
        for location in (environ.get("PIP_FIND_LINKS") or "").split():
            flags += ["--find-links", location]
    if _truthy(environ.get("PIP_NO_INDEX")):
        flags.append("--no-index")
    return flags


def find_uv() -> str | None:
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def available_installers() -> list[Installer]:
    """Installers present, fastest first (uv, then pip)."""
    installers = []
    uv = find_uv()
    if uv:
        installers.append(Installer(UV, uv))
    if importlib.util.find_spec("pip") is not None:
        installers.append(Installer(PIP, sys.executable))
    return installers


def default_installer() -> Installer:
    installers = available_installers()
    if not installers:
        raise InstallError("neither uv nor pip is available to install requirements.txt")
    return installers[0]


def install_requirements(
    requirements: Path,
    *,
    target: Path | None,
    installer: Installer | None = None,
    environ: Mapping[str, str] | None = None,
) -> float:
    """Install ``requirements`` (into ``target`` or the running venv); return the seconds taken.

    Runs in the requirements file's directory so relative entries (``./pkg``) resolve there.
    """
    installer = installer or default_installer()
    environ = dict(os.environ if environ is None else environ)
    environ.setdefault("UV_NO_PROGRESS", "1")
    if target is not None:
        target.mkdir(parents=True, exist_ok=True)
    command = installer.command(requirements, target, environ)
    started = time.monotonic()
    try:
        result = subprocess.run(
            command,
            cwd=requirements.parent,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=INSTALL_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as error:
        raise InstallError(f"{installer.name} did not finish within {INSTALL_TIMEOUT_SECONDS} s") from error
    if result.returncode != 0:
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        detail = " | ".join(lines[-3:]) if lines else f"exit status {result.returncode}"
        raise InstallError(f"{installer.name} failed: {detail}")
    return time.monotonic() - started


def with_workspace_packages(environ: Mapping[str, str], target: Path) -> dict[str, str]:
    """``environ`` with ``target`` first on PYTHONPATH and ``target/bin`` first on PATH."""
    updated = dict(environ)
    updated["PYTHONPATH"] = os.pathsep.join(p for p in (str(target), environ.get("PYTHONPATH", "")) if p)
    updated["PATH"] = os.pathsep.join(p for p in (str(target / "bin"), environ.get("PATH", "")) if p)
    return updated
