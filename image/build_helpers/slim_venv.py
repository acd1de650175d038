"""Make the image's virtualenv smaller without changing what it can do (run at image build time).

The scientific wheels carry things a notebook server never uses: their own test suites, the
C/Cython sources of their compiled modules and the debug symbols of those modules. Together
they are about a tenth of the venv. This script removes them and then PROVES nothing needed
went with them, so that a future version bump that breaks the assumption fails the build
instead of a user's notebook:

* every compiled extension module that imported before is imported again afterwards;
* a smoke import of the packages the image promises succeeds.

Also dropped: babel's locale data for every language but English (~30 MB). babel is only there
for jupyterlab_server, which uses it to name installed JupyterLab language packs and falls back
to English for a locale babel does not know (translation_utils.is_valid_locale); the image
installs no language pack.

Also dropped, as nothing in the image can use them: JupyterLab's UI-test helper (``galata``,
~7 MB, loaded only by JupyterLab's own test runs), and the third-party type stubs jedi carries
(``typeshed/stubs`` and ``django-stubs``, ~28 MB) for distributions that are not installed:
jedi (IPython's completer) only reads a package's stubs when completing that package, which
cannot be imported here. The stubs of installed distributions and of the standard library stay;
a completion on a standard-library module proves jedi still works.

Also dropped: ipywidgets' front end for the classic Notebook (< 7), widgetsnbextension's
nbextension (~9 MB, in the package and copied to ``share/jupyter/nbextensions``): Notebook 7 and
JupyterLab load widgets from jupyterlab_widgets' labextension, which stays (checked), and nothing
in the image serves nbextensions. And JavaScript source maps (``*.js.map``, nbgitpuller's): only
a browser's developer tools ask for them.

Not touched: the vendored shared libraries in ``*.libs/`` directories (auditwheel rewrote them
with patchelf, and ``strip`` corrupts such files: numpy's OpenBLAS stops loading), numpy's C
headers and f2py sources, and byte-code policy (the Dockerfile ships none; see there).

Usage: python slim_venv.py SITE_PACKAGES   (``strip`` from binutils must be on PATH)
"""

from __future__ import annotations

import contextlib
import importlib
import io
import shutil
import subprocess
import sys
from pathlib import Path

# Test suites shipped inside wheels; nothing imports them at run time.
TEST_DIRS_OF = (
    "numpy", "scipy", "pandas", "sympy", "matplotlib", "contourpy", "kiwisolver", "fontTools",
    "PIL", "zmq", "tornado", "debugpy", "ipyparallel", "IPython", "ipykernel", "jupyter_server",
    "jupyter_client", "nbformat", "nbconvert", "traitlets", "networkx", "mpmath",
)
# Sources of already compiled modules (numpy keeps its own: f2py and the C API use them).
SOURCE_SUFFIXES = (".c", ".cpp", ".pyx", ".pxd")
SOURCES_KEPT_UNDER = ("numpy",)
# babel locale files kept: the root locale and English (the Jupyter UI's language).
BABEL_LOCALES_KEPT = ("root.dat", "en.dat", "en_")
SMOKE_IMPORTS = (
    "numpy", "scipy.linalg", "scipy.stats", "scipy.optimize", "pandas", "sympy",
    "matplotlib.pyplot", "ipyparallel", "ipykernel.kernelapp", "jupyter_server.serverapp",
    "notebook.app", "nbclient", "nbgitpuller.handlers", "ipywidgets", "tqdm.notebook",
)


def _size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def extension_modules(site: Path) -> list[tuple[str, Path]]:
    """(dotted module name, file) of every compiled module outside the vendored *.libs dirs."""
    found = []
    for so in sorted(site.rglob("*.so")):
        rel = so.relative_to(site)
        if rel.parts[0].endswith(".libs"):
            continue
        name = ".".join(rel.parts[:-1] + (rel.name.split(".")[0],))
        if all(part.isidentifier() for part in name.split(".")):
            found.append((name, so))
    return found


def importable(site: Path) -> set[str]:
    """The extension modules that import here, each in a fresh interpreter's view of the venv."""
    code = (
        "import contextlib, importlib, io, sys\n"
        "ok = []\n"
        "for name in sys.stdin.read().split():\n"
        "    try:\n"
        "        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "            importlib.import_module(name)\n"
        "        ok.append(name)\n"
        "    except BaseException:\n"
        "        pass\n"
        "print('\\n'.join(ok))\n"
    )
    names = "\n".join(name for name, _ in extension_modules(site))
    out = subprocess.run([sys.executable, "-B", "-c", code], input=names, capture_output=True,
                         text=True, check=True).stdout
    return set(out.split())


def remove_test_suites(site: Path) -> None:
    for top in TEST_DIRS_OF:
        root = site / top
        if not root.is_dir():
            continue
        for tests in sorted(root.rglob("tests"), key=lambda p: len(p.parts), reverse=True):
            if tests.is_dir():
                shutil.rmtree(tests)


def remove_compiled_sources(site: Path) -> None:
    for suffix in SOURCE_SUFFIXES:
        for source in site.rglob(f"*{suffix}"):
            if source.relative_to(site).parts[0] not in SOURCES_KEPT_UNDER and source.is_file():
                source.unlink()


def keep_english_babel_data(site: Path) -> None:
    locale_data = site / "babel" / "locale-data"
    if locale_data.is_dir():
        for dat in locale_data.glob("*.dat"):
            if not dat.name.startswith(BABEL_LOCALES_KEPT):
                dat.unlink()


def _normalized(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def remove_unusable_extras(site: Path) -> None:
    galata = site / "jupyterlab" / "galata"
    if galata.is_dir():
        shutil.rmtree(galata)
    third_party = site / "jedi" / "third_party"
    if (third_party / "django-stubs").is_dir():
        shutil.rmtree(third_party / "django-stubs")
    stubs = third_party / "typeshed" / "stubs"
    if stubs.is_dir():
        from importlib.metadata import distributions

        installed = {_normalized(d.metadata["Name"]) for d in distributions(path=[str(site)])}
        for stub in stubs.iterdir():
            if stub.is_dir() and _normalized(stub.name) not in installed:
                shutil.rmtree(stub)


def _jupyter_data(site: Path) -> Path:
    """The venv's Jupyter data (share/jupyter), from its site-packages (lib/python3.X/site-packages)."""
    return site.parents[2] / "share" / "jupyter"


WIDGETS_LABEXTENSION = Path("labextensions") / "@jupyter-widgets" / "jupyterlab-manager" / "package.json"


def remove_classic_notebook_front_ends(site: Path) -> None:
    for path in (site / "widgetsnbextension" / "static", _jupyter_data(site) / "nbextensions" / "jupyter-js-widgets"):
        if path.is_dir():
            shutil.rmtree(path)
    for root in (site, _jupyter_data(site)):
        for source_map in root.rglob("*.js.map"):
            source_map.unlink()


def check_widgets_front_end(site: Path) -> None:
    if not (_jupyter_data(site) / WIDGETS_LABEXTENSION).is_file():
        raise RuntimeError(f"the widgets' labextension is missing: {_jupyter_data(site) / WIDGETS_LABEXTENSION}")


def check_jedi_completes() -> None:
    import jedi

    names = [c.name for c in jedi.Script("import json\njson.du").complete()]
    if "dumps" not in names:
        raise RuntimeError(f"jedi no longer completes the standard library: json.du -> {names}")


def check_jupyter_locales() -> None:
    """What jupyterlab_server asks babel: English works, another locale falls back to English."""
    from jupyterlab_server.translation_utils import get_display_name

    english = get_display_name("en", "en")
    french = get_display_name("fr_FR", "en")
    if english != "English" or not french:
        raise RuntimeError(f"babel lookups broke: en -> {english!r}, fr_FR -> {french!r}")


def strip_debug_symbols(site: Path) -> None:
    files = [str(so) for _, so in extension_modules(site)]
    for start in range(0, len(files), 200):
        subprocess.run(["strip", "--strip-debug", *files[start:start + 200]], check=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not Path(argv[1]).is_dir():
        print(f"usage: {Path(argv[0]).name} SITE_PACKAGES_DIR (got {argv[1:]!r})", file=sys.stderr)
        return 2
    site = Path(argv[1])
    size_before = _size_mb(site)
    before = importable(site)
    remove_test_suites(site)
    remove_compiled_sources(site)
    keep_english_babel_data(site)
    remove_unusable_extras(site)
    remove_classic_notebook_front_ends(site)
    strip_debug_symbols(site)
    after = importable(site)
    lost = sorted(before - after)
    if lost:
        print(f"slim_venv: these extension modules no longer import: {', '.join(lost)}", file=sys.stderr)
        return 1
    for name in SMOKE_IMPORTS:
        with contextlib.redirect_stdout(io.StringIO()):
            importlib.import_module(name)
    check_jupyter_locales()
    check_jedi_completes()
    check_widgets_front_end(site)
    print(f"slim_venv: {size_before:.0f} MB -> {_size_mb(site):.0f} MB; "
          f"{len(after)} extension modules import as before")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
