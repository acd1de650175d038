"""6. The image: its size, and the rebuild after a change to the entrypoint.

Ours: copy image/, change one line of entrypoint.py, rebuild: every layer but the last comes
from the cache. Baseline: the same copy with a change at the top of the Dockerfile (right after
FROM), which invalidates every layer, as a Dockerfile that copies its local files first would
on any edit. The baseline costs a full build, so ``--quick`` skips it. Size goal: 650 MB.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import docker

from localrun import engine
from localrun.image_build import IMAGE_DIR, build_image, image_size_mb

from .timing import Comparison, seconds

TAG = "ghcr.io/ipython-k8s/ipython-notebook:0.1.0"
SCRATCH_TAG = "localhost/ipython-notebook-bench:rebuild"
CA_CERTIFICATES = "/usr/local/share/ca-certificates/*.crt"


def _build(client, tag: str, image_dir: Path | None = None) -> None:
    build_image(
        client, tag,
        base_image=os.environ.get("BASE_IMAGE") or None,
        extra_ca_certs=sorted(glob.glob(CA_CERTIFICATES)),
        progress=lambda line: None,
        **({"image_dir": image_dir} if image_dir else {}),
    )


def _changed_copy(work: Path, *, entrypoint: bool) -> Path:
    copy = Path(tempfile.mkdtemp(dir=work)) / "image"
    shutil.copytree(IMAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    nonce = uuid.uuid4().hex
    if entrypoint:
        with open(copy / "entrypoint.py", "a") as source:
            source.write(f"# bench change {nonce}\n")
    else:
        lines = (copy / "Dockerfile").read_text().splitlines(keepends=True)
        first_from = next(i for i, line in enumerate(lines) if line.startswith("FROM "))
        lines.insert(first_from + 1, f"RUN echo bench change {nonce}\n")
        (copy / "Dockerfile").write_text("".join(lines))
    return copy


def run(runs: int, work: Path, quick: bool = False) -> list[Comparison]:
    client = engine.connect()
    try:
        client.images.get(TAG)
    except docker.errors.ImageNotFound:
        _build(client, TAG)
    rebuild = Comparison(
        name="image_rebuild",
        what="image rebuild after a change to the entrypoint",
        unit="s",
        baseline_name="a change that invalidates every layer (full build)" + (" — not run by --quick" if quick else ""),
        goal="< 15 s",
    )
    try:
        for _ in range(runs):
            copy = _changed_copy(work, entrypoint=True)
            rebuild.ours.append(seconds(lambda: _build(client, SCRATCH_TAG, copy)))
        if not quick:
            for _ in range(min(runs, 2)):
                copy = _changed_copy(work, entrypoint=False)
                rebuild.baseline.append(seconds(lambda: _build(client, SCRATCH_TAG, copy)))
    finally:
        try:
            client.images.remove(SCRATCH_TAG, force=True)
        except docker.errors.ImageNotFound:
            pass
    size = Comparison(
        name="image_size",
        what="image size (numpy, scipy, pandas, sympy, matplotlib, Jupyter, ipyparallel)",
        unit="MB",
        baseline_name="the goal's budget; no seed image can be pulled here",
        goal="<= 650 MB",
    )
    size.ours.append(image_size_mb(client, TAG))
    return [rebuild, size]
