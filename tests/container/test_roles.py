"""Each role as a container of the built image: environment in, behaviour out.

A bad environment stops the container at once with exit status 2 and the one-line error naming
the variable; a viewer answers /api without login and nothing else; it runs as uid 1000, or as
any UID in group 0 (OpenShift), or on a read-only root file system with only /tmp and HOME
writable (Kubernetes readOnlyRootFilesystem); tini is PID 1 and the image's HEALTHCHECK passes.
"""

from __future__ import annotations

import pytest

from tests.roles.kernel_client import JupyterClient

from . import containers

pytestmark = pytest.mark.container

PASSWORD = "container test password"
SECRET_KEY = "s3cret-cluster-key-never-logged"

# env -> the variable the one-line error names (exit status 2, nothing started)
BAD_ENVIRONMENTS = {
    "no role": ({}, "IPYTHON_CONTAINER_TYPE=<unset>"),
    "unknown role": ({"IPYTHON_CONTAINER_TYPE": "notebook"}, "IPYTHON_CONTAINER_TYPE=notebook"),
    "viewer without password": ({"IPYTHON_CONTAINER_TYPE": "viewer"}, "IPYTHON_USER_PASSWORD=<unset>"),
    "controller without key": (
        {"IPYTHON_CONTAINER_TYPE": "controller", "IPYTHON_CLUSTER_LABEL": "c1"}, "IPYTHON_CLUSTER_KEY=<unset>"),
    "controller without label": (
        {"IPYTHON_CONTAINER_TYPE": "controller", "IPYTHON_CLUSTER_KEY": SECRET_KEY}, "IPYTHON_CLUSTER_LABEL=<unset>"),
    "engine with a label that is no DNS label": (
        {"IPYTHON_CONTAINER_TYPE": "engine", "IPYTHON_CLUSTER_LABEL": "Not_A_Label",
         "IPYTHON_CLUSTER_KEY": SECRET_KEY}, "IPYTHON_CLUSTER_LABEL=Not_A_Label"),
    # the image's own ENV (IPYTHON_NOTEBOOK_DIR, IPYTHON_WORKSPACE_SEED, ...) are all known: only the typo stops it
    "typo in a variable name": (
        {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWORD": SECRET_KEY, "IPYTHON_CULL_IDLE_SECOND": "60"},
        "IPYTHON_CULL_IDLE_SECOND=60"),
}


@pytest.mark.parametrize("environment, names", BAD_ENVIRONMENTS.values(), ids=BAD_ENVIRONMENTS.keys())
def test_bad_environment_exits_2_with_one_line(docker_client, image, environment, names):
    started = containers.start(docker_client, image, environment)
    try:
        assert containers.wait_for_exit(started, timeout=120) == 2
        lines = [line for line in started.logs().splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("error: ")]
        assert len(errors) == 1 and errors[0].startswith(f"error: {names}: "), lines
        assert SECRET_KEY not in started.logs()
    finally:
        containers.remove(started)


@pytest.fixture(scope="module")
def viewer(docker_client, image):
    """A viewer with a password, as the image is meant to run (uid 1000)."""
    with containers.running_viewer(docker_client, image, PASSWORD) as started:
        yield started


def test_viewer_answers_api_without_login_and_nothing_else(viewer):
    jupyter = JupyterClient(viewer.url)
    assert jupyter.get("/api").status_code == 200
    assert jupyter.get("/api").json()["version"]
    assert jupyter.get("/api/contents").status_code == 403
    assert jupyter.get("/api/kernels").status_code == 403
    tree = jupyter.get("/tree")
    assert tree.status_code == 302 and "/login" in tree.headers["Location"]


# What PID 1's child (the Jupyter server tini started) has in its environment, one per line.
SERVER_ENVIRON = (
    "import pathlib\n"
    "child = next(p for p in pathlib.Path('/proc').iterdir() if p.name.isdigit()"
    " and (p / 'stat').read_text().split(')')[-1].split()[1] == '1')\n"
    "print((child / 'environ').read_bytes().decode().replace('\\0', '\\n'))\n"
)


def test_viewer_password_is_neither_logged_nor_in_the_environment_of_the_server(viewer):
    assert PASSWORD not in viewer.logs()
    code, environ = viewer.exec(["python", "-c", SERVER_ENVIRON])
    assert code == 0 and "IPYTHON_CONTAINER_TYPE=viewer" in environ.splitlines(), environ
    assert "IPYTHON_USER_PASSWORD" not in environ


def test_pid_1_keeps_no_secret_in_its_environment(viewer):
    """tini stays PID 1 for the container's life; /proc/1/environ is readable by every kernel."""
    code, environ = viewer.exec(["python", "-c", "print(open('/proc/1/environ', 'rb').read().decode())"])
    assert code == 0 and "IPYTHON_CONTAINER_TYPE=viewer" in environ, environ
    assert "IPYTHON_USER_PASSWORD" not in environ and PASSWORD not in environ


def test_kernel_has_the_scientific_base_and_the_ipython_parallel_alias(viewer):
    code = (
        "import numpy, scipy, scipy.linalg, pandas, sympy, matplotlib\n"
        "matplotlib.use('Agg')\n"
        "import matplotlib.pyplot as plt\n"
        "import IPython.parallel, ipyparallel\n"
        "assert IPython.parallel.Client is ipyparallel.Client\n"
        "x = sympy.symbols('x')\n"
        "print(float(scipy.linalg.det(numpy.eye(3) * 2)), int(pandas.Series([1, 2, 3]).sum()),"
        " sympy.integrate(2 * x, x))\n"
    )
    with JupyterClient(viewer.url, PASSWORD, timeout=60) as jupyter, jupyter.kernel() as kernel:
        assert kernel.run(code, timeout=240).stdout.split() == ["8.0", "6", "x**2"]


def test_healthcheck_of_the_image_passes_for_a_running_viewer(viewer):
    code, output = viewer.exec(containers.healthcheck_command(viewer))
    assert code == 0, output
    assert output.startswith("healthy: viewer: GET http://127.0.0.1:8888/api -> 200")


def test_tini_is_pid_1_and_the_server_runs_as_uid_1000_group_0(viewer):
    code, cmdline = viewer.exec(["cat", "/proc/1/cmdline"])
    assert code == 0 and cmdline.split("\0")[:4] == ["tini", "--", "/opt/venv/bin/python", "/opt/ipython/entrypoint.py"]
    code, ids = viewer.exec(["sh", "-c", "echo $(id -u):$(id -g) $HOME"])
    assert code == 0 and ids.split() == ["1000:0", "/home/ipython"]


# How the viewer is run -> it still serves and runs kernels (writing only HOME and /tmp).
RUN_VARIANTS = {
    "arbitrary uid in group 0 (OpenShift)": {"user": "123456:0"},
    "read-only root, tmpfs on /tmp and HOME (Kubernetes)": {
        "read_only": True, "tmpfs": {"/tmp": "rw,mode=1777,size=512m", "/home/ipython": "rw,mode=1777,size=512m"}},
}


@pytest.mark.parametrize("options", RUN_VARIANTS.values(), ids=RUN_VARIANTS.keys())
def test_viewer_runs_with(docker_client, image, options):
    started = containers.start(
        docker_client, image, {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWORD": PASSWORD},
        publish_viewer=True, **options,
    )
    try:
        containers.wait_for_viewer(started)
        with JupyterClient(started.url, PASSWORD, timeout=60) as jupyter:
            created = jupyter.put("/api/contents/written-by-the-viewer.txt",
                                  {"type": "file", "format": "text", "content": "hello"})
            assert created.status_code == 201, created.text
            with jupyter.kernel() as kernel:
                output = kernel.run("import os; print(os.getuid(), os.getgid(), os.getcwd())", timeout=120).stdout
        expected_uid = options.get("user", "1000").split(":")[0]
        assert output.split() == [expected_uid, "0", "/home/ipython/work"]
        code, health = started.exec(containers.healthcheck_command(started))
        assert code == 0, health
    finally:
        containers.remove(started)
