"""1. Synth of both stacks: the fast provider import against the plain package import."""

from __future__ import annotations

import subprocess
import tempfile

from infra.synth_timing import environment, synth_command

from .timing import Comparison, alternate, seconds


def _synth(mode: str) -> float:
    with tempfile.TemporaryDirectory() as outdir:
        return seconds(lambda: subprocess.run(synth_command(mode, outdir), env=environment(), check=True,
                                              stdout=subprocess.DEVNULL))


def run(runs: int) -> Comparison:
    comparison = Comparison(
        name="synth",
        what="synth of viewer-stack and cluster-stack (fresh process)",
        unit="s",
        baseline_name="provider packages imported the plain way",
        goal="<= 0.4",
    )
    return alternate(comparison, lambda: _synth("fast"), lambda: _synth("plain"), runs)
