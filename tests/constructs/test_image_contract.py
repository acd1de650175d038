"""The variables the constructs give a container are the image's (image/contract.json), the ones
issue 12 added among them: IPYTHON_REPOSITORY_UPDATE and IPYTHON_ENGINE_GROUP.

tests/test_contract.py proves the library's constants (defaults.py) equal to the contract; this
checks what a synthesized Deployment actually sets."""

from __future__ import annotations

import json

from .synth import REPO, env_of, resources, synth_stack

CONTRACT = json.loads((REPO / "image" / "contract.json").read_text())


def test_the_variables_the_constructs_set_are_the_images(tmp_path):
    from ipython_k8s import EngineCluster, EngineGroup, NotebookViewer

    def build(stack):
        repository = "https://example.org/notebooks.git"
        cluster = EngineCluster(stack, "c", cluster_label="demo", notebook_repository=repository,
                                repository_update="never", engine_groups=(EngineGroup(name="gpu"),),
                                shared_storage_size="1Gi", max_message_mib=128, repository_required=True)
        NotebookViewer(stack, "v", domain="example.org", cluster=cluster, notebook_repository=repository,
                       repository_update="never")

    seen: set[str] = set()
    for deployment in resources(synth_stack(tmp_path, build), "kubernetes_deployment_v1"):
        seen |= set(env_of(deployment))
    assert {"IPYTHON_REPOSITORY_UPDATE", "IPYTHON_ENGINE_GROUP", "IPYTHON_MAX_MESSAGE_MIB"} <= seen
    assert seen <= set(CONTRACT["variables"]), seen - set(CONTRACT["variables"])
