"""localrun.image_build: the build context it assembles, its errors, and the fast rebuild.

The rebuild test copies image/, edits only entrypoint.py and builds again: every layer but the
entrypoint's must come from the cache, so that working on the entrypoint costs seconds.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from localrun.image_build import IMAGE_DIR, ImageBuildError, build_context, build_image

from .conftest import HOST_CA_CERTIFICATES, REPO_ROOT

pytestmark = pytest.mark.container

REBUILD_BUDGET_SECONDS = 60
BASE_IMAGE = os.environ.get("BASE_IMAGE") or None
# The expensive steps of the Dockerfile, recognized in the build log by what their RUN line says.
EXPENSIVE_STEPS = ("apt-get install -y --no-install-recommends tini git", "uv pip install")


def host_certificates() -> list[str]:
    return sorted(glob.glob(HOST_CA_CERTIFICATES))


def test_context_holds_image_dir_and_one_file_per_extra_certificate(tmp_path):
    bundle = tmp_path / "two.pem"
    blocks = [Path(path).read_text().strip() for path in host_certificates()]
    assert blocks, f"this machine has no {HOST_CA_CERTIFICATES}"
    bundle.write_text("\n".join(blocks * 2) + "\n")
    before = sorted(p.name for p in (IMAGE_DIR / "certs").iterdir())
    with build_context([bundle]) as context:
        assert (context / "Dockerfile").read_bytes() == (IMAGE_DIR / "Dockerfile").read_bytes()
        assert (context / "entrypoint.py").is_file() and (context / "ipython_roles").is_dir()
        assert not list(context.rglob("__pycache__"))
        added = sorted((context / "certs").glob("extra-*.crt"))
        assert len(added) == 2 * len(blocks)
        assert all(path.read_text().count("BEGIN CERTIFICATE") == 1 for path in added)
    assert not context.exists()
    assert sorted(p.name for p in (IMAGE_DIR / "certs").iterdir()) == before  # the work tree is untouched


@pytest.mark.parametrize("keyword, value, message", [
    ("tag", "Not A Tag", r"tag='Not A Tag': expected an image reference"),
    ("tag", "", r"tag='': expected an image reference"),
    ("base_image", "bad image!", r"base_image='bad image!': expected an image reference"),
    ("extra_ca_certs", ["/etc/hostname"], r"extra_ca_certs='/etc/hostname': expected PEM certificates"),
    ("extra_ca_certs", ["/nonexistent.crt"], r"extra_ca_certs='/nonexistent.crt': cannot read it"),
])
def test_bad_arguments_are_refused_before_anything_is_built(docker_client, keyword, value, message):
    arguments = {"tag": "localhost/never-built:x", "progress": lambda line: None, keyword: value}
    with pytest.raises(ValueError, match=message):
        build_image(docker_client, **arguments)
    assert not docker_client.images.list(name="localhost/never-built")


def test_failed_build_raises_with_the_last_log_lines(docker_client, tmp_path):
    broken = tmp_path / "image"
    broken.mkdir()
    (broken / "Dockerfile").write_text(
        "ARG BASE_IMAGE=python:3.12-slim\nFROM ${BASE_IMAGE}\n"
        "RUN echo about to fail with a reason; echo the reason >&2; exit 3\n")
    seen = []
    with pytest.raises(ImageBuildError, match=r"building localhost/broken-build:x failed") as failure:
        build_image(docker_client, "localhost/broken-build:x", base_image=BASE_IMAGE, progress=seen.append,
                    image_dir=broken)
    assert any("about to fail with a reason" in line for line in failure.value.log_tail)
    assert any("about to fail with a reason" in line for line in seen)
    assert not docker_client.images.list(name="localhost/broken-build")


def test_command_line_refuses_bad_arguments_with_status_2():
    result = subprocess.run([sys.executable, "-m", "localrun.image_build", "--tag", "x:y", "--ca-cert", "/etc/hostname"],
                            capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith(
        "error: --ca-cert='/etc/hostname': expected PEM certificates (-----BEGIN CERTIFICATE-----)")


def step_was_cached(lines: list[str], text: str) -> bool:
    """Whether the build step whose instruction contains ``text`` reported a cache hit.

    Podman prints "STEP n/m: RUN ..." then "--> Using cache ..."; Docker "Step n/m : RUN ..."
    then " ---> Using cache".
    """
    for index, line in enumerate(lines):
        if text in line and ("STEP" in line or line.startswith("Step ")):
            following = lines[index + 1:index + 3]
            return any("Using cache" in later for later in following)
    raise AssertionError(f"no build step contains {text!r}")


def test_editing_the_entrypoint_rebuilds_in_seconds(docker_client, image, tmp_path, pytestconfig):
    edited = tmp_path / "image"
    shutil.copytree(IMAGE_DIR, edited, ignore=shutil.ignore_patterns("__pycache__"))
    with (edited / "entrypoint.py").open("a") as entrypoint:
        entrypoint.write(f"# edited by the rebuild test at {time.time()}\n")
    tag = "localhost/ipython-rebuild-test:edited"
    lines: list[str] = []
    started = time.monotonic()
    try:
        rebuilt = build_image(docker_client, tag, base_image=BASE_IMAGE,
                              extra_ca_certs=host_certificates(), progress=lines.append, image_dir=edited)
        seconds = time.monotonic() - started
        reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
        capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\n[container tests] rebuild after editing entrypoint.py: {seconds:.1f} s")
        assert rebuilt != docker_client.images.get(image).id
        for step in EXPENSIVE_STEPS:
            assert step_was_cached(lines, step), f"the step with {step!r} ran again:\n" + "\n".join(lines)
        assert seconds < REBUILD_BUDGET_SECONDS, "\n".join(lines[-30:])
    finally:
        if docker_client.images.list(name=tag):
            docker_client.images.remove(tag, force=True)
