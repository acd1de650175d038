"""The library's side of the image contract's entries for issue 12 (image/contract.json): the
shared volume's path, the repository update modes and the engine group variable.

tests/test_contract.py holds the contract's other checks; these are the constants the library
added for shared data, repository updates and engine groups."""

from __future__ import annotations

import json

from ipython_k8s import defaults

from .synth import REPO

CONTRACT = json.loads((REPO / "image" / "contract.json").read_text())


def test_the_new_library_constants_are_the_contracts():
    c = CONTRACT
    assert defaults.SHARED_DIR == c["paths"]["shared"]
    assert defaults.SHARED_DIR.startswith(c["paths"]["home"] + "/")
    assert defaults.DEFAULT_REPOSITORY_UPDATE == c["defaults"]["repository_update"]
    assert list(defaults.REPOSITORY_UPDATES) == c["defaults"]["repository_updates"]
    assert defaults.DEFAULT_ENGINE_GROUP == c["defaults"]["engine_group"]


def test_the_variables_the_constructs_set_are_the_images(tmp_path):
    """Every variable a synthesized container gets is one the image knows, the new ones included."""
    from ipython_k8s import EngineCluster, EngineGroup, NotebookViewer

    from .synth import env_of, resources, synth_stack

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
    assert {"IPYTHON_REPOSITORY_UPDATE", "IPYTHON_ENGINE_GROUP"} <= seen
    assert seen <= set(CONTRACT["variables"]), seen - set(CONTRACT["variables"])
