"""Fixtures of the container tests: the Docker-API engine, and the image built once per session.

The engine is whatever DOCKER_HOST names (``source .ci/podman.sh`` starts Podman's Docker API;
tests/run.sh does it). No engine is a failure with the reason, not a skip: these tests are the
only proof that the image works.

The image is built from image/ with localrun.image_build, on BASE_IMAGE when set (the
Dockerfile's python:3.12-slim otherwise) and trusting this host's extra CA certificates (the
TLS-inspecting proxy in front of PyPI). Its tag is the stacks' default image reference, so the
end-to-end tests that run later in the same session find it built. Its size and the build time
are printed and recorded in build/container-image.json for the benchmarks.
"""

from __future__ import annotations

import glob
import json
import os
import time
from pathlib import Path

import pytest

from localrun.image_build import build_image, image_size_mb

from .containers import remove_leftovers

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGE_TAG = "ghcr.io/ipython-k8s/ipython-notebook:0.1.0"
HOST_CA_CERTIFICATES = "/usr/local/share/ca-certificates/*.crt"
RECORD_FILE = REPO_ROOT / "build" / "container-image.json"
BUILD_LOG = REPO_ROOT / "build" / "container-image-build.log"


def _say(config: pytest.Config, line: str) -> None:
    """Print past pytest's output capture: the size and build time belong in every run's output."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    if capture is None:
        reporter.write_line(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


@pytest.fixture(scope="session")
def docker_client():
    """A docker SDK client for DOCKER_HOST, or a failure that says what to do."""
    from localrun.engine_setup import docker_client as client_for

    host = os.environ.get("DOCKER_HOST")
    if not host:
        pytest.fail("DOCKER_HOST is not set: run `source .ci/podman.sh` (or tests/run.sh) to start "
                    "Podman's Docker API first", pytrace=False)
    try:
        client = client_for(host, timeout=300)
    except Exception as error:  # docker.errors.DockerException, requests errors
        pytest.fail(f"DOCKER_HOST={host}: no Docker API answers there ({error}); "
                    "run `source .ci/podman.sh`", pytrace=False)
    remove_leftovers(client)
    yield client
    remove_leftovers(client)
    client.close()


@pytest.fixture(scope="session")
def image(docker_client, pytestconfig) -> str:
    """The image built from image/ (cached layers make a rebuild take seconds)."""
    base_image = os.environ.get("BASE_IMAGE") or None
    certificates = sorted(glob.glob(HOST_CA_CERTIFICATES))
    BUILD_LOG.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with BUILD_LOG.open("w", encoding="utf-8") as log:
        image_id = build_image(
            docker_client, IMAGE_TAG, base_image=base_image, extra_ca_certs=certificates,
            progress=lambda line: print(line, file=log, flush=True),
        )
    seconds = time.monotonic() - started
    size = image_size_mb(docker_client, IMAGE_TAG)
    record = {
        "tag": IMAGE_TAG, "image_id": image_id, "base_image": base_image or "python:3.12-slim",
        "size_mb": round(size, 1), "build_seconds": round(seconds, 1),
        "extra_ca_certificates": len(certificates), "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    RECORD_FILE.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    _say(pytestconfig, f"\n[container tests] image {IMAGE_TAG} on {record['base_image']}: {size:.0f} MB, "
                       f"built in {seconds:.0f} s (log: {BUILD_LOG.relative_to(REPO_ROOT)})")
    return IMAGE_TAG
