"""Every invalid construct prop stops at construct time with one line naming prop, value and rule."""

from __future__ import annotations

import pytest
from cdktf import App, TerraformStack
from ipython_k8s import (
    ClusterLink,
    EngineCluster,
    InvalidValue,
    NotebookViewer,
    PodSecurity,
    Resources,
    password_variable,
)
from ipython_k8s.labels import Label


@pytest.fixture
def stack(tmp_path):
    return TerraformStack(App(outdir=str(tmp_path)), "stack")


VIEWER_OK = {"domain": "example.org"}

# (construct, props, message regex)
CASES = [
    ("viewer", {"user_label": "Alice"}, r"^user_label='Alice': a DNS label of 1 to 38 characters"),
    ("viewer", {"user_label": "al_ice"}, r"^user_label='al_ice': a DNS label"),
    ("viewer", {"user_label": "-alice"}, r"^user_label='-alice': a DNS label"),
    ("viewer", {"user_label": "alice-"}, r"^user_label='alice-': a DNS label"),
    ("viewer", {"user_label": ""}, r"^user_label='': a DNS label"),
    ("viewer", {"user_label": "a" * 39}, r"^user_label='a{39}': a DNS label of 1 to 38 characters.*nbviewer-<user>-<cluster>-workspace"),
    ("viewer", {"user_label": "a" * 41, "cluster_label": "abc"}, r"^user_label='a{41}': a DNS label of 1 to 40 characters"),
    ("viewer", {"user_label": 7}, r"^user_label=7: a DNS label"),
    ("viewer", {"cluster_label": "Demo"}, r"^cluster_label='Demo': a DNS label of 1 to 38 characters.* with a generated user label$"),
    ("viewer", {"cluster_label": "a" * 39}, r"^cluster_label='a{39}': a DNS label of 1 to 38"),
    ("viewer", {"cluster_label": "demo", "user_label": "a" * 40}, r"^user_label='a{40}': a DNS label of 1 to 39"),
    ("cluster", {"cluster_label": "a" * 43}, r"^cluster_label='a{43}': a DNS label of 1 to 42 characters.*ipcluster-<cluster>-controller"),
    ("cluster", {"cluster_label": "de_mo"}, r"^cluster_label='de_mo': a DNS label"),
    ("cluster", {"engines": -1}, r"^engines=-1: an integer from 0 to 1000$"),
    ("cluster", {"engines": 2.5}, r"^engines=2\.5: an integer from 0 to 1000$"),
    ("cluster", {"engines": "3"}, r"^engines='3': an integer from 0 to 1000$"),
    ("cluster", {"engines": True}, r"^engines=True: an integer from 0 to 1000$"),
    ("cluster", {"engines": 1001}, r"^engines=1001: an integer"),
    ("cluster", {"notebook_repository": "https://example.org/my repo.git"}, r"^notebook_repository='https://example.org/my repo.git': a git URL"),
    ("cluster", {"notebook_repository": "ftp://example.org/repo.git"}, r"^notebook_repository='ftp://example.org/repo.git': a git URL with https://"),
    ("viewer", {"notebook_repository": "example.org/repo.git"}, r"^notebook_repository='example.org/repo.git': a git URL"),
    ("viewer", {"notebook_repository": "https://example.org/r.git#"}, r"^notebook_repository='https://example.org/r.git#': a git URL"),
    ("viewer", {"password": "short"}, r"^password=<hidden, 5 characters>: a password of at least 8 characters$"),
    ("viewer", {"password": "long-enough-but-literal"}, r"^password=<hidden, 23 characters>: a Terraform token such as password_variable"),
    ("viewer", {"password_length": 8}, r"^password_length=8: an integer from 16 to 128$"),
    ("viewer", {"workspace_size": "1GB"}, r"^workspace_size='1GB': a positive Kubernetes quantity"),
    ("viewer", {"workspace_size": "0Gi"}, r"^workspace_size='0Gi': a positive Kubernetes quantity"),
    ("viewer", {"workspace_size": "lots"}, r"^workspace_size='lots': a positive Kubernetes quantity"),
    ("viewer", {"port": 0}, r"^port=0: an integer from 1 to 65535$"),
    ("viewer", {"port": 70000}, r"^port=70000: an integer from 1 to 65535$"),
    ("viewer", {"port": "8888"}, r"^port='8888': an integer from 1 to 65535$"),
    ("viewer", {"image": ""}, r"^image='': a container image reference"),
    ("cluster", {"image": "my image"}, r"^image='my image': a container image reference"),
    ("cluster", {"image_pull_policy": "Sometimes"}, r"^image_pull_policy='Sometimes': one of IfNotPresent, Always, Never$"),
    ("viewer", {"image_pull_policy": ""}, r"^image_pull_policy='': one of IfNotPresent, Always, Never$"),
    ("viewer", {"domain": "Example.org"}, r"^domain='Example.org': a DNS name"),
    ("viewer", {"domain": "a" * 64 + ".org"}, r"^domain='a{64}\.org': a DNS name"),
    ("viewer", {"namespace": "Science"}, r"^namespace='Science': a DNS label of 1 to 63"),
    ("cluster", {"namespace": "a" * 64}, r"^namespace='a{64}': a DNS label"),
    ("viewer", {"cull_idle_seconds": -5}, r"^cull_idle_seconds=-5: an integer from 0 to 31536000$"),
    ("cluster", {"cluster_encryption": "tls"}, r"^cluster_encryption='tls': one of curve, none$"),
    ("cluster", {"cluster_encryption": None}, r"^cluster_encryption=None: one of curve, none$"),
    ("viewer", {"cluster_label": "demo", "cluster_encryption": "CURVE"}, r"^cluster_encryption='CURVE': one of curve, none$"),
    ("viewer", {"cluster_encryption": "none"}, r"^cluster_encryption='none': None for a viewer without a cluster"),
    ("cluster", {"repository_required": "yes", "notebook_repository": "https://example.org/n.git"}, r"^repository_required='yes': True or False$"),
    ("viewer", {"repository_required": True}, r"^repository_required=True: False unless notebook_repository is given"),
    ("cluster", {"repository_required": True}, r"^repository_required=True: False unless notebook_repository is given"),
    ("viewer", {"cluster_key_secret": "my-key"}, r"^cluster_key_secret='my-key': None unless cluster_label is given$"),
    ("viewer", {"cluster_label": "demo", "cluster_key_secret": "My_Key"}, r"^cluster_key_secret='My_Key': a DNS name"),
    ("viewer", {"ingress_class": "Nginx"}, r"^ingress_class='Nginx': a DNS name"),
    ("viewer", {"ingress_annotations": {"a": 1}}, r"^ingress_annotations=\{'a': 1\}: a dict of non-empty string keys"),
    ("viewer", {"network_policy": "yes"}, r"^network_policy='yes': True or False$"),
    ("cluster", {"key_length": 16}, r"^key_length=16: an integer from 32 to 256$"),
    ("cluster", {"security": "restricted"}, r"^security='restricted': a PodSecurity$"),
    ("viewer", {"resources": {"cpu": "1"}}, r"^resources=\{'cpu': '1'\}: a Resources$"),
    ("cluster", {"output_prefix": "1cluster"}, r"^output_prefix='1cluster': a Terraform name"),
    ("viewer", {"cluster": "demo"}, r"^cluster='demo': an EngineCluster, a ClusterLink or None$"),
    ("viewer", {"cluster": ClusterLink(Label("demo", 4, False), namespace="other")}, r"^cluster='other': a cluster in the viewer's namespace 'ipython'"),
    ("viewer", {"cluster": ClusterLink(Label("c" * 40, 40, False))}, r"^cluster='c{40}': a cluster label of at most 38 characters"),
]


@pytest.mark.parametrize(
    "construct, props, message", CASES, ids=[f"{c}-{'-'.join(p)}-{i}" for i, (c, p, _) in enumerate(CASES)]
)
def test_invalid_prop_raises_one_line_error(stack, construct, props, message):
    with pytest.raises(InvalidValue, match=message) as caught:
        if construct == "viewer":
            NotebookViewer(stack, "viewer", **{**VIEWER_OK, **props})
        else:
            EngineCluster(stack, "cluster", **props)
    assert "\n" not in str(caught.value)
    # Nothing half-created: the failed construct never joined the tree.
    assert stack.node.try_find_child(construct) is None


def test_viewer_and_cluster_label_together_are_refused(stack):
    cluster = EngineCluster(stack, "cluster", cluster_label="demo")
    with pytest.raises(InvalidValue, match=r"^cluster_label='demo': None when cluster is given"):
        NotebookViewer(stack, "viewer", domain="example.org", cluster=cluster, cluster_label="demo")


def test_viewer_encryption_must_match_its_cluster_object(stack):
    cluster = EngineCluster(stack, "cluster", cluster_label="demo", cluster_encryption="none")
    with pytest.raises(InvalidValue, match=r"^cluster_encryption='curve': None or the linked cluster's own 'none'"):
        NotebookViewer(stack, "viewer", domain="example.org", cluster=cluster, cluster_encryption="curve")
    assert stack.node.try_find_child("viewer") is None


def test_cluster_in_another_namespace_is_refused(stack):
    cluster = EngineCluster(stack, "cluster", cluster_label="demo", namespace="science")
    with pytest.raises(InvalidValue, match=r"^cluster='science': a cluster in the viewer's namespace 'ipython'"):
        NotebookViewer(stack, "viewer", domain="example.org", cluster=cluster)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Resources("100m", "1Gb", "1", "1Gi"), r"^resources\.memory_request='1Gb': a positive Kubernetes quantity"),
        (lambda: PodSecurity(run_as_user=0), r"^security\.run_as_user=0: a non-zero uid while run_as_non_root is True$"),
        (lambda: PodSecurity(run_as_user=-1), r"^security\.run_as_user=-1: an integer"),
        (lambda: PodSecurity(seccomp_profile="Localhost"), r"^security\.seccomp_profile='Localhost': one of RuntimeDefault, Unconfined$"),
        (lambda: PodSecurity(drop_capabilities=["ALL"]), r"^security\.drop_capabilities=\['ALL'\]: a tuple"),
    ],
)
def test_invalid_settings_objects(make, message):
    with pytest.raises(InvalidValue, match=message):
        make()


def test_password_variable_checks_a_value_given_at_synth(stack):
    with pytest.raises(InvalidValue, match=r"^user_password=<hidden, 3 characters>: a password of at least 8"):
        password_variable(stack, check_value="abc")
    with pytest.raises(InvalidValue, match=r"^id='user password': a Terraform name"):
        password_variable(stack, "user password")
