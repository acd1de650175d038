"""What the local run makes of shared storage, engine groups and GPU requests (no engine needed).

The stacks are synthesized with the parameters a user would set; the plan is read as in
test_plan.py: one named volume for the cluster's shared claim, mounted in the viewer and in the
engines of every group; every group's engines run, each with its group in its environment; a
GPU request is named in the one summary line and the engines still start.
"""

from __future__ import annotations

import pytest

from localrun.synth import read_app

from tests.e2e.synthesis import GIVEN, synthesize_into
from tests.localrun.test_plan import containers, plan_of

SHARED = "/home/ipython/shared"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    outdir = synthesize_into(
        tmp_path_factory.mktemp("issue12") / "cdktf.out",
        **{**GIVEN, "IPYTHON_ENGINES": "2", "IPYTHON_SHARED_STORAGE": "5Gi",
           "IPYTHON_ENGINE_GROUPS": "gpu:1:1,big:2", "IPYTHON_ENGINE_NODE_SELECTOR": "pool=science"},
    )
    return read_app(outdir)


def test_every_group_runs_its_engines_with_its_name_in_the_environment(app, tmp_path):
    engines = {name: c for name, c in containers(plan_of(app, tmp_path)).items() if "-engine" in name}
    groups = sorted((c.environment.get("IPYTHON_ENGINE_GROUP", "(unset)"), name) for name, c in engines.items())
    assert groups == [
        ("(unset)", "science_ipcluster-plan-engine-0_ipython"),  # the default group: the image's default
        ("(unset)", "science_ipcluster-plan-engine-1_ipython"),
        ("big", "science_ipcluster-plan-engine-big-0_ipython"),
        ("big", "science_ipcluster-plan-engine-big-1_ipython"),
        ("gpu", "science_ipcluster-plan-engine-gpu-0_ipython"),
    ]
    keys = {c.environment["IPYTHON_CLUSTER_KEY"] for c in engines.values()}
    assert len(keys) == 1  # one controller, one key, every group


def test_the_shared_claim_is_one_volume_in_the_viewer_and_every_engine_but_not_the_controller(app, tmp_path):
    plan = plan_of(app, tmp_path)
    sources = {}
    for name, container in containers(plan).items():
        mounts = {m.target: m for m in container.mounts}
        sources[name] = mounts[SHARED].source if SHARED in mounts else None
    controller = sources.pop("science_ipcluster-plan-controller-0_ipython")
    assert controller is None
    assert set(sources.values()) == {"ipython-k8s-local_science_ipcluster-plan-shared"}, sources
    assert len(sources) == 1 + 2 + 1 + 2  # the viewer and five engines


def test_the_viewer_reports_every_engine_of_every_group(app, tmp_path):
    from localrun.plan import engines_of

    plan = plan_of(app, tmp_path)
    viewer = containers(plan)["science_nbviewer-ana-plan-0_ipython"]
    assert engines_of(viewer.environment, plan.namespaces) == 5


def test_placement_and_the_gpu_group_are_named_in_the_summary_line(app, tmp_path):
    summary = plan_of(app, tmp_path).notes.summary(verbose=False)
    assert "placement (node_selector" in summary and "toleration" in summary
    assert "not honoured (nvidia.com/gpu: 1)" in summary
