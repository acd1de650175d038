"""Policy-scanner findings we accept, written next to the resource they concern, with the reason.

WHY in the synthesized JSON: checkov's ``terraform_json`` runner ignores inline skip comments, and a
list of skips kept elsewhere drifts from the resources. So each construct writes the checks it
knowingly fails into the resource itself, under the comment key ``//`` (Terraform ignores
``//`` properties of a block, whatever their value; cdktf already keeps its own metadata there):

    "//": {"metadata": {...}, "checkov_skip": [{"id": "CKV_K8S_43", "reason": "..."}]}

tests/policy runs checkov over the stacks and accepts a failed check only when that resource
carries a skip for that check id with a reason, and fails on a skip whose check passes. A skip is
added only while its cause is there: pin the image by digest and both image skips disappear.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Key under the resource's ``//`` comment object that holds the accepted findings.
SKIP_KEY = "checkov_skip"
COMMENT_KEY = "//"

IMAGE_DIGEST = "CKV_K8S_43"
IMAGE_PULL_POLICY_ALWAYS = "CKV_K8S_15"


@dataclass(frozen=True)
class ScannerSkip:
    """A scanner check this resource fails on purpose, and why."""

    check_id: str
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"id": self.check_id, "reason": self.reason}


def has_digest(image: str) -> bool:
    """``repo@sha256:...``: the reference names one immutable image."""
    return "@" in image


def image_skips(image: str, image_pull_policy: str | None) -> list[ScannerSkip]:
    """The image findings of a workload with a tag instead of a digest.

    A version tag is the default because the image is built and published by version, and because
    the two local ways of running the stacks (``kind load docker-image`` and the podman runner)
    know images by name only. For the same reason the pull policy is Kubernetes' default for a
    tag (IfNotPresent): ``Always`` makes the kubelet ask the registry on every start, which fails
    for an image loaded into kind and costs a registry round trip per pod elsewhere.
    """
    if has_digest(image):
        return []
    skips = [
        ScannerSkip(
            IMAGE_DIGEST,
            "image given by version tag, as published; pin it with image='<repository>@sha256:<digest>' "
            "(IPYTHON_IMAGE), which also removes this skip",
        )
    ]
    if image_pull_policy != "Always":
        skips.append(
            ScannerSkip(
                IMAGE_PULL_POLICY_ALWAYS,
                "pull policy left to Kubernetes (IfNotPresent for a version tag) so that images loaded "
                "with `kind load` or built by the local runner start without a registry; pass "
                "image_pull_policy='Always' where a registry is always reachable",
            )
        )
    return skips


def annotate(resource, skips: list[ScannerSkip]) -> None:
    """Write ``skips`` into the resource's ``//`` comment object (nothing when there are none)."""
    if skips:
        resource.add_override(f"{COMMENT_KEY}.{SKIP_KEY}", [skip.as_json() for skip in skips])
