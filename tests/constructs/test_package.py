"""The package's public names, the plain-Python modules the stacks' parameter check relies on, and
the distribution: its dependency ranges, what its wheel holds, and an install as users do it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import time
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

import ipython_k8s

from .library_build import LIBRARY, build, pyproject
from .synth import REPO, clean_env


def test_every_exported_name_resolves():
    assert set(ipython_k8s.__all__) == set(ipython_k8s._EXPORTS)
    for name in ipython_k8s.__all__:
        assert getattr(ipython_k8s, name) is not None


def test_parameter_checks_create_no_output_directory(tmp_path):
    # infra/main.py checks the environment before it makes the cdktf App (which creates
    # cdktf.out). Since the parameters build the props (issue 11), checking them imports cdktf
    # (and starts jsii's Node.js); what must hold is that a bad value writes nothing.
    code = "import infra.parameters as p; p.read_settings({'IPYTHON_ENGINES': '-1'})"
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=clean_env(CDKTF_OUTDIR=str(tmp_path / "out")),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "IPYTHON_ENGINES=-1" in run.stderr, run.stderr
    assert not (tmp_path / "out").exists()


#: The newest constructs 10.x when this was written (`pip index versions constructs`); the
#: fresh install takes at least this one, next to cdktf 0.21.0 which the app pins.
NEWEST_CONSTRUCTS = "10.8.1"
PROVIDERS = ("cdktf-cdktf-provider-kubernetes", "cdktf-cdktf-provider-random")


def requirements() -> dict[str, Requirement]:
    return {Requirement(spec).name: Requirement(spec) for spec in pyproject()["project"]["dependencies"]}


def declared(package: str, dependency: str) -> Requirement:
    """What the installed ``package`` itself requires of ``dependency`` (its metadata)."""
    found = [Requirement(r) for r in metadata.requires(package) or [] if Requirement(r).name == dependency]
    assert len(found) == 1, (package, dependency, found)
    return found[0]


def test_dependencies_are_ranges_compatible_with_cdktfs_own():
    reqs = requirements()
    assert set(reqs) == {"cdktf", "constructs", *PROVIDERS}
    for req in reqs.values():
        assert not any(s.operator in ("==", "===") for s in req.specifier), f"{req}: a pin, not a range"
        # The versions the app's Pipfile.lock installs lie inside the ranges.
        assert req.specifier.contains(metadata.version(req.name)), (req, metadata.version(req.name))
    # Exactly cdktf's range for constructs, so the library never narrows what cdktf accepts.
    assert reqs["constructs"].specifier == declared("cdktf", "constructs").specifier
    assert reqs["constructs"].specifier.contains(NEWEST_CONSTRUCTS)
    for provider in PROVIDERS:
        major = Version(metadata.version(provider)).major
        assert reqs[provider].specifier == Requirement(f"x>={major},<{major + 1}").specifier
        # Each provider major requires the cdktf minor the library asks for.
        assert declared(provider, "cdktf").specifier == reqs["cdktf"].specifier


def test_the_readme_states_the_ranges_and_no_index_install():
    text = (LIBRARY / "README.md").read_text()
    for spec in pyproject()["project"]["dependencies"]:
        assert f"`{spec}`" in text, spec
    assert "pip install ipython-k8s-constructs" not in text  # it is not published


@pytest.fixture(scope="module")
def distributions(tmp_path_factory) -> dict[str, Path]:
    """``python -m build`` as users run it (isolated: pip fetches setuptools), into a tmp dir."""
    started = time.monotonic()
    dist = build(tmp_path_factory.mktemp("build"))
    print(f"python -m build: {time.monotonic() - started:.1f} s")
    found = {path.suffix: path for path in dist.iterdir()}
    assert set(found) == {".whl", ".gz"}, sorted(dist.iterdir())
    return {"wheel": found[".whl"], "sdist": found[".gz"]}


def test_the_wheel_holds_the_license_and_the_typing_marker(distributions):
    license_text = (REPO / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    with zipfile.ZipFile(distributions["wheel"]) as wheel:
        names = wheel.namelist()
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        assert "ipython_k8s/py.typed" in names
        assert f"{info}/licenses/LICENSE" in names, names
        assert wheel.read(f"{info}/licenses/LICENSE").decode() == license_text
        meta = wheel.read(f"{info}/METADATA").decode()
    assert "License-Expression: Apache-2.0" in meta
    assert "License-File: LICENSE" in meta
    for spec in pyproject()["project"]["dependencies"]:
        assert f"Requires-Dist: {Requirement(spec)}" in meta, (spec, meta)
    with tarfile.open(distributions["sdist"]) as sdist:
        top = sdist.getnames()[0].split("/")[0]
        member = sdist.extractfile(f"{top}/LICENSE")
        assert member is not None and member.read().decode() == license_text


APP = """\
import json, sys
from importlib import metadata

from cdktf import App, TerraformStack

import ipython_k8s
from ipython_k8s import EngineCluster, NotebookViewer, add_kubernetes_provider

app = App(outdir=sys.argv[1])
stack = TerraformStack(app, "science")
add_kubernetes_provider(stack, config_path="~/.kube/config")
cluster = EngineCluster(stack, "cluster", cluster_label="physics", engines=2)
NotebookViewer(stack, "alice", domain="notebooks.example.org", user_label="alice", cluster=cluster)
app.synth()
print(json.dumps({
    "module": ipython_k8s.__file__,
    "versions": {name: metadata.version(name) for name in
                 ("ipython-k8s-constructs", "cdktf", "constructs", "jsii",
                  "cdktf-cdktf-provider-kubernetes", "cdktf-cdktf-provider-random")},
}))
"""


def test_the_wheel_installs_next_to_the_newest_constructs_and_synthesizes(distributions, tmp_path):
    """A fresh venv: the wheel, cdktf 0.21.0 and constructs>=10.8.1 from PyPI (~1 minute)."""
    venv = tmp_path / "venv"
    # Without pip (a bare Debian's python has no ensurepip): the project's pip installs into it.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    pip_env = clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1")
    started = time.monotonic()
    install = subprocess.run(
        [*pip, "install", "--quiet", str(distributions["wheel"]),
         "cdktf==0.21.0", f"constructs>={NEWEST_CONSTRUCTS},<11"],
        env=pip_env, capture_output=True, text=True, timeout=600,
    )
    print(f"pip install into a fresh venv: {time.monotonic() - started:.1f} s")
    assert install.returncode == 0, install.stdout + install.stderr
    check = subprocess.run([*pip, "check"], env=pip_env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr

    app = tmp_path / "app"
    app.mkdir()
    (app / "main.py").write_text(APP)
    outdir = tmp_path / "cdktf.out"
    # cwd: the app's folder, so that nothing of the checkout is importable.
    run = subprocess.run([str(python), "main.py", str(outdir)], cwd=app, env=clean_env(),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert Path(report["module"]).is_relative_to(venv), report
    versions = report["versions"]
    assert Version(versions["constructs"]) >= Version(NEWEST_CONSTRUCTS), versions
    assert versions["cdktf"] == "0.21.0"
    for name, req in requirements().items():
        assert req.specifier.contains(versions[name]), (req, versions)
    stack = json.loads((outdir / "stacks" / "science" / "cdk.tf.json").read_text())
    deployments = {r["metadata"]["name"] for r in stack["resource"]["kubernetes_deployment_v1"].values()}
    assert deployments == {"ipcluster-physics-controller", "ipcluster-physics-engine",
                           "nbviewer-alice-physics"}
