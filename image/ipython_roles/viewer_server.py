"""The viewer's Jupyter server process: ``python -P .../ipython_roles/viewer_server.py --config=FILE``.

The same as ``python -m notebook --config=FILE``, with two differences:

* the directory holding ``ipython_roles`` is appended to ``sys.path`` (last: it shadows nothing),
  so that the server can import the classes the viewer's config names (identity,
  kernel_launcher). Only this process's ``sys.path``: kernels, new interpreters, get none of it;
* ``-P`` keeps the current directory off ``sys.path``. The server runs in the workspace, and with
  ``-m`` a notebook repository's ``json.py`` or ``tornado/`` would be imported by the server
  instead of the real module.

Run as a script, never imported.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.append(str(Path(__file__).resolve().parents[1]))
    from notebook.app import main

    sys.exit(main())
