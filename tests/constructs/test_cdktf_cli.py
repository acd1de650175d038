"""The real cdktf CLI (pinned in package.json) runs the app of cdktf.json from the project root.

Offline: CHECKPOINT_DISABLE, no plugin cache, no version check, an empty Terraform CLI config.
"""

from __future__ import annotations

import subprocess

from .synth import REPO, clean_env, read_stacks
from tests.terraform_binary import terraform as terraform_binary

CLI = REPO / "node_modules" / ".bin" / "cdktf"
PASSWORD = "cli-chosen-password"


def cdktf(*args: str, outdir, extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    assert CLI.exists(), "node_modules is missing: run `npm ci` (tests/run.sh does)"
    env = clean_env(
        PIPENV_VENV_IN_PROJECT="1",
        PIPENV_VERBOSITY="-1",
        CHECKPOINT_DISABLE="1",
        CDKTF_DISABLE_PLUGIN_CACHE_ENV="1",
        DISABLE_VERSION_CHECK="true",
        TF_CLI_CONFIG_FILE=str(REPO / ".ci" / "terraformrc"),
        CI="true",
        **extra_env,
    )
    return subprocess.run(
        ["npx", "--no-install", "cdktf", *args, "--output", str(outdir)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )


def test_cdktf_synth_through_the_cli(tmp_path):
    outdir = tmp_path / "cdktf.out"
    run = cdktf(
        "synth",
        outdir=outdir,
        extra_env={
            "IPYTHON_USER_LABEL": "alice",
            "IPYTHON_USER_PASSWORD": PASSWORD,
            "TF_VAR_user_password": PASSWORD,
        },
    )
    assert run.returncode == 0, run.stdout + run.stderr
    stacks = read_stacks(outdir)
    assert set(stacks) == {"cluster-stack", "viewer-stack"}
    assert stacks["viewer-stack"]["variable"]["user_password"]["sensitive"] is True
    for path in outdir.rglob("*"):
        if path.is_file():
            assert PASSWORD not in path.read_text(), path
    assert PASSWORD not in run.stdout + run.stderr


def test_cdktf_synth_hcl_parses_as_terraform(tmp_path):
    outdir = tmp_path / "cdktf.out"
    run = cdktf("synth", "--hcl", outdir=outdir, extra_env={})
    assert run.returncode == 0, run.stdout + run.stderr
    files = sorted(outdir.glob("stacks/*/cdk.tf"))
    assert [f.parent.name for f in files] == ["cluster-stack", "viewer-stack"]
    terraform = terraform_binary()
    for path in files:
        # `terraform fmt` parses HCL without providers; exit 2 on a syntax error.
        parsed = subprocess.run(
            [terraform, "fmt", "-write=false", "-list=false", str(path)],
            capture_output=True,
            text=True,
            env=clean_env(TF_CLI_CONFIG_FILE=str(REPO / ".ci" / "terraformrc")),
        )
        assert parsed.returncode == 0, parsed.stderr
        text = path.read_text()
        assert 'resource "kubernetes_deployment_v1"' in text
