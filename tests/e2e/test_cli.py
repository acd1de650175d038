"""The `local` CLI refuses what it cannot do with one line and the right exit status, and
creates nothing: bad options and parameters exit 2, stacks it cannot express exit 1 naming the
resource."""

from __future__ import annotations

import socket

import pytest

from .deployment import owned
from .synthesis import PASSWORD, edited_copy

WORKSPACE = "cli"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["up", "--port", "0"], "argument --port: '0': a TCP port, 1 to 65535"),
        (["up", "--workspace", "Bad_Name"], "argument --workspace: 'Bad_Name': lower-case letters, digits and '-', at most 40 characters"),
        (["up", "--timeout", "-1"], "argument --timeout: '-1': a positive number of seconds"),
        (["up", "--from", "/nonexistent"], "argument --from: '/nonexistent': not a directory"),
        (["up", "--build", "--no-build"], "argument --no-build: not allowed with argument --build"),
        (["restart"], "argument {up,down,status}: invalid choice: 'restart' (choose from 'up', 'down', 'status')"),
        (["down", "--workspace", WORKSPACE, "--stack", "nosuch"], "--stack nosuch: workspace cli has no such stack (it has: none)"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(local, args, message):
    result = local(*args)
    assert (result.returncode, result.stderr, result.stdout) == (2, f"local: error: {message}\n", "")


def test_an_unknown_stack_is_refused_after_reading_the_app(local, given_outdir):
    result = local("up", "--workspace", WORKSPACE, "--from", str(given_outdir), "--stack", "nosuch")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == "local: error: --stack nosuch: no such stack; the app has cluster-stack, viewer-stack"


def test_a_bad_stack_parameter_is_the_synths_message_and_exit_2(local, engine_client):
    result = local("up", "--workspace", WORKSPACE, IPYTHON_ENGINES="many")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith("local: error: IPYTHON_ENGINES=many: ")
    assert owned(engine_client, workspace=WORKSPACE) == {"containers": [], "volumes": [], "networks": []}


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({}, "local: error: TF_VAR_user_password is unset: viewer-stack declares the variable user_password without a default"),
        ({"TF_VAR_user_password": "short"}, "local: error: TF_VAR_user_password=<hidden: sensitive>: The password must have at least 8 characters."),
    ],
)
def test_the_password_variable_is_read_like_terraform_reads_it(local, given_outdir, variables, message):
    result = local("up", "--workspace", WORKSPACE, "--from", str(given_outdir), **variables)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith(message)


def _add_stateful_set(config):
    config["resource"]["kubernetes_stateful_set_v1"] = {"database": {"metadata": {"name": "db"}, "spec": {}}}


def _remap_controller_port(config):
    [service] = config["resource"]["kubernetes_service_v1"].values()
    service["spec"]["port"][0]["port"] = 80


def _secret_volume(config):
    [deployment] = [d for name, d in config["resource"]["kubernetes_deployment_v1"].items() if "controller" in name]
    deployment["spec"]["template"]["spec"]["volume"].append({"name": "certs", "secret": {"secret_name": "certs"}})


def _data_source(config):
    config.setdefault("data", {})["kubernetes_namespace_v1"] = {"ns": {"metadata": {"name": "x"}}}
    config["output"]["namespace"] = {"value": "${data.kubernetes_namespace_v1.ns.id}"}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_add_stateful_set, "cluster-stack: kubernetes_stateful_set_v1.database: resource type kubernetes_stateful_set_v1 cannot be run locally"),
        (_remap_controller_port, "Service science/ipcluster-plan (cluster-stack: cluster-stack/cluster/controller_service): port 80 -> target port 10100: the local run gives a Service name to its pods but cannot map one port to another"),
        (_secret_volume, "pod ipcluster-plan-controller-0: volume certs of type secret is not supported locally (empty_dir and persistent_volume_claim are)"),
        (_data_source, "cluster-stack: data.kubernetes_namespace_v1.ns: data sources of type kubernetes_namespace_v1 cannot be read locally"),
    ],
)
def test_what_the_local_run_cannot_express_is_an_error_naming_it(local, given_outdir, tmp_path, engine_client, edit, message):
    edited = edited_copy(given_outdir, tmp_path / "edited", "cluster-stack", edit)
    result = local("up", "--workspace", WORKSPACE, "--from", str(edited), TF_VAR_user_password=PASSWORD)
    assert result.returncode == 1, result.stderr
    assert message in result.stderr.splitlines()[-1]
    assert owned(engine_client, workspace=WORKSPACE) == {"containers": [], "volumes": [], "networks": []}


def test_an_engine_that_does_not_answer_is_named(local, given_outdir):
    result = local("up", "--workspace", WORKSPACE, "--from", str(given_outdir), TF_VAR_user_password=PASSWORD,
                   DOCKER_HOST="unix:///nonexistent/docker.sock")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "local: error: no container engine answers at DOCKER_HOST=unix:///nonexistent/docker.sock: no such socket; "
        "start it, or unset DOCKER_HOST to use the default socket"
    )


def test_a_port_in_use_is_refused_before_anything_starts(local, given_outdir, engine_client):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = local("up", "--workspace", WORKSPACE, "--from", str(given_outdir), "--port", str(port),
                       TF_VAR_user_password=PASSWORD)
    assert (result.returncode, result.stderr.splitlines()[-1]) == (2, f"local: error: --port {port}: 127.0.0.1:{port} is in use")
    assert owned(engine_client, workspace=WORKSPACE) == {"containers": [], "volumes": [], "networks": []}
