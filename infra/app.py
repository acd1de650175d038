"""Entry point of the cdktf app: parameters first, then the stacks, then the synth.

WHY this order: the parameters are checked in plain Python before cdktf is imported, because
``App()`` creates the output directory at once; a bad value must leave cdktf.out untouched and
print one line (``error: IPYTHON_X=<value>: <allowed>``, exit status 2).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from .parameters import ParameterError, read_settings

USAGE_ERROR = 2


def main(environ: Mapping[str, str] | None = None, outdir: str | None = None) -> int:
    try:
        settings = read_settings(os.environ if environ is None else environ)
    except ParameterError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    for note in settings.notes:
        print(note, file=sys.stderr)

    from .stacks import (
        build_app,  # imports cdktf: only once the parameters are known good
    )

    build_app(settings, outdir=outdir).synth()
    return 0
