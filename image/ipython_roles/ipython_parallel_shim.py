"""``IPython.parallel`` as a lazy alias of ``ipyparallel`` (installed into site-packages).

IPython 4 moved the parallel machinery out to ipyparallel and IPython 8 dropped the
``IPython.parallel`` shim, so the seed's notebooks (``from IPython.parallel import Client``)
fail with ModuleNotFoundError on today's stack. This module restores the old name without
touching IPython: a meta-path finder, first on ``sys.meta_path``, answers for
``IPython.parallel`` and every ``IPython.parallel.<sub>`` by importing ``ipyparallel`` /
``ipyparallel.<sub>`` and registering the very same module objects under the old names, so
``IPython.parallel.Client is ipyparallel.Client``.

It is lazy: a ``.pth`` line in site-packages only puts the finder in place at interpreter
start (microseconds); ipyparallel is imported only when a program asks for IPython.parallel.
The first such import emits one DeprecationWarning attributed to the importing code, which
Python shows for ``__main__`` code, i.e. once in a notebook cell, and hides for libraries.

This file must stay self-contained: ``entrypoint.py install-shim`` copies it into
site-packages as ``_ipython_parallel_shim.py``.
"""

import sys

# Only ``sys`` at import time: this module is imported by every interpreter start of the venv,
# so everything else is imported when IPython.parallel is actually asked for.

ALIAS = "IPython.parallel"
TARGET = "ipyparallel"
MESSAGE = "IPython.parallel is an alias of ipyparallel kept for old notebooks; import ipyparallel instead"

_warned = False


def _warn_once() -> None:
    """One DeprecationWarning, attributed to the first frame outside the import machinery."""
    global _warned
    if _warned:
        return
    _warned = True
    frame = sys._getframe(1)
    while frame is not None and (
        frame.f_code.co_filename.startswith("<frozen importlib") or frame.f_globals.get("__name__") == __name__
    ):
        frame = frame.f_back
    import warnings

    if frame is None:
        warnings.warn(MESSAGE, DeprecationWarning, stacklevel=2)
        return
    module_globals = frame.f_globals
    warnings.warn_explicit(
        MESSAGE,
        DeprecationWarning,
        frame.f_code.co_filename,
        frame.f_lineno,
        module=module_globals.get("__name__", "<unknown>"),
        registry=module_globals.setdefault("__warningregistry__", {}),
    )


class _AliasLoader:
    """Loader protocol (create_module / exec_module) without importing importlib.abc."""

    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        import importlib

        if spec.name == ALIAS:
            _warn_once()
        return importlib.import_module(self.target)

    def exec_module(self, module) -> None:
        """Nothing to run: the target module is already executed."""


class IPythonParallelAliasFinder:
    """Meta path finder protocol (find_spec) without importing importlib.abc."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        import importlib.util

        if fullname == ALIAS and importlib.util.find_spec(TARGET) is None:
            return None  # ipyparallel not installed: the usual ModuleNotFoundError follows
        target_name = TARGET + fullname[len(ALIAS) :]
        return importlib.util.spec_from_loader(fullname, _AliasLoader(target_name))


def install():
    """Put the finder first on sys.meta_path, once (the .pth line calls this)."""
    if not any(type(finder).__name__ == IPythonParallelAliasFinder.__name__ for finder in sys.meta_path):
        sys.meta_path.insert(0, IPythonParallelAliasFinder())
