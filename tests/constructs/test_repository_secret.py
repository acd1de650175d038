"""A repository URL with credentials reaches the pods only by Secret reference and is never
written into cdktf.out (issue 14); one without credentials stays a plain env value (the golden
files hold that case).
"""

from __future__ import annotations

import json

import cdktf
import pytest
from cdktf import App, TerraformStack
from ipython_k8s import EngineCluster, InvalidValue, NotebookViewer, repository_variable

from infra.parameters import REPOSITORY_TF_VAR, ParameterError, read_settings

from .synth import env_of, named, resources, synth_in_process
from .test_cdktf_cli import cdktf as cdktf_cli

TOKEN = "ghp_0123456789abcdefREPOSECRET"
URL = f"https://{TOKEN}@git.example.org/team/notebooks.git#main"
PLAIN = "https://git.example.org/team/notebooks.git#main"


def synthesized(build) -> dict:
    app = App()
    stack = TerraformStack(app, "stack")
    build(stack)
    return json.loads(cdktf.Testing.synth(stack))


def both(stack, repository) -> None:
    cluster = EngineCluster(stack, "cluster", cluster_label="demo", notebook_repository=repository)
    NotebookViewer(stack, "viewer", domain="example.org", user_label="alice", cluster=cluster,
                   notebook_repository=repository)


def repo_secrets(stack: dict) -> dict[str, dict]:
    return {r["metadata"]["name"]: r for r in resources(stack, "kubernetes_secret_v1")
            if r["metadata"]["name"].endswith("-repo")}


def test_a_url_without_credentials_stays_a_plain_value_and_makes_no_secret():
    stack = synthesized(lambda s: both(s, PLAIN))
    assert repo_secrets(stack) == {}
    assert env_of(named(stack, "kubernetes_deployment_v1", "nbviewer-alice-demo"))["IPYTHON_NOTEBOOK_REPOSITORY"] == PLAIN
    assert env_of(named(stack, "kubernetes_deployment_v1", "ipcluster-demo-engine"))["IPYTHON_NOTEBOOK_REPOSITORY"] == PLAIN
    assert "variable" not in stack


def test_a_variable_becomes_a_secret_and_a_secret_reference():
    def build(s):
        both(s, repository_variable(s).string_value)

    stack = synthesized(build)
    variable = stack["variable"]["notebook_repository"]
    assert (variable["sensitive"], variable["nullable"], variable["type"]) == (True, False, "string")
    assert variable["validation"][0]["condition"] == (
        "${length(var.notebook_repository) > 0 && length(var.notebook_repository) <= 2048}"
    )
    secrets = repo_secrets(stack)
    assert sorted(secrets) == ["ipcluster-demo-repo", "nbviewer-alice-demo-repo"]
    for secret in secrets.values():
        assert secret["data"] == {"url": "${var.notebook_repository}"}
        assert secret["type"] == "Opaque"
    assert secrets["nbviewer-alice-demo-repo"]["metadata"]["labels"]["app.kubernetes.io/component"] == "viewer"
    viewer = env_of(named(stack, "kubernetes_deployment_v1", "nbviewer-alice-demo"))
    engines = env_of(named(stack, "kubernetes_deployment_v1", "ipcluster-demo-engine"))
    controller = env_of(named(stack, "kubernetes_deployment_v1", "ipcluster-demo-controller"))
    assert viewer["IPYTHON_NOTEBOOK_REPOSITORY"] == ("secret", "nbviewer-alice-demo-repo", "url")
    assert engines["IPYTHON_NOTEBOOK_REPOSITORY"] == ("secret", "ipcluster-demo-repo", "url")
    assert "IPYTHON_NOTEBOOK_REPOSITORY" not in controller


@pytest.mark.parametrize("construct", ["viewer", "cluster"])
@pytest.mark.parametrize(
    "value",
    [URL, f"https://alice:{TOKEN}@h/n.git", f"https://alice:p@ss{TOKEN}@h/n.git", f"http://{TOKEN}%21@h/n.git"],
    ids=["token", "password", "password with @", "percent-encoded"],
)
def test_a_literal_url_with_credentials_is_refused_without_showing_them(construct, value):
    app = App()
    stack = TerraformStack(app, "stack")
    with pytest.raises(InvalidValue) as caught:
        if construct == "viewer":
            NotebookViewer(stack, "viewer", domain="example.org", notebook_repository=value)
        else:
            EngineCluster(stack, "cluster", notebook_repository=value)
    message = str(caught.value)
    assert message.startswith("notebook_repository='http")
    assert "<hidden>@" in message and "a Terraform token such as repository_variable(stack).string_value" in message
    assert TOKEN not in message + repr(caught.value.value)
    assert stack.node.children == []


def test_the_variable_checks_a_value_it_is_given_and_forgets_it():
    app = App()
    stack = TerraformStack(app, "stack")
    with pytest.raises(InvalidValue, match=r"^notebook_repository='ssh://-oProxyCommand=x/y': a git URL whose host"):
        repository_variable(stack, check_value="ssh://-oProxyCommand=x/y")
    repository_variable(stack, check_value=URL)
    assert TOKEN not in cdktf.Testing.synth(stack)


# -- the stacks ------------------------------------------------------------------------------------

def test_parameters_keep_a_url_with_credentials_out_of_the_settings():
    settings = read_settings({"IPYTHON_NOTEBOOK_REPOSITORY": URL})
    assert (settings.notebook_repository, settings.repository_variable) == (None, True)
    assert settings.notes == (
        "note: IPYTHON_NOTEBOOK_REPOSITORY carries credentials and is not written into cdktf.out; before "
        f'`cdktf deploy` run: export {REPOSITORY_TF_VAR}="$IPYTHON_NOTEBOOK_REPOSITORY"',
    )
    assert TOKEN not in repr(settings)
    both_given = read_settings({"IPYTHON_NOTEBOOK_REPOSITORY": URL, REPOSITORY_TF_VAR: URL})
    assert (both_given.notebook_repository, both_given.repository_variable, both_given.notes) == (None, True, ())
    only_tf_var = read_settings({REPOSITORY_TF_VAR: URL, "IPYTHON_REPOSITORY_REQUIRED": "true"})
    assert (only_tf_var.repository_variable, only_tf_var.repository_required) == (True, True)
    plain = read_settings({"IPYTHON_NOTEBOOK_REPOSITORY": PLAIN})
    assert (plain.notebook_repository, plain.repository_variable) == (PLAIN, False)


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"IPYTHON_NOTEBOOK_REPOSITORY": URL, REPOSITORY_TF_VAR: URL.replace("main", "v2")},
         f"{REPOSITORY_TF_VAR}=https://<hidden>@git.example.org/team/notebooks.git#v2: the same value as "
         "IPYTHON_NOTEBOOK_REPOSITORY (Terraform reads this one), or unset"),
        ({REPOSITORY_TF_VAR: f"https://{TOKEN}@h/a b.git"},
         f"{REPOSITORY_TF_VAR}=https://<hidden>@h/a b.git: a git URL with https://"),
        ({"IPYTHON_NOTEBOOK_REPOSITRY": URL},
         "IPYTHON_NOTEBOOK_REPOSITRY=https://<hidden>@git.example.org/team/notebooks.git#main: not a parameter"),
    ],
    ids=["differing values", "bad TF_VAR", "misspelt name"],
)
def test_parameter_errors_hide_the_credentials(env, expected):
    with pytest.raises(ParameterError) as caught:
        read_settings(env)
    assert str(caught.value).startswith(expected)
    assert TOKEN not in str(caught.value)


def test_the_stacks_declare_the_variable_and_write_the_secret_nowhere(tmp_path):
    outdir = tmp_path / "cdktf.out"
    stacks = synth_in_process(
        {"IPYTHON_NOTEBOOK_REPOSITORY": URL, REPOSITORY_TF_VAR: URL, "IPYTHON_CLUSTER_LABEL": "demo",
         "IPYTHON_USER_LABEL": "alice", "IPYTHON_REPOSITORY_REQUIRED": "true"},
        outdir,
    )
    for name in ("cluster-stack", "viewer-stack"):
        assert stacks[name]["variable"]["notebook_repository"]["sensitive"] is True
    viewer = env_of(named(stacks["viewer-stack"], "kubernetes_deployment_v1", "nbviewer-alice-demo"))
    engines = env_of(named(stacks["cluster-stack"], "kubernetes_deployment_v1", "ipcluster-demo-engine"))
    assert viewer["IPYTHON_NOTEBOOK_REPOSITORY"] == ("secret", "nbviewer-alice-demo-repo", "url")
    assert engines["IPYTHON_NOTEBOOK_REPOSITORY"] == ("secret", "ipcluster-demo-repo", "url")
    assert viewer["IPYTHON_REPOSITORY_REQUIRED"] == engines["IPYTHON_REPOSITORY_REQUIRED"] == "true"
    leaks = [str(p) for p in outdir.rglob("*") if p.is_file() and TOKEN in p.read_text(errors="replace")]
    assert leaks == []


def test_cdktf_synth_through_the_cli_writes_the_credentials_nowhere(tmp_path):
    outdir = tmp_path / "cdktf.out"
    run = cdktf_cli("synth", outdir=outdir, extra_env={"IPYTHON_NOTEBOOK_REPOSITORY": URL})
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"export {REPOSITORY_TF_VAR}=" in run.stdout + run.stderr
    for path in outdir.rglob("*"):
        if path.is_file():
            assert TOKEN not in path.read_text(errors="replace"), path
    assert TOKEN not in run.stdout + run.stderr
    assert json.loads((outdir / "stacks" / "viewer-stack" / "cdk.tf.json").read_text())["variable"][
        "notebook_repository"]["sensitive"] is True
