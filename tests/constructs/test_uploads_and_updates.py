"""Uploads and repository updates (issue 12): the viewer Ingress's body size (ingress-nginx's
annotation, on by default so that Jupyter's upload chunks pass), and IPYTHON_REPOSITORY_UPDATE
given to the containers that clone the repository only when it is not the image's default."""

from __future__ import annotations

import json

import pytest
from ipython_k8s import EngineCluster, EngineGroup, InvalidValue, NotebookViewer
from ipython_k8s.defaults import DEFAULT_INGRESS_BODY_SIZE, DEFAULT_REPOSITORY_UPDATE

from .synth import env_of, named, resources, synth_in_process, synth_stack

ANNOTATION = "nginx.ingress.kubernetes.io/proxy-body-size"
REPOSITORY = "https://example.org/notebooks.git"


def _ingress_annotations(stack) -> dict:
    (ingress,) = resources(stack, "kubernetes_ingress_v1")
    return ingress["metadata"].get("annotations", {})


def test_the_default_body_size_lets_jupyters_upload_chunks_through(given):
    # Jupyter sends 1 MiB chunks, base64 in JSON (~1.4 MB): more than ingress-nginx's own 1m
    assert DEFAULT_INGRESS_BODY_SIZE == "64m"
    assert _ingress_annotations(given["viewer-stack"]) == {ANNOTATION: "64m"}


@pytest.mark.parametrize("size, annotations", [
    ("1g", {ANNOTATION: "1g"}), ("0", {ANNOTATION: "0"}), ("512k", {ANNOTATION: "512k"}), (None, {}),
])
def test_the_body_size_prop(tmp_path, size, annotations):
    stack = synth_stack(tmp_path, lambda s: NotebookViewer(
        s, "v", domain="example.org", user_label="u", ingress_body_size=size, cluster_issuer="letsencrypt"))
    assert _ingress_annotations(stack) == {**annotations, "cert-manager.io/cluster-issuer": "letsencrypt"}


def test_the_body_size_parameter(tmp_path):
    stacks = synth_in_process({"IPYTHON_INGRESS_BODY_SIZE": "2g"}, tmp_path / "cdktf.out")
    assert _ingress_annotations(stacks["viewer-stack"]) == {ANNOTATION: "2g"}


def test_bad_body_sizes_are_refused(tmp_path):
    from cdktf import App, TerraformStack

    stack = TerraformStack(App(outdir=str(tmp_path)), "s")
    for bad in ("64MB", "1.5g", "", "-1m", 64):
        with pytest.raises(InvalidValue, match=r"^ingress_body_size=.*: a size in nginx's syntax"):
            NotebookViewer(stack, "v", domain="example.org", ingress_body_size=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=rf"^ingress_annotations=.*: no '{ANNOTATION}' while ingress_body_size is given"):
        NotebookViewer(stack, "v", domain="example.org", ingress_annotations={ANNOTATION: "8m"})
    assert stack.node.children == []
    # without the prop's annotation, the user's own passes
    NotebookViewer(stack, "v", domain="example.org", ingress_body_size=None, ingress_annotations={ANNOTATION: "8m"})


def test_the_golden_files_differ_from_before_only_by_the_body_size(given_outdir, tmp_path):
    """Every other new prop leaves the synthesized stacks as they were: the golden viewer-stack
    with the annotation taken out is what a viewer without the body size synthesizes."""
    from dataclasses import replace

    from infra.parameters import read_settings
    from infra.stacks import build_app

    from .synth import GIVEN_ENV, read_stacks
    from .test_golden import GOLDEN

    settings = read_settings(dict(GIVEN_ENV))
    settings = replace(settings, viewer=replace(settings.viewer, ingress_body_size=None))
    build_app(settings, outdir=str(tmp_path / "cdktf.out")).synth()
    without = read_stacks(tmp_path / "cdktf.out")
    golden = {name: json.loads((GOLDEN / f"{name}.json").read_text()) for name in without}
    assert without["cluster-stack"] == golden["cluster-stack"]
    (ingress,) = golden["viewer-stack"]["resource"]["kubernetes_ingress_v1"].values()
    assert ingress["metadata"].pop("annotations") == {ANNOTATION: "64m"}
    assert without["viewer-stack"] == golden["viewer-stack"]


# -- IPYTHON_REPOSITORY_UPDATE -----------------------------------------------------------------------

def test_repository_update_is_set_only_when_not_the_default(tmp_path):
    assert DEFAULT_REPOSITORY_UPDATE == "pull"

    def build(stack):
        for label, update in (("pulls", "pull"), ("keeps", "never")):
            cluster = EngineCluster(stack, label, cluster_label=label, notebook_repository=REPOSITORY,
                                    repository_update=update, engine_groups=(EngineGroup(name="g"),))
            NotebookViewer(stack, f"v-{label}", domain="example.org", user_label="u", cluster=cluster,
                           notebook_repository=REPOSITORY, repository_update=update)

    stack = synth_stack(tmp_path, build)
    for label, expected in (("pulls", None), ("keeps", "never")):
        for name in (f"ipcluster-{label}-engine", f"ipcluster-{label}-engine-g", f"nbviewer-u-{label}"):
            assert env_of(named(stack, "kubernetes_deployment_v1", name)).get("IPYTHON_REPOSITORY_UPDATE") == expected, name
        # the controller clones nothing
        assert "IPYTHON_REPOSITORY_UPDATE" not in env_of(named(stack, "kubernetes_deployment_v1", f"ipcluster-{label}-controller"))


def test_repository_update_parameter(tmp_path):
    stacks = synth_in_process({"IPYTHON_NOTEBOOK_REPOSITORY": REPOSITORY, "IPYTHON_REPOSITORY_UPDATE": "never"},
                              tmp_path / "cdktf.out")
    for stack in stacks.values():
        for deployment in resources(stack, "kubernetes_deployment_v1"):
            env = env_of(deployment)
            assert env.get("IPYTHON_REPOSITORY_UPDATE") == ("never" if env["IPYTHON_CONTAINER_TYPE"] != "controller" else None)


@pytest.mark.parametrize("props, message", [
    ({"repository_update": "always", "notebook_repository": REPOSITORY}, r"^repository_update='always': one of pull, never$"),
    ({"repository_update": "never"}, r"^repository_update='never': 'pull' unless notebook_repository is given"),
])
@pytest.mark.parametrize("construct", ["viewer", "cluster"])
def test_bad_repository_updates_are_refused(tmp_path, construct, props, message):
    from cdktf import App, TerraformStack

    stack = TerraformStack(App(outdir=str(tmp_path)), "s")
    with pytest.raises(InvalidValue, match=message):
        if construct == "viewer":
            NotebookViewer(stack, "v", domain="example.org", **props)
        else:
            EngineCluster(stack, "c", **props)
    assert stack.node.children == []
