"""`import constructs` must always be the jsii library cdktf needs, never this repository's folder.

The distribution folder constructs/ has no __init__.py: a regular package anywhere on sys.path
wins over a folder without one (PEP 420), even when the repository root comes first.
"""

from __future__ import annotations

import subprocess
import sys

from .synth import REPO, clean_env


def test_distribution_folder_is_not_a_package():
    assert (REPO / "constructs" / "pyproject.toml").is_file()
    assert not (REPO / "constructs" / "__init__.py").exists()


def test_constructs_resolves_to_the_installed_library_in_this_process():
    import constructs

    assert "site-packages" in constructs.__file__
    assert hasattr(constructs, "Construct")


def test_constructs_resolves_to_the_installed_library_with_the_repo_root_first():
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r}); import constructs, ipython_k8s; "
        "print(constructs.__file__); print(constructs.Construct.__module__); print(ipython_k8s.__file__)"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=clean_env(), capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    constructs_file, module, library_file = run.stdout.splitlines()
    assert "site-packages" in constructs_file and not constructs_file.startswith(str(REPO / "constructs"))
    assert module == "constructs"
    assert library_file == str(REPO / "constructs" / "ipython_k8s" / "__init__.py")
