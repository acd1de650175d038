"""The viewer's trusted proxies (issue 14, login throttled per client behind the Ingress): the prop
``trusted_proxies`` becomes IPYTHON_TRUSTED_PROXIES of the viewer's container only, and only when
given (so the golden files are unchanged); a bad item is refused in one line before any child."""

from __future__ import annotations

import pytest
from ipython_k8s import EngineCluster, InvalidValue, NotebookViewer, NotebookViewerProps

from .synth import env_of, resources, synth_stack

VARIABLE = "IPYTHON_TRUSTED_PROXIES"


def _envs(stack) -> dict[str, dict]:
    return {d["metadata"]["name"]: env_of(d) for d in resources(stack, "kubernetes_deployment_v1")}


def test_not_set_by_default():
    assert NotebookViewerProps(domain="example.org").trusted_proxies == ()


@pytest.mark.parametrize("proxies, value", [
    ((), None),
    (("10.0.0.0/8",), "10.0.0.0/8"),
    (["10.244.0.0/16", "192.0.2.7", "fd00::/8"], "10.244.0.0/16,192.0.2.7,fd00::/8"),  # a list is kept as a tuple
])
def test_the_viewer_container_gets_the_variable_only_when_given(tmp_path, proxies, value):
    stack = synth_stack(tmp_path, lambda s: NotebookViewer(
        s, "v", domain="example.org", user_label="u", trusted_proxies=proxies,
        cluster=EngineCluster(s, "c", cluster_label="demo", engines=1)))
    envs = _envs(stack)
    assert envs["nbviewer-u-demo"].get(VARIABLE) == value
    for name, env in envs.items():
        if name != "nbviewer-u-demo":
            assert VARIABLE not in env, name  # the controller and the engines have no login


@pytest.mark.parametrize("proxies, shown", [
    (("ingress-nginx",), "'ingress-nginx'"),
    (("10.0.0.1/8",), "'10.0.0.1/8'"),
    (("10.0.0.0/8", "10.0.0.0/33"), "'10.0.0.0/33'"),
    (("",), "''"),
    ((" 10.0.0.0/8",), "' 10.0.0.0/8'"),
    (("10.0.0.0/8,fd00::/8",), "'10.0.0.0/8,fd00::/8'"),
    (("0.0.0.0/0",), "'0.0.0.0/0'"),
    (("::/0",), "'::/0'"),
    ((10,), "10"),
])
def test_bad_items_are_refused_in_one_line(proxies, shown):
    with pytest.raises(InvalidValue) as caught:
        NotebookViewerProps(domain="example.org", trusted_proxies=proxies)
    message = str(caught.value)
    assert message.startswith(f"trusted_proxies={shown}: an IP address or CIDR network"), message
    assert "\n" not in message


@pytest.mark.parametrize("proxies", ["10.0.0.0/8", None, {"10.0.0.0/8"}])
def test_not_a_tuple_is_refused(proxies):
    with pytest.raises(InvalidValue, match=r"^trusted_proxies=.*: a tuple of IP addresses or CIDR networks"):
        NotebookViewerProps(domain="example.org", trusted_proxies=proxies)  # type: ignore[arg-type]
