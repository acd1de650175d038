"""The images the Deployments declare: built from image/ when they are not there.

WHY build rather than pull: no registry holds this project's image before it is released, and
the contract says every role runs the one image of image/, under whatever name the stack
declares (``IPYTHON_IMAGE``). The build trusts the host's extra CA certificates (a
TLS-inspecting proxy in front of PyPI) and uses BASE_IMAGE when it is set, as
``localrun.image_build`` documents.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable, Iterable

import docker

from . import engine
from .errors import LocalRunError

HOST_CA_CERTIFICATES = "/usr/local/share/ca-certificates/*.crt"
#: The build's step lines (Docker: "Step 3/20 : RUN ...", Podman: "STEP 3/20: RUN ..."): the
#: progress shown; the whole log's tail is in the error when the build fails.
BUILD_STEP = re.compile(r"^(STEP|Step) [0-9]+/[0-9]+")


def host_ca_certificates() -> list[str]:
    return sorted(glob.glob(HOST_CA_CERTIFICATES))


def ensure_images(
    client: docker.DockerClient,
    references: Iterable[str],
    *,
    rebuild: bool,
    allow_build: bool,
    say: Callable[[str], None],
) -> dict[str, tuple[str, str | None]]:
    """reference -> (image id, image user) for every image, building what is missing."""
    found: dict[str, tuple[str, str | None]] = {}
    for reference in sorted(set(references)):
        details = None if rebuild else engine.image_details(client, reference)
        if details is None:
            if not allow_build:
                raise LocalRunError(f"image {reference} is not in the engine and --no-build was given")
            say(f"building image {reference} from image/ (missing{' or --build' if rebuild else ''}; minutes the first time)")
            from .image_build import ImageBuildError, build_image

            base_image = os.environ.get("BASE_IMAGE") or None

            def progress(line: str) -> None:
                if BUILD_STEP.match(line):
                    say(f"  {line[:150]}")

            try:
                build_image(
                    client,
                    reference,
                    base_image=base_image,
                    extra_ca_certs=tuple(host_ca_certificates()),
                    progress=progress,
                )
            except (ImageBuildError, ValueError) as error:
                raise LocalRunError(f"cannot build {reference}: {error}") from None
            details = engine.image_details(client, reference)
            if details is None:
                raise LocalRunError(f"building {reference} finished but the engine has no such image")
        found[reference] = details
    return found
