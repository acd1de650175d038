#!/usr/bin/env python3
"""Entrypoint of the IPython notebook image: ``python entrypoint.py [COMMAND]``.

With no argument it starts the role named by IPYTHON_CONTAINER_TYPE: ``viewer`` (Jupyter
server, Notebook 7 / JupyterLab UI, password login), ``controller`` (ipyparallel controller on
fixed ports) or ``engine`` (ipyparallel engine, supervised so that it waits for and follows
its controller). Commands: ``assemble SRC_DIR`` (S2I build step), ``healthcheck``,
``install-shim``; any other command is executed as given. The code lives in the package
``ipython_roles`` beside this file; see its modules' docstrings for the variables and choices.
"""

import os
import sys

# First, the byte-code compiled at build (ipython_roles/pycache_seed.py): loaded as a module of
# its own, so that nothing is compiled before it links the seed in.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "ipython_roles"))
import pycache_seed  # noqa: E402

del sys.path[0]
pycache_seed.link_seed()

from ipython_roles import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
