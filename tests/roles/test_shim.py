"""The ``IPython.parallel`` alias: installed by ``entrypoint.py install-shim`` (and by every role
start that finds it missing, ``ensure_shim``) as a .pth file plus one module, lazy, the same
module objects as ipyparallel, one DeprecationWarning."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from ipython_roles.shim_install import MODULE_NAME, PTH_LINE, PTH_NAME, SOURCE, ensure_shim, install_shim

from .processes import ENTRYPOINT, PYTHON, REPO_ROOT


def run_python(code: str, *options: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, *options, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=cwd)


def test_install_shim_writes_two_files_and_is_idempotent(tmp_path):
    for _ in range(2):
        result = subprocess.run(
            [PYTHON, str(ENTRYPOINT), "install-shim", "--site-packages", str(tmp_path)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{MODULE_NAME}.py", PTH_NAME]
    assert (tmp_path / PTH_NAME).read_text() == PTH_LINE
    assert (tmp_path / f"{MODULE_NAME}.py").read_text() == SOURCE.read_text()


def test_alias_is_lazy_at_interpreter_start(shim_installed):
    result = run_python("""
        import sys
        print('_ipython_parallel_shim' in sys.modules, 'ipyparallel' in sys.modules, 'IPython' in sys.modules)
    """)
    assert result.stdout.split() == ["True", "False", "False"]


def test_alias_gives_the_same_modules_as_ipyparallel(shim_installed):
    result = run_python("""
        from IPython.parallel import Client
        import IPython, IPython.parallel, ipyparallel
        from IPython.parallel.client.view import DirectView
        import IPython.parallel.util as util
        print(Client is ipyparallel.Client, IPython.parallel is ipyparallel,
              DirectView is ipyparallel.DirectView, util is ipyparallel.util)
    """)
    assert result.stdout.split() == ["True"] * 4, result.stderr


def test_one_deprecation_warning_for_main_code(shim_installed, tmp_path):
    script = tmp_path / "seed.py"
    script.write_text(
        "from IPython.parallel import Client\nimport IPython.parallel\nfrom IPython.parallel import Client\n"
    )
    for options in ([], ["-W", "always::DeprecationWarning"]):
        result = subprocess.run([PYTHON, *options, str(script)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert result.stderr.count("DeprecationWarning") == 1, result.stderr
        assert result.stderr.startswith(f"{script}:1: DeprecationWarning: IPython.parallel is an alias of ipyparallel")


def test_no_warning_when_a_library_imports_it(shim_installed, tmp_path):
    (tmp_path / "oldlib.py").write_text("from IPython.parallel import Client\n")
    result = run_python("import oldlib", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""


def test_unknown_submodule_still_fails_normally(shim_installed):
    result = run_python("import IPython.parallel.no_such_module")
    assert "ModuleNotFoundError: No module named 'ipyparallel.no_such_module'" in result.stderr


def snapshot(directory: Path) -> dict[str, tuple[int, int, int]]:
    """Inode, modification time and mode of every file: any write (even of the same bytes) shows."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_mode) for p in directory.iterdir()}


def assert_current(site_packages: Path) -> None:
    assert sorted(p.name for p in site_packages.iterdir()) == [f"{MODULE_NAME}.py", PTH_NAME]
    assert (site_packages / PTH_NAME).read_text() == PTH_LINE
    assert (site_packages / f"{MODULE_NAME}.py").read_text() == SOURCE.read_text()


@pytest.mark.parametrize("state", ["missing", "stale module", "pth only"])
def test_ensure_shim_installs_a_missing_or_stale_alias_with_one_log_line(tmp_path, capsys, state):
    if state == "stale module":
        install_shim(tmp_path)
        (tmp_path / f"{MODULE_NAME}.py").write_text("# an older alias\n")
    elif state == "pth only":
        (tmp_path / PTH_NAME).write_text(PTH_LINE)
    ensure_shim(tmp_path)
    assert_current(tmp_path)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].endswith(f"[entrypoint] installed the IPython.parallel alias into {tmp_path}")


def test_ensure_shim_does_not_write_a_current_alias(tmp_path, capsys):
    install_shim(tmp_path)
    before = snapshot(tmp_path)
    ensure_shim(tmp_path)
    assert snapshot(tmp_path) == before
    assert capsys.readouterr().err == ""


# root writes into a 0555 directory anyway; without CAP_DAC_OVERRIDE it obeys the mode bits
AS_UNPRIVILEGED = ["setpriv", "--bounding-set=-dac_override"] if os.geteuid() == 0 else []


@pytest.mark.skipif(bool(AS_UNPRIVILEGED) and shutil.which("setpriv") is None, reason="root without setpriv")
@pytest.mark.parametrize("state", ["missing", "stale", "current"])
def test_ensure_shim_in_a_read_only_site_packages_never_fails(tmp_path, request, state):
    """The image's case (read-only venv, alias current: nothing written, nothing said) and a
    read-only environment without the alias (one line saying how to install it, no failure)."""
    site_packages = tmp_path / "site-packages"
    site_packages.mkdir()
    if state != "missing":
        install_shim(site_packages)
    if state == "stale":
        (site_packages / PTH_NAME).write_text("# an older alias\n")
    for path in site_packages.iterdir():
        path.chmod(0o444)
    site_packages.chmod(0o555)
    request.addfinalizer(lambda: site_packages.chmod(0o755))
    before = snapshot(site_packages)
    code = "import sys, pathlib, ipython_roles.shim_install as s; s.ensure_shim(pathlib.Path(sys.argv[1]))"
    result = subprocess.run(
        [*AS_UNPRIVILEGED, PYTHON, "-c", code, str(site_packages)],
        cwd=REPO_ROOT / "image",
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert snapshot(site_packages) == before
    if state == "current":
        assert result.stderr == ""
        return
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert f"the IPython.parallel alias is missing or out of date in {site_packages}" in lines[0]
    assert "(Permission denied)" in lines[0]
    assert lines[0].endswith(f"install-shim --site-packages {site_packages}` as a user who can write there")
