"""The benchmarks still work: a quick pass of every comparison (one run each, small workloads).

Figures are not judged here (benchmarks, not timed tests): only that every comparison ran its
real workload on both sides and produced positive numbers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = {
    "synth", "viewer_ready", "cluster_ready", "throughput", "populate", "image_rebuild", "image_size",
    "first_result", "second_up",
    "memory_per_task", "memory_burst_peak",
    "scale_ready", "scale_throughput", "scale_sleep", "scale_controller_cpu", "scale_controller_idle_cpu",
    "scale_controller_pss",
}
WITHOUT_BASELINE_IN_QUICK = {"image_rebuild", "image_size"}


@pytest.mark.container
def test_quick_pass_of_every_benchmark():
    result = subprocess.run([sys.executable, "-m", "bench", "--quick"], cwd=ROOT, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    document = json.loads((ROOT / "build" / "bench-quick.json").read_text())
    results = {entry["name"]: entry for entry in document["results"]}
    assert set(results) == EXPECTED
    for name, entry in results.items():
        assert entry["ours_median"] > 0, name
        if name not in WITHOUT_BASELINE_IN_QUICK:
            assert entry["baseline_median"] > 0 and entry["ratio"] > 0, name
    assert "| 1 | synth of viewer-stack and cluster-stack" in result.stdout


def test_bad_runs_argument_is_one_line_and_exit_2():
    result = subprocess.run([sys.executable, "-m", "bench", "--runs", "0"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert "--runs=0: a whole number of at least 1" in result.stderr
