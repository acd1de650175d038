"""``python -m localrun`` (the Pipfile script ``local``)."""

import sys

from .cli import main

sys.exit(main())
