"""The images the Deployments declare: built from image/ when they are not there.

WHY build rather than pull: no registry holds this project's image before it is released, and
the contract says every role runs the one image of image/, under whatever name the stack
declares (``IPYTHON_IMAGE``). The build trusts the host's extra CA certificates (a
TLS-inspecting proxy in front of PyPI) and uses BASE_IMAGE when it is set, else the base image
.ci/podman.sh made when the engine holds it (no registry to pull from), else the Dockerfile's
default; ``localrun.image_build`` documents the build.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable

import docker
import docker.errors
import requests

from . import engine, engine_setup
from .errors import LocalRunError
from .image_build import ImageBuildError, build_image
from .report import Reporter, engine_failure

HOST_CA_CERTIFICATES = "/usr/local/share/ca-certificates/*.crt"
#: The build's step lines (Docker: "Step 3/20 : RUN ...", Podman: "STEP 3/20: RUN ..."): the
#: heartbeat names the current step; --verbose shows every log line; the log's tail is in the
#: error when the build fails.
BUILD_STEP = re.compile(r"^(?:STEP|Step) ([0-9]+/[0-9]+)")


def host_ca_certificates() -> list[str]:
    return sorted(glob.glob(HOST_CA_CERTIFICATES))


def ensure_images(
    client: docker.DockerClient,
    references: Iterable[str],
    *,
    rebuild: bool,
    allow_build: bool,
    say: Reporter,
) -> dict[str, tuple[str, str | None]]:
    """reference -> (image id, image user) for every image, building what is missing."""
    found: dict[str, tuple[str, str | None]] = {}
    for reference in sorted(set(references)):
        details = None if rebuild else engine.image_details(client, reference)
        if details is None:
            if not allow_build:
                raise LocalRunError(f"image {reference} is not in the engine and --no-build was given")
            details = _build(client, reference, rebuild=rebuild, say=say)
        else:
            say.detail(f"image {reference} is in the engine ({details[0].removeprefix('sha256:')[:12]})")
        found[reference] = details
    return found


def _build(client: docker.DockerClient, reference: str, *, rebuild: bool, say: Reporter) -> tuple[str, str | None]:
    why = "--build" if rebuild else "missing; minutes the first time"
    with say.step(f"building image {reference} from image/ ({why})", still="building the image",
                  done=f"built image {reference}") as step:

        def progress(line: str) -> None:
            step_line = BUILD_STEP.match(line)
            if step_line:
                step.status = f"step {step_line.group(1)}"
            say.detail(f"| {line}")

        try:
            build_image(
                client,
                reference,
                base_image=os.environ.get("BASE_IMAGE") or engine_setup.project_base_image(client),
                extra_ca_certs=tuple(host_ca_certificates()),
                progress=progress,
            )
        except ImageBuildError as error:
            raise LocalRunError(f"cannot build {reference}: {_build_failure(error, reference)}") from None
        except ValueError as error:
            raise LocalRunError(f"cannot build {reference}: {error}") from None
    details = engine.image_details(client, reference)
    if details is None:
        raise LocalRunError(f"building {reference} finished but the engine has no such image")
    return details


def _build_failure(error: ImageBuildError, reference: str) -> str:
    """The build's failure in words, with the log's tail; when the engine broke the build off
    or ended it without a word, that is said instead of the HTTP library's exception text."""
    cause = error.__cause__
    if isinstance(cause, docker.errors.ImageNotFound):
        words = f"the build ended without an error but the engine has no image {reference}"
    elif isinstance(cause, (requests.ConnectionError, requests.Timeout)):
        words = engine_failure(cause)
    else:
        return str(error).removeprefix(f"building {reference} failed: ")
    tail = "\n".join(f"  | {line}" for line in error.log_tail)
    return f"{words}; the build's log ends with:\n{tail}" if tail else str(words)
