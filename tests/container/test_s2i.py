"""The image as an S2I builder: what ``s2i build --as-dockerfile`` produces, built and run.

``s2i build --as-dockerfile DIR/Dockerfile SOURCE BUILDER`` writes a Dockerfile that copies the
source checkout to /tmp/src, hands it to the assemble user (1001 by default, group 0) and runs
the builder's /usr/libexec/s2i/assemble, with /usr/libexec/s2i/run as the shell-form CMD. The
s2i binary is not packaged for Debian, so the test writes that same Dockerfile itself
(:func:`s2i_dockerfile`, following source-to-image's pkg/build/strategies/dockerfile) around a
real git checkout: a notebook and a requirements.txt naming a tiny wheel committed next to it.
The resulting image must start a viewer (through the run script) whose workspace holds the
notebook and whose kernels import the package.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

from tests.roles.artifacts import build_wheel, commit_files, git, notebook
from tests.roles.kernel_client import JupyterClient

from . import containers

pytestmark = pytest.mark.container

PASSWORD = "s2i viewer password"
PACKAGE = "s2i_tinypkg"
ASSEMBLE_USER = "1001"  # s2i's default for --as-dockerfile: not the image's uid 1000


def s2i_dockerfile(builder: str, source_location: str) -> str:
    """The Dockerfile ``s2i build --as-dockerfile`` writes for a builder with image:// scripts."""
    return (
        f"FROM {builder}\n"
        f'LABEL "io.openshift.s2i.build.image"="{builder}" \\\n'
        f'      "io.openshift.s2i.build.source-location"="{source_location}"\n'
        "USER root\n"
        "# Copying in source code\n"
        "COPY upload/src /tmp/src\n"
        "# Change file ownership to the assemble user. Builder image must support chown command.\n"
        f"RUN chown -R {ASSEMBLE_USER}:0 /tmp/src\n"
        f"USER {ASSEMBLE_USER}\n"
        "# Assemble script sourced from builder image based on user input or image metadata.\n"
        "# If this file does not exist in the image, the build will fail.\n"
        "RUN /usr/libexec/s2i/assemble\n"
        "# Run script sourced from builder image based on user input or image metadata.\n"
        "# If this file does not exist in the image, the build will fail.\n"
        "CMD /usr/libexec/s2i/run\n"
    )


def make_application_repository(root: Path) -> Path:
    """A git repository: analysis.ipynb, wheels/<tiny wheel>, requirements.txt naming the wheel."""
    repository = root / "notebooks"
    repository.mkdir(parents=True)
    git(repository, "init", "-q", "-b", "main")
    wheel = build_wheel(repository / "wheels", PACKAGE, "1.0", 'def answer():\n    return 42\n')
    commit_files(repository, {
        "analysis.ipynb": notebook("built by s2i"),
        "requirements.txt": f"./wheels/{wheel.name}\n",
    }, "notebook, its requirement and the wheel")
    return repository


@pytest.fixture(scope="module")
def s2i_image(docker_client, image, tmp_path_factory):
    root = tmp_path_factory.mktemp("s2i")
    repository = make_application_repository(root)
    context = root / "context"
    # s2i clones the source into upload/src of its working directory, .git included.
    subprocess.run(["git", "clone", "-q", str(repository), str(context / "upload" / "src")], check=True)
    (context / "Dockerfile").write_text(s2i_dockerfile(image, f"file://{repository}"))
    tag = f"localhost/ipython-s2i-test:{uuid.uuid4().hex[:8]}"
    lines = []
    for chunk in docker_client.api.build(path=str(context), tag=tag, pull=False, rm=True, forcerm=True,
                                         decode=True, timeout=1800):
        lines.extend(str(chunk.get("stream", "")).splitlines())
        if chunk.get("error"):
            lines.append(chunk["error"])
    try:
        docker_client.images.get(tag)
    except Exception:
        pytest.fail("the S2I build failed:\n" + "\n".join(lines[-40:]), pytrace=False)
    assert any("installed" in line and "requirements.txt" in line for line in lines), "\n".join(lines[-40:])
    yield tag
    docker_client.images.remove(tag, force=True)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def s2i_viewer(docker_client, s2i_image):
    with containers.running_viewer(docker_client, s2i_image, PASSWORD) as started:
        yield started


def test_built_image_runs_the_s2i_run_script_under_the_entrypoint(docker_client, s2i_image):
    config = docker_client.api.inspect_image(s2i_image)["Config"]
    assert config["Cmd"] == ["/bin/sh", "-c", "/usr/libexec/s2i/run"]
    assert config["Entrypoint"] == ["/opt/venv/bin/python", "/opt/ipython/entrypoint.py"]


def test_notebook_is_in_the_workspace_and_the_requirement_imports(s2i_viewer):
    with JupyterClient(s2i_viewer.url, PASSWORD, timeout=60) as jupyter:
        listed = {item["name"]: item["type"] for item in jupyter.get("/api/contents").json()["content"]}
        assert listed.get("analysis.ipynb") == "notebook", listed
        model = jupyter.get("/api/contents/analysis.ipynb").json()
        assert model["content"]["cells"][0]["source"] == "built by s2i"
        with jupyter.kernel() as kernel:
            output = kernel.run(f"import {PACKAGE}; print({PACKAGE}.answer(), {PACKAGE}.__file__)",
                                timeout=120).stdout
    answer, location = output.split()
    assert answer == "42" and location.startswith("/opt/venv/lib/")
    code, entries = s2i_viewer.exec(["ls", "-A", "/home/ipython/work"])
    assert code == 0 and ".git" not in entries.split(), entries


def test_empty_volume_on_the_workspace_gets_the_notebook_and_keeps_an_edit(docker_client, s2i_image, tmp_path):
    """The stacks mount a PVC on /home/ipython/work, hiding what the build put there: the seed
    recorded by assemble fills the empty volume (a bind mount, which, unlike a new named
    volume, is not filled from the image: like a PVC); an edit survives a new container."""
    volume = tmp_path / "workspace-volume"
    volume.mkdir()
    os.chown(volume, 1000, 0)
    os.chmod(volume, 0o775)
    environment = {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWORD": PASSWORD}
    mounts = {str(volume): {"bind": "/home/ipython/work", "mode": "rw"}}
    first = containers.start(docker_client, s2i_image, environment, publish_viewer=True, volumes=mounts)
    try:
        containers.wait_for_viewer(first)
        assert "copied the workspace seed /opt/ipython/workspace-seed" in first.logs()
        with JupyterClient(first.url, PASSWORD, timeout=60) as jupyter:
            model = jupyter.get("/api/contents/analysis.ipynb").json()
            assert model["content"]["cells"][0]["source"] == "built by s2i"
            model["content"]["cells"][0]["source"] = "edited on the volume"
            saved = jupyter.put("/api/contents/analysis.ipynb", {"type": "notebook", "content": model["content"]})
            assert saved.status_code == 200, saved.text
    finally:
        containers.remove(first)
    assert {"analysis.ipynb", "requirements.txt", "wheels"} <= {p.name for p in volume.iterdir()}
    second = containers.start(docker_client, s2i_image, environment, publish_viewer=True, volumes=mounts)
    try:
        containers.wait_for_viewer(second)
        assert "copied the workspace seed" not in second.logs()
        with JupyterClient(second.url, PASSWORD, timeout=60) as jupyter:
            model = jupyter.get("/api/contents/analysis.ipynb").json()
            assert model["content"]["cells"][0]["source"] == "edited on the volume"
    finally:
        containers.remove(second)


def test_workspace_from_the_build_is_writable_by_an_arbitrary_uid(docker_client, s2i_image):
    output = docker_client.containers.run(
        s2i_image, ["sh", "-c", "id -u && echo edited >> /home/ipython/work/analysis.ipynb && echo ok"],
        user="123456:0", remove=True, labels=containers.labels())
    assert output.decode().split() == ["123456", "ok"]


def test_usage_script_explains_the_builder(docker_client, image):
    output = docker_client.containers.run(image, ["/usr/libexec/s2i/usage"], remove=True,
                                          labels=containers.labels()).decode()
    assert "s2i build" in output and "IPYTHON_CONTAINER_TYPE" in output


def test_save_artifacts_writes_an_empty_tar_stream(docker_client, image):
    output = docker_client.containers.run(image, ["/usr/libexec/s2i/save-artifacts"], remove=True,
                                          labels=containers.labels())
    with tarfile.open(fileobj=io.BytesIO(output)) as archive:
        assert archive.getmembers() == []


def test_builder_labels_point_s2i_at_the_scripts(docker_client, image):
    labels = docker_client.api.inspect_image(image)["Config"]["Labels"]
    assert labels["io.openshift.s2i.scripts-url"] == "image:///usr/libexec/s2i"
    assert labels["io.openshift.s2i.assemble-user"] == "1000"
    assert json.dumps(labels["io.k8s.description"])  # present and text
    for script in ("assemble", "run", "usage", "save-artifacts"):
        output = docker_client.containers.run(image, ["test", "-x", f"/usr/libexec/s2i/{script}"], remove=True,
                                              labels=containers.labels())
        assert output == b""
