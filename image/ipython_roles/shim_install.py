"""Installing the IPython.parallel alias into an environment's site-packages.

Two files: ``_ipython_parallel_shim.py`` (a copy of ipython_parallel_shim.py) and
``ipython_parallel_shim.pth`` whose single ``import`` line installs the finder at interpreter
start. A ``.pth`` file is the one hook Python runs for every interpreter of an environment
(Jupyter server, kernels, ipengine, plain ``python``) without wrapper scripts; it is only read
from site directories, which is why the shim is installed there and not put on PYTHONPATH.
The Dockerfile runs ``/opt/venv/bin/python entrypoint.py install-shim`` once; running it again
rewrites the same two files.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

MODULE_NAME = "_ipython_parallel_shim"
PTH_NAME = "ipython_parallel_shim.pth"
PTH_LINE = f"import {MODULE_NAME}; {MODULE_NAME}.install()\n"
SOURCE = Path(__file__).with_name("ipython_parallel_shim.py")


def default_site_packages() -> Path:
    """The running interpreter's (i.e. its venv's) pure-Python site-packages."""
    return Path(sysconfig.get_paths()["purelib"])


def install_shim(site_packages: Path | None = None) -> list[Path]:
    site_packages = site_packages or default_site_packages()
    if not site_packages.is_dir():
        raise FileNotFoundError(f"site-packages directory {site_packages} does not exist")
    module = site_packages / f"{MODULE_NAME}.py"
    pth = site_packages / PTH_NAME
    module.write_text(SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
    pth.write_text(PTH_LINE, encoding="utf-8")
    return [module, pth]
