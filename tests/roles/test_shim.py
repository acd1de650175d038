"""The ``IPython.parallel`` alias: installed by ``entrypoint.py install-shim`` as a .pth file
plus one module, lazy, the same module objects as ipyparallel, one DeprecationWarning."""

from __future__ import annotations

import subprocess
import textwrap

from ipython_roles.shim_install import MODULE_NAME, PTH_LINE, PTH_NAME, SOURCE

from .processes import ENTRYPOINT, PYTHON


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
