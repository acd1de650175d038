"""``cdktf synth --hcl`` and ``cdktf synth`` in turn into one output folder leave one format per stack.

cdktf writes a stack as ``cdk.tf`` (with ``metadata.json``) under ``--hcl`` and as ``cdk.tf.json``
otherwise, into ``cdktf.out/stacks/<stack>/``, and deletes neither of the other format's files
(the CLI only deletes the folders of stacks that no longer exist). Terraform reads every
configuration file of the folder, so ``terraform init`` then fails on every block defined twice.
The app removes the other format's files after each synth (infra/app.py).

Offline, Terraform is shown only as far as it loads the configuration: ``terraform init``
without a backend and with an empty provider mirror (tests/run.sh allows no registry) stops at
installing the providers, after the configuration loaded, or earlier on duplicate blocks.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from .synth import STACKS, clean_env
from .test_cdktf_cli import cdktf
from tests.terraform_binary import terraform as terraform_binary

FILES = {"--hcl": {"cdk.tf", "metadata.json"}, "json": {"cdk.tf.json"}}


def stack_files(outdir: Path) -> dict[str, set[str]]:
    return {stack: {path.name for path in (outdir / "stacks" / stack).iterdir()} for stack in STACKS}


def terraform_init(stack_dir: Path, work: Path) -> subprocess.CompletedProcess:
    """``terraform init`` that installs nothing: it loads the configuration, then finds no provider."""
    terraform = terraform_binary()
    mirror = work / "empty-provider-mirror"
    mirror.mkdir(exist_ok=True)
    config = work / "terraformrc"
    config.write_text(
        "disable_checkpoint = true\n"
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n'
    )
    return subprocess.run(
        [terraform, "init", "-backend=false", "-input=false", "-no-color"],
        cwd=stack_dir, env=clean_env(TF_CLI_CONFIG_FILE=str(config)),
        capture_output=True, text=True, timeout=120,
    )


def test_hcl_then_json_then_hcl_leaves_one_format_that_terraform_loads(tmp_path):
    outdir = tmp_path / "cdktf.out"
    for synth_format in ("--hcl", "json", "--hcl"):
        flags = [synth_format] if synth_format == "--hcl" else []
        run = cdktf("synth", *flags, outdir=outdir, extra_env={})
        assert run.returncode == 0, run.stdout + run.stderr
        after = f"after `cdktf synth {' '.join(flags)}`"
        assert stack_files(outdir) == {stack: FILES[synth_format] for stack in STACKS}, after
        for stack in STACKS:
            init = terraform_init(outdir / "stacks" / stack, tmp_path)
            output = init.stdout + init.stderr
            assert "Duplicate" not in output, f"{after}, {stack}:\n{output}"
            assert "Initializing provider plugins" in output, f"{after}, {stack}:\n{output}"
