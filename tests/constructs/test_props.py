"""Props are defined once (frozen, validated, documented dataclasses) and taken in both spellings;
a cluster deployed elsewhere is linked one way (``EngineCluster.from_label``), the old ways warn."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import warnings

import pytest
from cdktf import App, TerraformStack
from ipython_k8s import (
    ClusterLink,
    EngineCluster,
    EngineClusterProps,
    IEngineCluster,
    InvalidValue,
    NotebookViewer,
    NotebookViewerProps,
)
from ipython_k8s.labels import Label


def _overload_params(cls: type) -> dict[str, tuple[str, bool]]:
    """name -> (annotation, required) of the keyword overload of ``cls.__init__``, from the source."""
    tree = ast.parse(inspect.getsource(cls))
    inits = [n for n in tree.body[0].body if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
    keyword = next(f for f in inits if f.args.kwonlyargs)
    return {
        arg.arg: (ast.unparse(arg.annotation), default is None)
        for arg, default in zip(keyword.args.kwonlyargs, keyword.args.kw_defaults)
    }


@pytest.mark.parametrize("construct, props", [(EngineCluster, EngineClusterProps),
                                              (NotebookViewer, NotebookViewerProps)])
def test_the_keyword_spelling_mirrors_the_props_exactly(construct, props):
    fields = {f.name: (f.type, f.default is dataclasses.MISSING) for f in dataclasses.fields(props)}
    assert _overload_params(construct) == fields


@pytest.mark.parametrize("props", [EngineClusterProps, NotebookViewerProps])
def test_props_are_frozen_keyword_only_and_documented(props):
    assert props.__dataclass_params__.frozen
    for f in dataclasses.fields(props):
        assert f.kw_only, f.name
        assert len(f.metadata.get("doc", "")) > 10, f.name
    with pytest.raises(TypeError):
        props("positional")


def test_props_validate_at_creation():
    with pytest.raises(InvalidValue, match=r"^engines=-1: an integer from 0 to 1000$"):
        EngineClusterProps(engines=-1)
    with pytest.raises(InvalidValue, match=r"^max_message_mib=0: an integer from 1 to 4096$"):
        EngineClusterProps(max_message_mib=0)
    with pytest.raises(InvalidValue, match=r"^domain='Example.org': a DNS name"):
        NotebookViewerProps(domain="Example.org")
    with pytest.raises(dataclasses.FrozenInstanceError):
        EngineClusterProps().engines = 3  # type: ignore[misc]


def _stack(tmp_path) -> tuple[App, TerraformStack]:
    app = App(outdir=str(tmp_path), skip_validation=True)
    return app, TerraformStack(app, "s")


def _synth(app, tmp_path) -> dict:
    app.synth()
    return json.loads((tmp_path / "stacks" / "s" / "cdk.tf.json").read_text())


def test_both_spellings_synthesize_the_same(tmp_path):
    app, stack = _stack(tmp_path / "a")
    cluster = EngineCluster(stack, "cluster", cluster_label="demo", engines=3)
    NotebookViewer(stack, "alice", domain="example.org", user_label="alice", cluster=cluster)
    keywords = _synth(app, tmp_path / "a")
    app, stack = _stack(tmp_path / "b")
    cluster = EngineCluster(stack, "cluster", EngineClusterProps(cluster_label="demo", engines=3))
    NotebookViewer(stack, "alice", NotebookViewerProps(domain="example.org", user_label="alice", cluster=cluster))
    assert _synth(app, tmp_path / "b") == keywords


def test_props_and_keywords_at_once_is_an_error(tmp_path):
    _, stack = _stack(tmp_path)
    with pytest.raises(InvalidValue, match=r"^props=EngineClusterProps: a EngineClusterProps or keyword props, not both \(also given: engines\)$"):
        EngineCluster(stack, "cluster", EngineClusterProps(), engines=3)  # type: ignore[call-overload]
    with pytest.raises(InvalidValue, match=r"^props=.*: a NotebookViewerProps$"):
        NotebookViewer(stack, "v", EngineClusterProps())  # type: ignore[arg-type]
    assert stack.node.try_find_child("cluster") is None


def test_max_message_mib_reaches_the_controller_only_when_not_the_default(tmp_path):
    app, stack = _stack(tmp_path)
    EngineCluster(stack, "default", cluster_label="one")
    EngineCluster(stack, "big", cluster_label="two", max_message_mib=512)
    deployments = _synth(app, tmp_path)["resource"]["kubernetes_deployment_v1"].values()
    env = {d["metadata"]["name"]: {e["name"]: e.get("value") for e in d["spec"]["template"]["spec"]["container"][0]["env"]}
           for d in deployments}
    assert env["ipcluster-two-controller"]["IPYTHON_MAX_MESSAGE_MIB"] == "512"
    assert "IPYTHON_MAX_MESSAGE_MIB" not in env["ipcluster-two-engine"]
    assert "IPYTHON_MAX_MESSAGE_MIB" not in env["ipcluster-one-controller"]


def _viewer_env(tmp_path, **link) -> dict:
    app, stack = _stack(tmp_path)
    NotebookViewer(stack, "v", domain="example.org", user_label="u", **link)
    deployment = next(iter(_synth(app, tmp_path)["resource"]["kubernetes_deployment_v1"].values()))
    return deployment["spec"]["template"]["spec"]["container"][0]["env"]


def test_from_label_links_like_the_old_spellings_without_warning(tmp_path):
    _, scope = _stack(tmp_path / "x")
    imported = EngineCluster.from_label(scope, "physics", cluster_label="physics", key_secret_name="k")
    assert isinstance(imported, IEngineCluster)
    assert imported.controller_service_name == "ipcluster-physics" and imported.key_secret_name == "k"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app, stack = _stack(tmp_path / "new")
        cluster = EngineCluster.from_label(stack, "cluster", cluster_label="physics", key_secret_name="physics-key")
        NotebookViewer(stack, "v", domain="example.org", user_label="u", cluster=cluster)
        deployment = next(iter(_synth(app, tmp_path / "new")["resource"]["kubernetes_deployment_v1"].values()))
    new = deployment["spec"]["template"]["spec"]["container"][0]["env"]
    with pytest.warns(DeprecationWarning):
        old = _viewer_env(tmp_path / "old", cluster_label="physics", cluster_key_secret="physics-key")
    assert new == old


def test_from_label_checks_its_label(tmp_path):
    _, stack = _stack(tmp_path)
    with pytest.raises(InvalidValue, match=r"^cluster_label='Physics': a DNS label"):
        EngineCluster.from_label(stack, "c", cluster_label="Physics")


@pytest.mark.parametrize("old, replacement", [
    ({"cluster_label": "demo"}, r"NotebookViewer\(cluster_label=\.\.\.\) is deprecated: use cluster=EngineCluster\.from_label\(scope, id, cluster_label=\.\.\.\)"),
    ({"cluster_label": "demo", "cluster_key_secret": "k"}, r"cluster_key_secret=\.\.\.\) is deprecated: use .*key_secret_name=\.\.\.\)"),
    ({"cluster": ClusterLink(Label("demo", 4, False))}, r"ClusterLink\(\.\.\.\)\) is deprecated: use cluster=EngineCluster\.from_label"),
], ids=["cluster_label", "cluster_key_secret", "ClusterLink"])
def test_old_spellings_warn_naming_the_replacement_at_the_callers_line(tmp_path, old, replacement):
    _, stack = _stack(tmp_path)
    with pytest.warns(DeprecationWarning, match=replacement) as caught:
        NotebookViewer(stack, "v", domain="example.org", user_label="u", **old)
    assert caught[0].filename == __file__
