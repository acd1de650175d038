"""The byte-code of the roles' start path: compiled at image build, linked in at container start.

WHY: the image ships no byte-code for the ~150 MB it would take (see the Dockerfile); each
container compiles what it imports into PYTHONPYCACHEPREFIX (/tmp/pycache). That is ~3
CPU-seconds per role start, paid by every container of a `local up` or a scaled Deployment at
once. So the modules the start path imports (the Jupyter server, a kernel running
``ipyparallel.Client()``, the controller, an engine: start_path.txt, about 1,200 files and
~24 MB of byte-code; not debugpy, see EXCLUDED) are compiled at build into /opt/ipython/pycache, laid out as a
PYTHONPYCACHEPREFIX tree, and the entrypoint links them into the container's prefix at start
(ipython_roles/pycache_seed.py). Everything else still compiles on first use, once per
container, as before.

start_path.txt holds one source file per line, relative to the venv's site-packages
(``site-packages/...``) or to the standard library (``stdlib/...``), so the list serves any
Python 3.11 or 3.12 base (a file the base lacks is skipped and counted). It is made from what
real containers compiled:

    python image/build_helpers/start_path.py record < pycs.txt > image/build_helpers/start_path.txt

where pycs.txt is ``find /tmp/pycache -name '*.pyc'`` run in a viewer (after a kernel ran
``ipyparallel.Client()``), a controller and an engine of a `local up`;
tests/container/test_image.py fails when a viewer's start compiles much that the list lacks.

Usage at build:  PYTHONPYCACHEPREFIX=/opt/ipython/pycache python start_path.py compile LIST
"""

from __future__ import annotations

import py_compile
import re
import sys
import sysconfig
from pathlib import Path

PYC = re.compile(r"\.cpython-\d+(\.opt-\d)?\.pyc$")
ROOTS = {"site-packages": "purelib", "stdlib": "stdlib"}
#: Left out to keep the image within its 650 MB budget: ipykernel imports its debugger
#: (debugpy, ~3 MB of byte-code) at a kernel's start, so a container's first kernel compiles it.
EXCLUDED = ("site-packages/debugpy/",)


def record(pyc_paths: list[str]) -> list[str]:
    """Relative source paths (``site-packages/x/y.py``, ``stdlib/x.py``) of prefix-tree pycs."""
    sources = set()
    for line in pyc_paths:
        path = line.strip().removeprefix(".")
        if not PYC.search(path):
            continue
        source = PYC.sub(".py", path)
        if "/site-packages/" in source:
            sources.add("site-packages/" + source.split("/site-packages/", 1)[1])
        elif re.search(r"/lib/python3\.\d+/", source):
            sources.add("stdlib/" + re.split(r"/lib/python3\.\d+/", source, maxsplit=1)[1])
    return sorted(source for source in sources if not source.startswith(EXCLUDED))


def compile_list(lines: list[str]) -> tuple[int, int]:
    """Compile each listed source into sys.pycache_prefix; (compiled, missing)."""
    if not sys.pycache_prefix:
        raise SystemExit("start_path.py compile: set PYTHONPYCACHEPREFIX to the seed directory")
    roots = {name: Path(sysconfig.get_paths()[key]) for name, key in ROOTS.items()}
    compiled = missing = 0
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        root, _, relative = line.partition("/")
        source = roots[root] / relative
        if not source.is_file():
            missing += 1
            continue
        py_compile.compile(str(source), doraise=True)  # cfile: under sys.pycache_prefix
        compiled += 1
    return compiled, missing


def main(argv: list[str]) -> int:
    if argv[:1] == ["record"]:
        print("\n".join(record(sys.stdin.read().splitlines())))
        return 0
    if argv[:1] == ["compile"] and len(argv) == 2:
        compiled, missing = compile_list(Path(argv[1]).read_text().splitlines())
        print(f"start path: compiled {compiled} files into {sys.pycache_prefix} ({missing} not in this Python)")
        return 0
    print(__doc__.strip().splitlines()[-1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
