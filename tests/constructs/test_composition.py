"""A construct of the user's that wraps a cluster and a viewer, used twice in one stack: its
outputs are distinct (prefixed, or turned off and made by the wrapper), or the synth stops
with an error naming the clash; never one set of outputs silently written over the other."""

from __future__ import annotations

import json
import re

import pytest
from cdktf import App, TerraformOutput, TerraformStack
from ipython_k8s import EngineCluster, NotebookViewer, OutputClash

from constructs import Construct


class Team(Construct):
    """What a user writes: one cluster and one viewer per team."""

    def __init__(self, scope: Construct, id: str, *, prefix: bool = False, own_outputs: bool = False) -> None:
        super().__init__(scope, id)
        extra = {"output_prefix": f"{id}_cluster"} if prefix else {}
        if own_outputs:
            extra = {"outputs": False}
        cluster = EngineCluster(self, "cluster", cluster_label=f"{id}-c", **extra)
        viewer_extra = {"output_prefix": f"{id}_viewer"} if prefix else {}
        if own_outputs:
            viewer_extra = {"outputs": False}
        viewer = NotebookViewer(
            self, "viewer", domain="example.org", user_label="u", cluster=cluster, **viewer_extra
        )
        if own_outputs:
            TerraformOutput(self, "url", value=viewer.url, static_id=False)


def synth(tmp_path, build) -> dict:
    app = App(outdir=str(tmp_path), skip_validation=True)
    stack = TerraformStack(app, "teams")
    build(stack)
    app.synth()
    return json.loads((tmp_path / "stacks" / "teams" / "cdk.tf.json").read_text())


def test_a_wrapper_used_twice_is_an_error_naming_the_clash(tmp_path):
    app = App(outdir=str(tmp_path), skip_validation=True)
    stack = TerraformStack(app, "teams")
    Team(stack, "physics")
    with pytest.raises(OutputClash) as raised:
        Team(stack, "chemistry")
    message = str(raised.value)
    assert "\n" not in message
    assert re.match(r"^output_prefix='cluster': ", message)
    assert "'cluster_label' is already made by 'teams/physics/cluster'" in message
    assert "give 'teams/chemistry/cluster' output_prefix=" in message
    assert "outputs=False" in message
    # Nothing of the refused cluster exists (props are checked before any child is made).
    chemistry = stack.node.find_child("chemistry")
    assert [child.node.id for child in chemistry.node.children] == []


def test_a_wrapper_used_twice_with_prefixes_has_both_outputs(tmp_path):
    stack = synth(tmp_path, lambda s: (Team(s, "physics", prefix=True), Team(s, "chemistry", prefix=True)))
    outputs = stack["output"]
    for team in ("physics", "chemistry"):
        assert outputs[f"{team}_cluster_label"]["value"] == f"{team}-c"
        assert outputs[f"{team}_viewer_url"]["value"] == f"https://nbviewer-u-{team}-c.example.org/"
        assert outputs[f"{team}_viewer_password"]["sensitive"] is True
    assert len(outputs) == 2 * 5


def test_a_wrapper_with_outputs_off_makes_its_own(tmp_path):
    stack = synth(tmp_path, lambda s: (Team(s, "physics", own_outputs=True), Team(s, "chemistry", own_outputs=True)))
    values = sorted(output["value"] for output in stack["output"].values())
    assert values == ["https://nbviewer-u-chemistry-c.example.org/", "https://nbviewer-u-physics-c.example.org/"]


def test_the_default_names_are_unchanged(tmp_path):
    def build(s):
        cluster = EngineCluster(s, "cluster", cluster_label="demo")
        NotebookViewer(s, "alice", domain="example.org", user_label="alice", cluster=cluster)
        NotebookViewer(s, "bob", domain="example.org", user_label="bob", cluster=cluster)

    assert sorted(synth(tmp_path, build)["output"]) == [
        "alice_password", "alice_url", "bob_password", "bob_url",
        "cluster_controller_host", "cluster_key_secret", "cluster_label",
    ]


def test_the_same_names_in_two_stacks_are_no_clash(tmp_path):
    app = App(outdir=str(tmp_path), skip_validation=True)
    for name in ("one", "two"):
        EngineCluster(TerraformStack(app, name), "cluster", cluster_label=name)
