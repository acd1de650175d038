#!/usr/bin/env python3
"""Entrypoint of the IPython notebook image: ``python entrypoint.py [COMMAND]``.

With no argument it starts the role named by IPYTHON_CONTAINER_TYPE: ``viewer`` (Jupyter
server, Notebook 7 / JupyterLab UI, password login), ``controller`` (ipyparallel controller on
fixed ports) or ``engine`` (ipyparallel engine, supervised so that it waits for and follows
its controller). Commands: ``assemble SRC_DIR`` (S2I build step), ``healthcheck``,
``install-shim``; any other command is executed as given. The code lives in the package
``ipython_roles`` beside this file; see its modules' docstrings for the variables and choices.
"""

import sys

from ipython_roles import main

if __name__ == "__main__":
    sys.exit(main())
