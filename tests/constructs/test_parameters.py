"""The stacks' parameters through the real program: `python infra/main.py` with an environment.

A bad value: exit status 2, one line `error: NAME=value: allowed` on stderr, and no cdktf.out.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from infra.parameters import (
    BOOLEAN,
    BOOLEAN_ALLOWED,
    INTEGER,
    PARAMETERS,
    ParameterError,
    Settings,
    read_settings,
)
from ipython_k8s import EngineClusterProps, EngineGroup, NotebookViewerProps, Placement, Toleration

from .synth import REPO, clean_env

MAIN = REPO / "infra" / "main.py"

# (environment, regex of the one stderr line)
BAD = [
    ({"IPYTHON_USER_LABEL": "Alice"}, r"IPYTHON_USER_LABEL=Alice: a DNS label of 1 to 38 characters"),
    ({"IPYTHON_USER_LABEL": "al_ice"}, r"IPYTHON_USER_LABEL=al_ice: a DNS label"),
    ({"IPYTHON_USER_LABEL": "-alice"}, r"IPYTHON_USER_LABEL=-alice: a DNS label"),
    ({"IPYTHON_USER_LABEL": "alice-"}, r"IPYTHON_USER_LABEL=alice-: a DNS label"),
    ({"IPYTHON_USER_LABEL": ""}, r"IPYTHON_USER_LABEL=: a DNS label"),
    ({"IPYTHON_USER_LABEL": "a\nb"}, r"IPYTHON_USER_LABEL='a\\nb': a DNS label"),
    ({"IPYTHON_USER_LABEL": "a" * 39}, r"IPYTHON_USER_LABEL=a{39}: a DNS label of 1 to 38 characters.*next to a 5-character cluster label$"),
    ({"IPYTHON_USER_LABEL": "a" * 40, "IPYTHON_CLUSTER_LABEL": "demo"}, r"IPYTHON_USER_LABEL=a{40}: a DNS label of 1 to 39 characters"),
    ({"IPYTHON_CLUSTER_LABEL": "Demo"}, r"IPYTHON_CLUSTER_LABEL=Demo: a DNS label of 1 to 42 characters.*'ipcluster-<cluster>-controller'"),
    ({"IPYTHON_CLUSTER_LABEL": "a" * 43}, r"IPYTHON_CLUSTER_LABEL=a{43}: a DNS label of 1 to 42"),
    ({"IPYTHON_CLUSTER_LABEL": "a" * 40}, r"IPYTHON_CLUSTER_LABEL=a{40}: a DNS label of 1 to 38 characters.*with a generated user label$"),
    ({"IPYTHON_ENGINES": "-1"}, r"IPYTHON_ENGINES=-1: an integer from 0 to 1000$"),
    ({"IPYTHON_ENGINES": "two"}, r"IPYTHON_ENGINES=two: an integer from 0 to 1000$"),
    ({"IPYTHON_ENGINES": "1.5"}, r"IPYTHON_ENGINES=1\.5: an integer from 0 to 1000$"),
    ({"IPYTHON_ENGINES": ""}, r"IPYTHON_ENGINES=: an integer from 0 to 1000$"),
    ({"IPYTHON_ENGINES": "5000"}, r"IPYTHON_ENGINES=5000: an integer from 0 to 1000$"),
    ({"IPYTHON_NOTEBOOK_REPOSITORY": "https://example.org/my repo.git"}, r"IPYTHON_NOTEBOOK_REPOSITORY=https://example\.org/my repo\.git: a git URL with https://"),
    ({"IPYTHON_NOTEBOOK_REPOSITORY": "ftp://example.org/repo.git"}, r"IPYTHON_NOTEBOOK_REPOSITORY=ftp://example\.org/repo\.git: a git URL"),
    ({"IPYTHON_USER_PASSWORD": "short"}, r"IPYTHON_USER_PASSWORD=<hidden, 5 characters>: a password of at least 8 characters$"),
    ({"IPYTHON_USER_PASSWORD": "long-enough-1", "TF_VAR_user_password": "long-enough-2"}, r"TF_VAR_user_password=<hidden, 13 characters>: the same value as IPYTHON_USER_PASSWORD"),
    ({"TF_VAR_user_password": "abc"}, r"TF_VAR_user_password=<hidden, 3 characters>: a password of at least 8 characters$"),
    ({"IPYTHON_IMAGE": ""}, r"IPYTHON_IMAGE=: a container image reference"),
    ({"IPYTHON_DOMAIN": "Example.org"}, r"IPYTHON_DOMAIN=Example\.org: a DNS name"),
    ({"IPYTHON_NAMESPACE": "kube_system"}, r"IPYTHON_NAMESPACE=kube_system: a DNS label of 1 to 63"),
    ({"IPYTHON_WORKSPACE_SIZE": "10GB"}, r"IPYTHON_WORKSPACE_SIZE=10GB: a positive Kubernetes quantity"),
    ({"IPYTHON_CULL_IDLE_SECONDS": "-1"}, r"IPYTHON_CULL_IDLE_SECONDS=-1: an integer from 0 to 31536000$"),
    ({"IPYTHON_NETWORK_POLICIES": "maybe"}, r"IPYTHON_NETWORK_POLICIES=maybe: true or false$"),
    ({"IPYTHON_CLUSTER_ENCRYPTION": "tls"}, r"IPYTHON_CLUSTER_ENCRYPTION=tls: one of curve, none$"),
    ({"IPYTHON_CLUSTER_ENCRYPTION": ""}, r"IPYTHON_CLUSTER_ENCRYPTION=: one of curve, none$"),
    ({"IPYTHON_REPOSITORY_REQUIRED": "true"}, r"IPYTHON_REPOSITORY_REQUIRED=true: False unless IPYTHON_NOTEBOOK_REPOSITORY is given"),
    ({"IPYTHON_REPOSITORY_REQUIRED": "maybe", "IPYTHON_NOTEBOOK_REPOSITORY": "https://example.org/n.git"}, r"IPYTHON_REPOSITORY_REQUIRED=maybe: true or false$"),
    ({"IPYTHON_REPOSITORY_REQUIRED": "yes", "IPYTHON_NOTEBOOK_REPOSITORY": "https://example.org/n.git"}, r"IPYTHON_REPOSITORY_REQUIRED=yes: true or false$"),
    ({"IPYTHON_NETWORK_POLICIES": "1"}, r"IPYTHON_NETWORK_POLICIES=1: true or false$"),
    ({"IPYTHON_MAX_MESSAGE_MIB": "0"}, r"IPYTHON_MAX_MESSAGE_MIB=0: an integer from 1 to 4096$"),
    ({"IPYTHON_MAX_MESSAGE_MIB": "64MiB"}, r"IPYTHON_MAX_MESSAGE_MIB=64MiB: an integer from 1 to 4096$"),
    ({"IPYTHON_TLS_SECRET": "My_Secret"}, r"IPYTHON_TLS_SECRET=My_Secret: a DNS name"),
    ({"IPYTHON_ENGNES": "3"}, r"IPYTHON_ENGNES=3: not a parameter of the stacks; did you mean IPYTHON_ENGINES\?$"),
    ({"IPYTHON_PASSWORD": "s3cret-value"}, r"IPYTHON_PASSWORD=<hidden, 12 characters>: not a parameter of the stacks; did you mean IPYTHON_USER_PASSWORD\?$"),
    ({"IPYTHON_FROBNICATE": "1"}, r"IPYTHON_FROBNICATE=1: not a parameter of the stacks; see docs/deploying\.md, section Parameters"),
    ({"KUBE_CONTEXT": ""}, r"KUBE_CONTEXT=: a kubeconfig context name"),
    ({"IPYTHON_ENGINE_GROUPS": "gpu"}, r"IPYTHON_ENGINE_GROUPS=gpu: comma-separated engine groups <name>:<engines>\[:<GPUs per engine>\]"),
    ({"IPYTHON_ENGINE_GROUPS": "gpu:two"}, r"IPYTHON_ENGINE_GROUPS=gpu:two: comma-separated engine groups"),
    ({"IPYTHON_ENGINE_GROUPS": "gpu:1:1:1"}, r"IPYTHON_ENGINE_GROUPS=gpu:1:1:1: comma-separated engine groups"),
    ({"IPYTHON_ENGINE_GROUPS": "gpu:1001"}, r"IPYTHON_ENGINE_GROUPS=gpu:1001: in 'gpu:1001', engines: an integer from 0 to 1000$"),
    ({"IPYTHON_ENGINE_GPUS": "-1"}, r"IPYTHON_ENGINE_GPUS=-1: an integer from 0 to 16$"),
    ({"IPYTHON_ENGINE_NODE_SELECTOR": "pool=gpu,,zone=a"}, r"IPYTHON_ENGINE_NODE_SELECTOR=pool=gpu,,zone=a: comma-separated node labels key=value"),
    ({"IPYTHON_ENGINE_NODE_SELECTOR": "pool=a,pool=b"}, r"IPYTHON_ENGINE_NODE_SELECTOR=pool=a,pool=b: .*\(each key once\)$"),
    ({"IPYTHON_ENGINE_TOLERATIONS": "=x"}, r"IPYTHON_ENGINE_TOLERATIONS==x: comma-separated taints to tolerate"),
    ({"IPYTHON_IMAGE_PULL_SECRET": ""}, r"IPYTHON_IMAGE_PULL_SECRET=: a DNS name"),
    ({"IPYTHON_SHARED_STORAGE": ""}, r"IPYTHON_SHARED_STORAGE=: a positive Kubernetes quantity"),
    ({"IPYTHON_SHARED_STORAGE": "1Gi", "IPYTHON_SHARED_STORAGE_CLASS": "Fast NFS"}, r"IPYTHON_SHARED_STORAGE_CLASS=Fast NFS: a DNS name"),
    ({"IPYTHON_INGRESS_BODY_SIZE": "64MB"}, r"IPYTHON_INGRESS_BODY_SIZE=64MB: a size in nginx's syntax"),
    ({"IPYTHON_REPOSITORY_UPDATE": "PULL"}, r"IPYTHON_REPOSITORY_UPDATE=PULL: one of pull, never$"),
    ({"IPYTHON_TRUSTED_PROXIES": "ingress-nginx"}, r"IPYTHON_TRUSTED_PROXIES=ingress-nginx: in 'ingress-nginx': an IP address or CIDR network"),
    ({"IPYTHON_TRUSTED_PROXIES": "10.0.0.0/8,,fd00::/8"}, r"IPYTHON_TRUSTED_PROXIES=10\.0\.0\.0/8,,fd00::/8: comma-separated IP addresses or CIDR networks"),
    ({"IPYTHON_TRUSTED_PROXIES": ""}, r"IPYTHON_TRUSTED_PROXIES=: comma-separated IP addresses or CIDR networks"),
    ({"IPYTHON_TRUSTED_PROXIES": "0.0.0.0/0"}, r"IPYTHON_TRUSTED_PROXIES=0\.0\.0\.0/0: in '0\.0\.0\.0/0': .*not 0\.0\.0\.0/0 or ::/0"),
]


def run_main(env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(MAIN)], cwd=cwd, env=clean_env(**env), capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("env, message", BAD, ids=[f"{i}-{next(iter(e))}" for i, (e, _) in enumerate(BAD)])
def test_bad_parameter_stops_before_anything_is_written(tmp_path, env, message):
    result = run_main(env, tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert re.match(r"^error: " + message, lines[0]), lines[0]
    assert list(tmp_path.iterdir()) == []  # no cdktf.out, nothing else
    for name, value in env.items():
        if "PASSWORD" in name.upper():
            assert value not in result.stderr


def test_good_parameters_synthesize_both_stacks_and_hint_at_the_password_variable(tmp_path):
    result = run_main({"IPYTHON_USER_PASSWORD": "a-chosen-password", "IPYTHON_ENGINES": "0"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "note: IPYTHON_USER_PASSWORD is not written into cdktf.out; before `cdktf deploy` run: "
        'export TF_VAR_user_password="$IPYTHON_USER_PASSWORD"'
    ]
    stacks = sorted(p.name for p in (tmp_path / "cdktf.out" / "stacks").iterdir())
    assert stacks == ["cluster-stack", "viewer-stack"]
    for path in (tmp_path / "cdktf.out").rglob("*"):
        if path.is_file():
            assert "a-chosen-password" not in path.read_text()


@pytest.mark.parametrize(
    "env, field, expected",
    [
        ({}, "cluster.engines", 2),
        ({"IPYTHON_ENGINES": "0"}, "cluster.engines", 0),
        ({"IPYTHON_NETWORK_POLICIES": "False"}, "cluster.network_policies", False),
        ({"IPYTHON_NETWORK_POLICIES": "FALSE"}, "viewer.network_policy", False),
        ({"IPYTHON_REPOSITORY_REQUIRED": "True", "IPYTHON_NOTEBOOK_REPOSITORY": "https://example.org/n.git"},
         "viewer.repository_required", True),
        ({}, "cluster.max_message_mib", 64),
        ({"IPYTHON_MAX_MESSAGE_MIB": "128"}, "cluster.max_message_mib", 128),
        ({"KUBECONFIG": "/a/config:/b/config"}, "kube_config_paths", ("/a/config", "/b/config")),
        ({"KUBECONFIG": ""}, "kube_config_paths", ("~/.kube/config",)),
        ({"IPYTHON_USER_PASSWORD": "12345678"}, "password_chosen", True),
        ({"TF_VAR_user_password": "12345678"}, "password_chosen", True),
        ({}, "password_chosen", False),
        ({}, "viewer.domain", "localhost"),
        ({"IPYTHON_USER_LABEL": "a" * 38}, "viewer.user_label", "a" * 38),
        ({"IPYTHON_USER_LABEL": "a" * 39, "IPYTHON_CLUSTER_LABEL": "abcd"}, "viewer.user_label", "a" * 39),
        ({"IPYTHON_CLUSTER_LABEL": "a" * 38}, "cluster_label", "a" * 38),
        ({"IPYTHON_NOTEBOOK_REPOSITORY": "git@github.com:ipython/ipyparallel.git#9.0.0"}, "notebook_repository",
         "git@github.com:ipython/ipyparallel.git#9.0.0"),
        ({"IPYTHON_ENGINE_GROUPS": "gpu:2:1, cpu:8"}, "cluster.engine_groups",
         (EngineGroup(name="gpu", engines=2, placement=Placement(gpus=1)), EngineGroup(name="cpu", engines=8))),
        ({"IPYTHON_ENGINE_GROUPS": "gpu:2", "IPYTHON_IMAGE_PULL_SECRET": "r"}, "cluster.engine_groups",
         (EngineGroup(name="gpu", engines=2, placement=Placement(image_pull_secrets=("r",))),)),
        ({}, "cluster.engine_groups", ()),
        ({"IPYTHON_ENGINE_GPUS": "2"}, "cluster.engine_placement", Placement(gpus=2)),
        ({"IPYTHON_ENGINE_NODE_SELECTOR": "a=b,example.com/c="}, "cluster.engine_placement.node_selector",
         {"a": "b", "example.com/c": ""}),
        ({"IPYTHON_ENGINE_TOLERATIONS": "spot,dedicated=science:NoExecute"}, "cluster.engine_placement.tolerations",
         (Toleration(key="spot"), Toleration(key="dedicated", value="science", effect="NoExecute"))),
        ({"IPYTHON_IMAGE_PULL_SECRET": "r"}, "viewer.placement", Placement(image_pull_secrets=("r",))),
        ({"IPYTHON_IMAGE_PULL_SECRET": "r"}, "cluster.controller_placement", Placement(image_pull_secrets=("r",))),
        ({}, "cluster.engine_placement", Placement()),
        ({"IPYTHON_SHARED_STORAGE": "5Gi"}, "cluster.shared_storage_size", "5Gi"),
        ({}, "cluster.shared_storage_size", None),
        ({}, "viewer.ingress_body_size", "64m"),
        ({"IPYTHON_INGRESS_BODY_SIZE": "0"}, "viewer.ingress_body_size", "0"),
        ({}, "viewer.repository_update", "pull"),
        ({"IPYTHON_REPOSITORY_UPDATE": "never", "IPYTHON_NOTEBOOK_REPOSITORY": "https://example.org/n.git"},
         "cluster.repository_update", "never"),
        ({}, "viewer.trusted_proxies", ()),
        ({"IPYTHON_TRUSTED_PROXIES": "10.244.0.0/16, fd00::/8,192.0.2.7"}, "viewer.trusted_proxies",
         ("10.244.0.0/16", "fd00::/8", "192.0.2.7")),
    ],
)
def test_good_values_parse(env, field, expected):
    value: object = read_settings(env)
    for part in field.split("."):
        value = getattr(value, part)
    assert value == expected


def test_reading_builds_the_props():
    settings: Settings = read_settings({"IPYTHON_ENGINES": "3", "IPYTHON_DOMAIN": "example.org"})
    assert settings.cluster == EngineClusterProps(engines=3)
    assert settings.viewer == NotebookViewerProps(domain="example.org")


def test_other_environment_variables_are_ignored():
    # Only IPYTHON_* names are ours; IPYTHONDIR (IPython's own) and the rest are left alone.
    assert read_settings({"IPYTHONDIR": "/tmp/x", "HOME": "/root"}).cluster.engines == 2


# -- rows generated from the table: every parameter's bad values, derived from its parse type and
#    its prop's rule, are refused in one line naming the variable and the raw value -----------------

def _context(parameter, value: str) -> dict[str, str]:
    """What a bad value needs beside it to reach its rule."""
    if parameter.name == "IPYTHON_REPOSITORY_REQUIRED":
        return {"IPYTHON_NOTEBOOK_REPOSITORY": "https://example.org/n.git"}
    return {}


TABLE_ROWS = [(p, value) for p in PARAMETERS for value in p.bad_values]


def test_every_parameter_has_a_bad_value():
    assert {p.name for p, _ in TABLE_ROWS} == {p.name for p in PARAMETERS}


@pytest.mark.parametrize("parameter, value", TABLE_ROWS,
                         ids=[f"{p.name}={v!r}" for p, v in TABLE_ROWS])
def test_table_bad_values_are_refused_naming_the_variable(parameter, value):
    with pytest.raises(ParameterError) as caught:
        read_settings({parameter.name: value, **_context(parameter, value)})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{parameter.name}="), message
    if "PASSWORD" in parameter.name.upper():
        assert message.startswith(f"{parameter.name}=<hidden, {len(value)} characters>: ")
    elif "REPOSITORY" not in parameter.name:
        assert message.startswith(f"{parameter.name}={value}: "), message
    if parameter.parse is INTEGER:
        assert re.search(r": an integer from -?\d+ to \d+$", message), message
    if parameter.parse is BOOLEAN:
        assert message.endswith(f": {BOOLEAN_ALLOWED}"), message


def test_booleans_are_the_images():
    # image/ipython_roles/settings.py _boolean: true or false, any case, and nothing else
    for value in ("true", "TRUE", "True", "false", "False"):
        assert read_settings({"IPYTHON_NETWORK_POLICIES": value}).cluster.network_policies is (value.lower() == "true")
    for value in ("yes", "no", "1", "0", "on"):
        with pytest.raises(ParameterError, match=f"^IPYTHON_NETWORK_POLICIES={value}: true or false$"):
            read_settings({"IPYTHON_NETWORK_POLICIES": value})
