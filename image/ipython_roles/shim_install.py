"""Installing the IPython.parallel alias into an environment's site-packages.

Two files: ``_ipython_parallel_shim.py`` (a copy of ipython_parallel_shim.py) and
``ipython_parallel_shim.pth`` whose single ``import`` line installs the finder at interpreter
start. A ``.pth`` file is the one hook Python runs for every interpreter of an environment
(Jupyter server, kernels, ipengine, plain ``python``) without wrapper scripts; it is only read
from site directories, which is why the shim is installed there and not put on PYTHONPATH.

Two ways in: the Dockerfile runs ``/opt/venv/bin/python entrypoint.py install-shim`` once at
build (``install_shim``); and every role start calls ``ensure_shim`` for the interpreter it runs
with, so that the roles started from another environment (``pipenv run python
image/entrypoint.py``) get the alias too. ``ensure_shim`` only reads when both files are already
there with the current content (the image's case: nothing is written at run time, its venv may
be on a read-only file system); otherwise it installs them and logs one line, or, when it cannot
write there, logs one line saying how to install them and lets the role start anyway.

Each file is written to a temporary name and renamed into place, so roles starting at the same
time from one environment, and interpreters starting meanwhile, never see a half-written file.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

from .logs import command_line, log

MODULE_NAME = "_ipython_parallel_shim"
PTH_NAME = "ipython_parallel_shim.pth"
PTH_LINE = f"import {MODULE_NAME}; {MODULE_NAME}.install()\n"
SOURCE = Path(__file__).with_name("ipython_parallel_shim.py")
ENTRYPOINT = Path(__file__).resolve().parents[1] / "entrypoint.py"


def default_site_packages() -> Path:
    """The running interpreter's (i.e. its venv's) pure-Python site-packages."""
    return Path(sysconfig.get_paths()["purelib"])


def shim_files(site_packages: Path) -> dict[Path, str]:
    """Path -> content, the module first: the .pth line imports it."""
    return {site_packages / f"{MODULE_NAME}.py": SOURCE.read_text(encoding="utf-8"), site_packages / PTH_NAME: PTH_LINE}


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # not *.pth, so never read by site
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def install_shim(site_packages: Path | None = None) -> list[Path]:
    site_packages = site_packages or default_site_packages()
    if not site_packages.is_dir():
        raise FileNotFoundError(f"site-packages directory {site_packages} does not exist")
    files = shim_files(site_packages)
    for path, text in files.items():
        _write_atomically(path, text)
    return list(files)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def is_installed(site_packages: Path) -> bool:
    """Both files there with the current content."""
    return all(_read(path) == text for path, text in shim_files(site_packages).items())


def install_command(site_packages: Path) -> str:
    command = [sys.executable, str(ENTRYPOINT), "install-shim"]
    if site_packages != default_site_packages():
        command += ["--site-packages", str(site_packages)]
    return command_line(command)


def ensure_shim(site_packages: Path | None = None) -> None:
    """Install the alias unless it is current; never raises for a directory it cannot write."""
    site_packages = site_packages or default_site_packages()
    if is_installed(site_packages):
        return
    try:
        install_shim(site_packages)
    except OSError as error:
        log(
            f"the IPython.parallel alias is missing or out of date in {site_packages} and cannot be installed there "
            f"({error.strerror or error}): old notebooks' `from IPython.parallel import ...` fails; "
            f"run `{install_command(site_packages)}` as a user who can write there"
        )
        return
    log(f"installed the IPython.parallel alias into {site_packages}")
