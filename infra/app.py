"""Entry point of the cdktf app: parameters first, then the stacks, then the synth.

WHY this order: the parameters are checked (infra/parameters.py builds and so validates the
constructs' props) before any ``App()`` exists, because ``App()`` creates the output directory at once; a bad value must leave cdktf.out untouched and
print one line (``error: IPYTHON_X=<value>: <allowed>``, exit status 2).

WHY the other format's files are removed after the synth: cdktf writes each stack as ``cdk.tf``
(with ``metadata.json``) under ``cdktf synth --hcl`` and as ``cdk.tf.json`` otherwise, into
``<outdir>/stacks/<stack>/``, and never deletes the other format's files; Terraform reads both,
and ``terraform init`` fails on every block defined twice (tests/constructs/test_synth_formats.py).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from .parameters import ParameterError, read_settings

USAGE_ERROR = 2
#: The file name the manifest gives a stack -> the files of the other format, stale beside it.
OTHER_FORMAT = {"cdk.tf.json": ("cdk.tf", "metadata.json"), "cdk.tf": ("cdk.tf.json",)}


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

    app = build_app(settings, outdir=outdir)
    app.synth()
    remove_other_format(Path(app.outdir))
    return 0


def remove_other_format(outdir: Path) -> None:
    """Delete each stack's files of the format this synth did not write."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    for stack in manifest["stacks"].values():
        written = outdir / stack["synthesizedStackPath"]
        for name in OTHER_FORMAT[written.name]:
            (written.parent / name).unlink(missing_ok=True)
