"""The synthesized Kubernetes objects are valid API objects, offline: ``kubernetes-validate --strict``.

The stacks are synthesized with the default parameters, with everything given (GIVEN_ENV), with
every optional part on and with a digest-pinned image (tests/policy's PARAMETER_SETS), and the
example app; kube_manifests.py turns their Terraform resources into the objects the provider
sends to the API server, and each is validated against the API's JSON schemas in strict mode
(an unknown field is an error, as it is for ``kubectl apply --validate=strict``).

WHY Kubernetes 1.32 and 1.37: 1.37 is the newest release kubernetes-validate (1.37.0) has
schemas for. 1.32 is the Kubernetes of the kind cluster that the users' CI workflow
(.github/workflows/ci.yml) plans the stacks against, the one API server the project meets;
upstream maintains only the newest three minors (1.35 to 1.37), managed clusters lag behind
that, and 1.32 leaves them that room. constructs/README.md states the same range. The objects
use nothing newer than Kubernetes 1.25 (NetworkPolicy endPort is the newest field), so older
schemas pass as well, but no older version is claimed.
"""

from __future__ import annotations

import copy
import json
import runpy

import kubernetes_validate
import pytest

from tests.policy.conftest import PARAMETER_SETS

from .kube_manifests import NOT_KUBERNETES, STRING_PLACEHOLDER, UnknownAttribute, manifest, manifests
from .kube_validate import KUBERNETES_VERSIONS  # the oldest and the newest (see the module docstring)
from .synth import REPO, read_stacks, synth_in_process

KINDS = {"Deployment", "Service", "Secret", "PersistentVolumeClaim", "NetworkPolicy", "Ingress"}
EXAMPLE = REPO / "examples" / "one_cluster_two_viewers" / "main.py"
SETS = ("defaults", "given", "optional", "pinned", "example")


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory, given_outdir) -> dict[str, dict[str, dict]]:
    """parameter set -> stack name -> parsed cdk.tf.json."""
    result = {"given": read_stacks(given_outdir)}  # GIVEN_ENV: conftest's synth, shared
    for name, env in PARAMETER_SETS.items():
        result[name] = synth_in_process(dict(env), tmp_path_factory.mktemp(f"validate-{name}") / "cdktf.out")
    outdir = tmp_path_factory.mktemp("validate-example") / "cdktf.out"
    runpy.run_path(str(EXAMPLE), run_name="example")["build"](str(outdir)).synth()
    result["example"] = read_stacks(outdir)
    assert set(result) == set(SETS)
    return result


def kubernetes_resources(stack: dict) -> int:
    return sum(len(by_address) for kind, by_address in stack.get("resource", {}).items()
               if kind not in NOT_KUBERNETES)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("parameters", SETS)
def test_every_object_is_valid_for_kubernetes(synthesized, parameters, version):
    errors = []
    for stack_name, stack in synthesized[parameters].items():
        objects = manifests(stack)
        assert len(objects) == kubernetes_resources(stack) > 0, stack_name  # none left out
        for obj in objects:
            where = f"{stack_name}: {obj['kind']} {obj['metadata']['name']}"
            try:
                checked = kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                errors.append(f"{where}: {'.'.join(map(str, error.path))}: {error.message}")
            else:
                assert checked == version, (where, checked)  # that version's own schema was used
    assert not errors, "\n".join(errors)


def test_every_kind_and_no_terraform_expression_is_left(synthesized):
    kinds = set()
    for stacks in synthesized.values():
        for stack in stacks.values():
            objects = manifests(stack)
            kinds |= {obj["kind"] for obj in objects}
            assert "${" not in json.dumps(objects)
    assert kinds == KINDS
    # With the defaults, the labels are generated: names are interpolations, made placeholders
    # of a generated label's shape.
    viewer = manifests(synthesized["defaults"]["viewer-stack"])
    names = {obj["kind"]: obj["metadata"]["name"] for obj in viewer}
    assert names["Deployment"] == f"nbviewer-{STRING_PLACEHOLDER}-{STRING_PLACEHOLDER}"


def a_deployment(synthesized) -> tuple[str, dict]:
    deployments = synthesized["given"]["viewer-stack"]["resource"]["kubernetes_deployment_v1"]
    address, resource = next(iter(deployments.items()))
    return address, copy.deepcopy(resource)


def test_an_attribute_without_a_mapping_fails_instead_of_being_dropped(synthesized):
    address, resource = a_deployment(synthesized)
    resource["spec"]["template"]["spec"]["host_network"] = True
    with pytest.raises(UnknownAttribute, match=r"\.spec\.template\.spec\.host_network: no Kubernetes mapping"):
        manifest("kubernetes_deployment_v1", address, resource)
    _, resource = a_deployment(synthesized)
    resource["spec"]["template"]["spec"]["container"][0]["port"][0]["host_port"] = 80
    with pytest.raises(UnknownAttribute, match=r"container\[0\]\.port\[0\]\.host_port"):
        manifest("kubernetes_deployment_v1", address, resource)
    with pytest.raises(UnknownAttribute, match="kubernetes_config_map_v1"):
        manifests({"resource": {"kubernetes_config_map_v1": {"c": {"metadata": {"name": "c"}}}}})


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_strict_validation_rejects_a_wrong_object(synthesized, version):
    address, resource = a_deployment(synthesized)
    good = manifest("kubernetes_deployment_v1", address, resource)
    assert kubernetes_validate.validate(good, version, strict=True) == version
    wrong = copy.deepcopy(good)
    wrong["spec"]["template"]["spec"]["containers"][0]["volumeMount"] = []  # an unknown field
    unparsed = copy.deepcopy(good)
    unparsed["spec"]["replicas"] = "1"  # as Terraform has it, before the provider parses it
    for obj in (wrong, unparsed):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(obj, version, strict=True)
