"""``python infra/main.py``: the app command of cdktf.json (``cdktf synth`` runs it from the root)."""

import sys
from pathlib import Path

# Run as a script, Python puts infra/ on sys.path; the package imports need the project root.
# (The root's constructs/ folder has no __init__.py, so it never shadows the jsii library.)
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from infra.node_runtime import use_pinned_node  # noqa: E402

use_pinned_node()  # before cdktf is imported: jsii starts its node process then

from infra.app import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
