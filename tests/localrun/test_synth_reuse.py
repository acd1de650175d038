"""`local up` reuses the last synth output while the app's code and environment are unchanged.

Real synths of the project's app (python infra/main.py) into a directory of the test: the
second is reused (the files are not written again), a changed stack parameter or a changed
source file of the app synthesizes again, and an incomplete output is never reused.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from localrun.synth import KEY_FILE, reusable, synth_key, synthesize

REPO = Path(__file__).resolve().parents[2]
ENVIRON = {k: v for k, v in os.environ.items() if not k.startswith(("IPYTHON_", "TF_VAR_"))}


def test_an_unchanged_app_is_reused_and_a_changed_parameter_is_not(tmp_path):
    outdir = tmp_path / "synth"
    first = synthesize(REPO, outdir, ENVIRON)
    manifest = outdir / "manifest.json"
    written = manifest.stat().st_mtime_ns
    second = synthesize(REPO, outdir, ENVIRON)
    assert manifest.stat().st_mtime_ns == written
    assert second.stacks.keys() == first.stacks.keys()
    assert [s.config for s in second.stacks.values()] == [s.config for s in first.stacks.values()]
    third = synthesize(REPO, outdir, {**ENVIRON, "IPYTHON_ENGINES": "3"})
    assert manifest.stat().st_mtime_ns != written
    engines = third.stacks["cluster-stack"].config["resource"]["kubernetes_deployment_v1"]
    assert any(d["spec"]["replicas"] in (3, "3") for d in engines.values())


def test_the_key_follows_the_apps_code_and_only_the_variables_it_reads(tmp_path):
    project = tmp_path / "project"
    for name in ("infra", "constructs/ipython_k8s"):
        shutil.copytree(REPO / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("cdktf.json", "Pipfile.lock"):
        shutil.copy2(REPO / name, project / name)
    key = synth_key(project, {"HOME": "/root", "IPYTHON_ENGINES": "2"})
    assert synth_key(project, {"HOME": "/elsewhere", "PWD": "/x", "IPYTHON_ENGINES": "2"}) == key
    assert synth_key(project, {"IPYTHON_ENGINES": "3"}) != key
    assert synth_key(project, {"IPYTHON_ENGINES": "2", "KUBE_CONTEXT": "kind"}) != key
    assert synth_key(project, {"IPYTHON_ENGINES": "2", "CDKTF_OUTDIR": "/tmp/out"}) == key
    stacks = project / "infra" / "stacks.py"
    stacks.write_text(stacks.read_text() + "\n# a change\n")
    assert synth_key(project, {"IPYTHON_ENGINES": "2"}) != key


def test_an_output_without_its_key_is_not_reused(tmp_path):
    outdir = tmp_path / "synth"
    synthesize(REPO, outdir, ENVIRON)
    key = synth_key(REPO, ENVIRON)
    assert reusable(outdir, key)
    (outdir / KEY_FILE).unlink()  # what an interrupted synth leaves: the key is written last
    assert not reusable(outdir, key)
