"""IPYTHON_TRUSTED_PROXIES through the local run: the stack parameter becomes the viewer
container's variable in the Terraform, and the local run gives the container that value
unchanged (its environment is the Terraform's), to the viewer only."""

from __future__ import annotations

import pytest

from localrun.synth import read_app

from tests.e2e.synthesis import GIVEN, synthesize_into
from tests.localrun.test_plan import containers, plan_of

PROXIES = "10.244.0.0/16,fd00::/8,192.0.2.7"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    outdir = synthesize_into(tmp_path_factory.mktemp("trusted-proxies") / "cdktf.out",
                             **{**GIVEN, "IPYTHON_ENGINES": "1", "IPYTHON_TRUSTED_PROXIES": PROXIES})
    return read_app(outdir)


def test_the_viewer_container_gets_the_trusted_proxies_unchanged(app, tmp_path):
    environments = {name: c.environment for name, c in containers(plan_of(app, tmp_path)).items()}
    viewer = environments.pop("science_nbviewer-ana-plan-0_ipython")
    assert viewer["IPYTHON_TRUSTED_PROXIES"] == PROXIES
    assert environments and all("IPYTHON_TRUSTED_PROXIES" not in env for env in environments.values())
