"""The fast provider import: the same Terraform as the plain import, with a fraction of the modules."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .synth import REPO, clean_env

PROBE = """
import json, sys
sys.path.insert(0, {root!r})
if {plain}:
    import cdktf_cdktf_provider_kubernetes, cdktf_cdktf_provider_random
from tests.constructs.synth import GIVEN_ENV, synth_in_process
from pathlib import Path
synth_in_process(dict(GIVEN_ENV), Path({outdir!r}) / "given")
synth_in_process({{}}, Path({outdir!r}) / "generated")
package = sys.modules["cdktf_cdktf_provider_kubernetes"]
facts = {{
    "bare": getattr(package, "__ipython_k8s_bare_package__", False),
    "loaded": sorted(
        m for m in sys.modules
        if m.startswith("cdktf_cdktf_provider_kubernetes.") and not m.endswith("._private")
    ),
}}
# The bare package still serves code that runs later, both ways of importing a submodule.
from cdktf_cdktf_provider_kubernetes import config_map_v1
facts["lazy"] = package.pod_v1.PodV1.__name__ + "," + config_map_v1.ConfigMapV1.__name__
print(json.dumps(facts))
"""


def synth_files(outdir) -> dict[str, bytes]:
    return {str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def both_ways(tmp_path_factory):
    results = {}
    for mode in ("fast", "plain"):
        outdir = tmp_path_factory.mktemp(mode)
        code = PROBE.format(root=str(REPO), plain=mode == "plain", outdir=str(outdir))
        run = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0, run.stderr
        results[mode] = (json.loads(run.stdout.splitlines()[-1]), synth_files(outdir))
    return results


def test_synth_is_byte_identical_to_the_plain_import(both_ways):
    fast_files, plain_files = both_ways["fast"][1], both_ways["plain"][1]
    assert len(fast_files) >= 6  # manifest + 2 stacks, twice
    assert fast_files.keys() == plain_files.keys()
    for name in fast_files:
        assert fast_files[name] == plain_files[name], name


def test_fast_import_loads_only_what_the_stacks_use(both_ways):
    fast, plain = both_ways["fast"][0], both_ways["plain"][0]
    assert fast["bare"] is True
    assert plain["bare"] is False  # the plain package was there first and was used as it is
    stack_modules = {
        "cdktf_cdktf_provider_kubernetes._jsii",
        "cdktf_cdktf_provider_kubernetes.deployment_v1",
        "cdktf_cdktf_provider_kubernetes.service_v1",
        "cdktf_cdktf_provider_kubernetes.secret_v1",
        "cdktf_cdktf_provider_kubernetes.ingress_v1",
        "cdktf_cdktf_provider_kubernetes.network_policy_v1",
        "cdktf_cdktf_provider_kubernetes.persistent_volume_claim_v1",
        "cdktf_cdktf_provider_kubernetes.provider",
    }
    assert set(fast["loaded"]) == stack_modules
    assert len(plain["loaded"]) > 100


def test_bare_package_imports_submodules_on_demand(both_ways):
    assert both_ways["fast"][0]["lazy"] == "PodV1,ConfigMapV1"
    assert both_ways["plain"][0]["lazy"] == "PodV1,ConfigMapV1"
