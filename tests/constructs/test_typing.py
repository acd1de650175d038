"""mypy checks the construct library and the example app, and a user's program against the library.

WHY a user's program against an installed copy: a program of its users sees ``ipython_k8s``
installed (from a wheel), not as source next to it; mypy then reads the package's hints only if
it ships the ``py.typed`` marker (PEP 561), and otherwise treats every name as ``Any`` and
reports no misspelt prop. So the library is built and installed (without dependencies, no
network) into a throw-away venv that sees the project venv's cdktf and providers, and mypy runs
with that venv's interpreter on a small program in a temporary directory.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from .library_build import build
from .synth import REPO, clean_env

TIMEOUT = 300


def mypy(*args: str, cwd: Path, cache: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache), *args],
        cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=TIMEOUT,
    )


@pytest.fixture(scope="module")
def user_venv(tmp_path_factory) -> Path:
    """A venv with ipython_k8s installed from its wheel; its other packages are the project venv's."""
    work = tmp_path_factory.mktemp("typing-venv")
    # No isolation: the project venv's setuptools builds it, no download.
    dist = build(work, "--wheel", "--no-isolation")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=TIMEOUT)
    python = venv / "bin" / "python"
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True, timeout=TIMEOUT,
    ).stdout.strip())
    # cdktf, constructs and the providers: the project venv's site-packages as a plain path entry
    # (its .pth files, the editable ipython_k8s among them, are not processed from there).
    (site / "project-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
         "--quiet", *map(str, dist.glob("*.whl"))],
        env=clean_env(), capture_output=True, text=True, timeout=TIMEOUT,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return python


def check_user_program(python: Path, tmp_path: Path, source: str) -> subprocess.CompletedProcess:
    program = tmp_path / "infra_of_a_user.py"
    program.write_text(textwrap.dedent(source))
    # --strict: the strictest a user may run; the library's hints hold up to it.
    return mypy("--python-executable", str(python), "--strict", program.name,
                cwd=tmp_path, cache=tmp_path / "mypy-cache")


GOOD_PROGRAM = """\
    from cdktf import App, TerraformStack
    from ipython_k8s import (Affinity, EngineCluster, EngineGroup, NotebookViewer, Placement, Resources,
                             Toleration, add_kubernetes_provider)

    app = App()
    stack = TerraformStack(app, "science")
    add_kubernetes_provider(stack, config_path="~/.kube/config")
    gpu = Placement(gpus=1, node_selector={"pool": "gpu"}, affinity=Affinity(spread=True),
                    tolerations=(Toleration(key="dedicated", value="science", effect="NoSchedule"),))
    cluster = EngineCluster(stack, "cluster", cluster_label="physics", engines=8,
                            engine_resources=Resources(cpu_request="1", memory_request="1Gi",
                                                     cpu_limit="2", memory_limit="2Gi"),
                            engine_groups=(EngineGroup(name="gpu", engines=2, placement=gpu),),
                            shared_storage_size="50Gi")
    NotebookViewer(stack, "alice", domain="notebooks.example.org", user_label="alice",
                   cluster=cluster, placement=Placement(image_pull_secrets=("registry-login",)),
                   ingress_body_size="256m")
    app.synth()
"""


def test_the_library_and_the_example_app_type_check(tmp_path):
    # mypy.ini at the root names the files: constructs/ipython_k8s and examples/.
    run = mypy(cwd=REPO, cache=tmp_path / "mypy-cache")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("Success: no issues found"), run.stdout


def test_the_installed_package_is_typed(user_venv):
    marker = subprocess.run(
        [str(user_venv), "-c", "import importlib.resources as r; "
         "print(r.files('ipython_k8s').joinpath('py.typed').is_file())"],
        capture_output=True, text=True, timeout=TIMEOUT, env=clean_env(),
    )
    assert marker.stdout.strip() == "True", marker.stdout + marker.stderr


def test_a_correct_user_program_passes_strict_mypy(user_venv, tmp_path):
    run = check_user_program(user_venv, tmp_path, GOOD_PROGRAM)
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_misspelt_prop_and_a_wrong_type_are_reported(user_venv, tmp_path):
    """In both spellings: keywords (the constructs' typed overloads) and props objects."""
    run = check_user_program(user_venv, tmp_path, """\
        from cdktf import App, TerraformStack
        from ipython_k8s import EngineCluster, EngineClusterProps, NotebookViewer, NotebookViewerProps

        app = App()
        stack = TerraformStack(app, "science")
        cluster = EngineCluster(stack, "cluster", engines="8")
        NotebookViewer(stack, "alice", domian="notebooks.example.org", cluster=cluster)
        EngineCluster(stack, "other", EngineClusterProps(engines="8"))
        NotebookViewer(stack, "bob", NotebookViewerProps(domian="notebooks.example.org"))
        EngineCluster(stack, "third", engine_groups=("gpu",))
    """)
    out = run.stdout
    assert run.returncode == 1, out + run.stderr
    lines = out.splitlines()
    # keywords: mypy names the overloads; the variant shown says what was expected
    assert any(line.startswith("infra_of_a_user.py:6: error: No overload variant of \"EngineCluster\"")
               for line in lines), out
    assert 'Unexpected keyword argument "domian" for overloaded function "NotebookViewer"; did you mean "domain"?' in out, out
    # props objects
    assert 'infra_of_a_user.py:8: error: Argument "engines" to "EngineClusterProps" has incompatible type "str"; expected "int"' in out, out
    assert 'infra_of_a_user.py:9: error: Unexpected keyword argument "domian" for "NotebookViewerProps"' in out, out
    # a new prop is typed too: engine groups are EngineGroup objects, not names
    assert ('infra_of_a_user.py:10: error: Argument "engine_groups" to "EngineCluster" has incompatible type '
            '"tuple[str]"; expected "tuple[EngineGroup, ...]"') in out, out
    assert "import-untyped" not in out and "import-not-found" not in out, out
