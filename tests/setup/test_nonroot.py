"""The test command as a non-root user with a Docker socket, as on a GitHub-hosted runner.

There the runner is not root, Docker answers at a socket the user may use, and nothing may be
installed with apt-get nor written to /etc. Here: a user made for the test, a Podman service
of its own whose socket is opened to that user only (the user's DOCKER_HOST), and a copy of
the project's files owned by the user. The user installs pipenv with pip (the version .ci/run
pins) and runs the README's test command, ``pipenv sync --dev && pipenv run test``, on a
set-up test, a container test and an end-to-end test: the user's own venv, tests/run.sh's whole
set-up (Node.js, the engine found, ``npm ci``, the chromium check), then pytest. Only the
checkov venv is lent (CHECKOV_VENV, read-only) where the user may run it: it takes minutes to
install, the tests chosen do not run it, and nothing about it differs for a non-root user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from localrun.engine_setup import ping

from tests.users import useradd_arguments

pytestmark = pytest.mark.container

REPO = Path(__file__).resolve().parents[2]
INNER_TESTS = [
    "tests/setup/test_leak_guard.py::test_a_container_that_cannot_start_is_removed",
    "tests/container/test_roles.py::test_bad_environment_exits_2_with_one_line[typo in a variable name]",
    "tests/e2e/test_other_stacks.py::test_the_service_name_leads_to_the_pods",
]
PASSED_ENV = ("LANG", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT", "BASE_IMAGE")


@pytest.fixture(scope="module")
def user():
    name = f"nonroot-{uuid.uuid4().hex[:6]}"
    subprocess.run(["useradd", *useradd_arguments(), "--create-home", "--shell", "/bin/bash", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["pkill", "-KILL", "-u", name], check=False)
        subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)


@pytest.fixture(scope="module")
def users_socket(user):
    """A Podman service on a socket only ``user`` (and root) may use: the user's Docker."""
    directory = Path(tempfile.mkdtemp(prefix="nonroot-engine-"))
    directory.chmod(0o755)
    socket_path = directory / "podman.sock"
    service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{socket_path}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while ping(f"unix://{socket_path}") is not None:
            assert time.monotonic() < deadline and service.poll() is None, "podman system service did not start"
            time.sleep(0.2)
        shutil.chown(socket_path, user)
        socket_path.chmod(0o600)
        yield f"unix://{socket_path}"
    finally:
        service.terminate()
        service.wait(timeout=30)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def project(user):
    """The project's tracked files as they are now, owned by ``user``."""
    home = Path(f"/home/{user}")
    copy = home / "project"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    copy.mkdir()
    for name in filter(None, tracked.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    subprocess.run(["chown", "-R", f"{user}:{user}", str(home)], check=True)
    return copy


def as_user(user: str, project: Path, command: list[str], timeout: float, **env: str) -> subprocess.CompletedProcess:
    environment = {
        "HOME": f"/home/{user}", "USER": user, "PATH": f"/home/{user}/.local/bin:/usr/bin:/bin",
        "PIPENV_VENV_IN_PROJECT": "1", "PIPENV_VERBOSITY": "-1", "PIPENV_NOSPIN": "1",
        **{k: os.environ[k] for k in PASSED_ENV if k in os.environ}, **env,
    }
    return subprocess.run(["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in environment.items()),
                           *command], cwd=project, capture_output=True, text=True, timeout=timeout)


def pipenv_version() -> str:
    """The pipenv version .ci/run installs (PIPENV_VERSION=...)."""
    [line] = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line.startswith("PIPENV_VERSION=")]
    return line.split("=", 1)[1]


@pytest.fixture(scope="module")
def synced(user, project) -> Path:
    """The README's first half as the user: pipenv from pip, then `pipenv sync --dev`."""
    install = as_user(user, project, ["python3", "-m", "pip", "install", "-q", "--user", "--break-system-packages",
                                      f"pipenv=={pipenv_version()}"], timeout=600)
    assert install.returncode == 0, install.stderr[-3000:]
    sync = as_user(user, project, ["pipenv", "sync", "--dev"], timeout=900, PIPENV_YES="1")
    assert sync.returncode == 0, sync.stderr[-3000:]
    return project


def test_without_an_engine_it_answers_one_line_and_installs_nothing(user, synced):
    # The project's Podman socket exists here but is root's (0600): permission denied.
    run = as_user(user, synced, ["pipenv", "run", "python", "-m", "localrun.engine_setup"], timeout=60)
    assert (run.returncode, run.stdout) == (1, ""), run.stderr
    [line] = run.stderr.splitlines()
    assert line.startswith("engine: error: no container engine answers (/var/run/docker.sock: ")
    assert "/run/ipython-podman/podman.sock: permission denied" in line
    assert line.endswith("as root on Debian, `local up` and `pipenv run test` set Podman up themselves")


def lent_checkov(user: str, project: Path) -> dict[str, str]:
    """CHECKOV_VENV=this project's checkov venv when ``user`` may run it; else nothing, and the
    user's test command installs its own (where the project lives under a directory other users
    cannot enter, such as /root on a fresh machine)."""
    checkov = REPO / ".tools" / "checkov"
    usable = as_user(user, project, ["test", "-x", str(checkov / "bin" / "checkov")], timeout=30).returncode == 0
    return {"CHECKOV_VENV": str(checkov)} if usable else {}


def test_the_test_command_runs_as_a_non_root_user_on_its_docker_socket(user, synced, users_socket):
    run = as_user(user, synced, ["pipenv", "run", "test", "-p", "no:cacheprovider", "-q", *INNER_TESTS],
                  timeout=1500, DOCKER_HOST=users_socket, **lent_checkov(user, synced))
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    assert f"engine: using {users_socket} (DOCKER_HOST)" in run.stderr
    assert "installing the npm packages (npm ci)" in run.stderr  # the set-up really ran, as the user
    assert "apt-get" not in output and "installing Debian's chromium" not in output
    assert f"{len(INNER_TESTS)} passed" in run.stdout
