"""The first-result benchmark (bench/first_result.py) measures both sides for real and leaves
nothing behind: not our workspace, not the hand-started containers, their volume and network,
nor the image tag it measures under.

One pass of each side (no warm-up), in this process; the figures are not judged here
(benchmarks, not timed tests), only that each step the breakdown names was seen.
"""

from __future__ import annotations

import os

import pytest

from bench import first_result

from .deployment import owned

pytestmark = pytest.mark.container

NOTHING = {"containers": [], "volumes": [], "networks": []}


def test_one_pass_of_each_side_is_measured_and_leaves_nothing(tmp_path, engine_client):
    first, second = first_result.run(1, tmp_path, warm_up=False)

    assert (first.name, second.name) == ("first_result", "second_up")
    for comparison in (first, second):
        assert len(comparison.ours) == len(comparison.baseline) == 1
        assert comparison.ours_median > 0 and comparison.baseline_median > 0
    ours, baseline = first.breakdown["ours"], first.breakdown["baseline"]
    for name in ("up: -> first line (Python start, imports)", "up: -> synth done (or reused)",
                 "up: -> containers started", "up: -> viewer answered", "up: -> exit",
                 "viewer: container started -> entrypoint first line", "viewer: server exec -> server first line",
                 "kernel start (POST /api/kernels to the cell running)", "second up to the result"):
        assert ours[name] >= 0, name
    for name in ("by hand: -> viewer answered", "kernel start (POST /api/kernels to the cell running)",
                 "engines all registered (controller's log), from the start"):
        assert baseline[name] >= 0, name
    # the second up started nothing
    assert first.breakdown["ours"]["second up: -> containers started"] < first.ours_median
    assert "load_average_1min_max" in first.breakdown

    assert owned(engine_client, workspace=first_result.WORKSPACE) == NOTHING
    tag = f"bench-first-result-{os.getpid()}"
    label = {"label": f"{first_result.TEST_LABEL}={tag}"}
    assert engine_client.containers.list(all=True, filters=label) == []
    assert engine_client.volumes.list(filters=label) == []
    assert engine_client.networks.list(filters=label) == []
    assert not [t for image in engine_client.images.list() for t in image.tags
                if t.startswith(f"{first_result.IMAGE_REPOSITORY}:")
                and t.removeprefix(f"{first_result.IMAGE_REPOSITORY}:") == str(os.getpid())]
