"""The roles run from an environment where ``install-shim`` never ran (``pipenv run python
image/entrypoint.py``, not the image), and the seed's ``from IPython.parallel import Client``
still works: every role start installs the alias into its interpreter's site-packages.

Each role runs with the python of its own throw-away venv that sees the project venv's packages
through a path line in a ``.pth`` file, but not the project venv's own ``.pth`` files (Python
processes those only in site directories), so not its alias if it has one. The viewer's kernels
and the engine's ipengine are started by the role with the role's interpreter, which is checked
too (``sys.executable``).
"""

from __future__ import annotations

import os
import subprocess
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest
from ipython_roles.shim_install import MODULE_NAME, PTH_LINE, PTH_NAME, SOURCE

from .conftest import PASSWORD, cluster_variables, wait_for_log
from .kernel_client import JupyterClient
from .processes import ENTRYPOINT, PYTHON, RoleProcess, base_environment, wait_for_port, wait_for_viewer

INSTALLED = "installed the IPython.parallel alias into"


def bare_venv(root: Path) -> Path:
    """A venv whose site-packages has only a path line to the project venv's; returns its python."""
    subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(root)], check=True, capture_output=True)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    project = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (Path(purelib) / "project-venv.pth").write_text("".join(f"{path}\n" for path in project))
    return python


def site_packages_of(python: Path) -> Path:
    return Path(next((python.parent.parent / "lib").glob("python3*/site-packages")))


class BareVenvRole(RoleProcess):
    """A role started by ``<venv>/bin/python image/entrypoint.py``, that venv first on PATH."""

    def __init__(self, name: str, root: Path, variables: dict[str, str], python: Path):
        path = os.pathsep.join([str(python.parent), os.environ.get("PATH", "/usr/bin:/bin")])
        super().__init__(name, root, {**variables, "PATH": path})
        self.python = python

    def start(self) -> BareVenvRole:
        self.home.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [str(self.python), str(ENTRYPOINT)],
                env=base_environment(self.home, **self.variables),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.root,
            )
        return self


@dataclass
class BareRoles:
    processes: dict[str, BareVenvRole]
    viewer_url: str

    def __getitem__(self, role: str) -> BareVenvRole:
        return self.processes[role]


@pytest.fixture(scope="module")
def roles(tmp_path_factory, ports) -> BareRoles:
    """Controller, one engine and a viewer wired to them, each from its own bare venv."""
    root = tmp_path_factory.mktemp("bare-venv-roles")
    controller_port, viewer_port = ports.controller_base(), ports.port()
    variables = {
        "controller": cluster_variables(controller_port, IPYTHON_CONTAINER_TYPE="controller"),
        "engine": cluster_variables(
            controller_port, IPYTHON_CONTAINER_TYPE="engine", IPYTHON_NOTEBOOK_DIR=str(root / "engine" / "work")
        ),
        "viewer": cluster_variables(
            controller_port,
            IPYTHON_CONTAINER_TYPE="viewer",
            IPYTHON_USER_PASSWORD=PASSWORD,
            IPYTHON_VIEWER_PORT=str(viewer_port),
            IPYTHON_NOTEBOOK_DIR=str(root / "viewer" / "work"),
        ),
    }
    started: dict[str, BareVenvRole] = {}
    try:
        for role, role_variables in variables.items():
            python = bare_venv(root / f"venv-{role}")
            started[role] = BareVenvRole(role, root, role_variables, python).start()
        wait_for_port(started["controller"], controller_port)
        wait_for_viewer(started["viewer"], viewer_port)
        wait_for_log(started["engine"], "registered as engine", 60)
        yield BareRoles(started, f"http://127.0.0.1:{viewer_port}")
    finally:
        for process in started.values():
            process.stop()


@pytest.mark.parametrize("role", ["controller", "engine", "viewer"])
def test_role_start_installs_the_alias_into_its_environment(roles, role):
    site_packages = site_packages_of(roles[role].python)
    assert roles[role].log().count(INSTALLED) == 1, roles[role].log()
    assert f"{INSTALLED} {site_packages}\n" in roles[role].log()
    assert (site_packages / PTH_NAME).read_text() == PTH_LINE
    assert (site_packages / f"{MODULE_NAME}.py").read_text() == SOURCE.read_text()


def test_viewer_kernel_runs_the_seed_import(roles):
    with JupyterClient(roles.viewer_url, PASSWORD) as jupyter, jupyter.kernel() as kernel:
        output = kernel.run(
            "import sys\nfrom IPython.parallel import Client\nimport ipyparallel\n"
            "print(Client is ipyparallel.Client, sys.executable)"
        )
    assert output.stdout.split() == ["True", str(roles["viewer"].python)]


def test_engine_task_imports_IPython_parallel(roles):
    with JupyterClient(roles.viewer_url, PASSWORD) as jupyter, jupyter.kernel() as kernel:
        output = kernel.run(
            "from ipyparallel import Client  # the kernel's alias is the test above\n"
            "def probe():\n"
            "    import sys, IPython.parallel, ipyparallel\n"
            "    return IPython.parallel.Client is ipyparallel.Client, sys.executable\n"
            "client = Client()\n"
            "[(same, python)] = client[:].apply_sync(probe)\n"
            "print(len(client.ids), same, python)\n"
            "client.close()"
        )
    assert output.stdout.split() == ["1", "True", str(roles["engine"].python)]
