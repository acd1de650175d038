"""Build the project's container image from image/ through the Docker API (Docker or Podman).

WHY a helper and not ``docker build image/``: the build has to trust extra CA certificates (a
TLS-inspecting proxy in front of PyPI) that belong to the machine, not to the repository. This
module copies image/ into a temporary build context, adds the given certificate files to its
certs/ folder (where the Dockerfile installs them before anything is downloaded), and builds
from there, so nothing is ever written into the work tree.

Engine differences, as found with Podman 4.3's Docker-compatible API and Docker's classic
builder (the only one the Docker API offers to docker-py):

* ``pull=False``: the base image is used as the engine has it (Podman otherwise tries the
  registry even for a local ``localhost/...`` image, and no registry is reachable here);
* ``dockerfile="Dockerfile"`` is given explicitly (Podman resolves it against the context);
* ``rm=True, forcerm=True``: no intermediate containers are left behind, even on failure;
* Podman's compat endpoint writes Docker-format images, so HEALTHCHECK is kept (buildah's OCI
  format would drop it);
* a failed build does not always end in an ``error`` message on the stream (Podman may just
  stop), so success is decided by asking the engine for the tagged image afterwards;
* builds stream nothing for minutes at times (the venv step), so the HTTP read timeout of the
  build request is raised to :data:`BUILD_TIMEOUT_SECONDS`.

Command line: ``python -m localrun.image_build --tag T [--base-image B] [--ca-cert FILE ...]``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from . import engine_setup

IMAGE_DIR = Path(__file__).resolve().parent.parent / "image"
BUILD_TIMEOUT_SECONDS = 3600
LOG_LINES_KEPT = 40
PEM_CERTIFICATE = re.compile(
    r"-----BEGIN CERTIFICATE-----\r?\n.+?\r?\n-----END CERTIFICATE-----", re.DOTALL
)
# A Docker image reference: [registry[:port]/]path[:tag][@digest], lower-case path components.
IMAGE_REFERENCE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$"
)
CONTEXT_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


class ImageBuildError(RuntimeError):
    """The engine did not produce the image; ``log_tail`` holds the build's last lines."""

    def __init__(self, message: str, log_tail: Iterable[str] = ()):
        self.log_tail = list(log_tail)
        tail = "\n".join(f"  | {line}" for line in self.log_tail)
        super().__init__(f"{message}\n{tail}" if tail else message)


def check_reference(parameter: str, value: str | None) -> None:
    """Raise ValueError naming ``parameter`` unless ``value`` is a valid image reference."""
    if not value or not IMAGE_REFERENCE.match(value):
        raise ValueError(
            f"{parameter}={value!r}: expected an image reference like name:tag or "
            "registry.example/org/name:tag (lower-case name, tag of letters, digits, '.', '_', '-')"
        )


def read_certificates(path: str | os.PathLike[str]) -> list[str]:
    """The PEM certificates in ``path``; ValueError naming the file when there are none."""
    file = Path(path)
    try:
        text = file.read_text(encoding="ascii", errors="replace")
    except OSError as error:
        raise ValueError(f"extra_ca_certs={str(file)!r}: cannot read it ({error.strerror})") from None
    blocks = PEM_CERTIFICATE.findall(text)
    if not blocks:
        raise ValueError(f"extra_ca_certs={str(file)!r}: expected PEM certificates (-----BEGIN CERTIFICATE-----)")
    return blocks


@contextlib.contextmanager
def build_context(extra_ca_certs: Iterable[str | os.PathLike[str]] = (), image_dir: Path = IMAGE_DIR) -> Iterator[Path]:
    """A temporary copy of image/ whose certs/ also holds ``extra_ca_certs``, one PEM per file.

    One certificate per file because ``update-ca-certificates`` links each file into
    /etc/ssl/certs by hash and OpenSSL's rehash skips files holding several.
    """
    certificates = [(Path(path), read_certificates(path)) for path in extra_ca_certs]
    if not (image_dir / "Dockerfile").is_file():
        raise ImageBuildError(f"no Dockerfile in {image_dir}: the image's build context is missing")
    with tempfile.TemporaryDirectory(prefix="ipython-image-context-") as tmp:
        context = Path(tmp) / "image"
        shutil.copytree(image_dir, context, ignore=CONTEXT_IGNORED, symlinks=False)
        certs = context / "certs"
        certs.mkdir(exist_ok=True)
        for index, (path, blocks) in enumerate(certificates):
            stem = re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem)
            for number, block in enumerate(blocks):
                (certs / f"extra-{index:02d}-{number:02d}-{stem}.crt").write_text(block + "\n", encoding="ascii")
        yield context


def _messages(chunk: dict[str, Any]) -> tuple[list[str], str | None]:
    """(log lines, error) of one decoded message of the build stream."""
    lines = [line for line in str(chunk.get("stream", "")).splitlines() if line.strip()]
    if chunk.get("status"):
        lines.append(str(chunk["status"]))
    error = chunk.get("error") or (chunk.get("errorDetail") or {}).get("message")
    return lines, (str(error).strip() if error else None)


def build_image(
    client: Any,
    tag: str,
    *,
    base_image: str | None = None,
    extra_ca_certs: Iterable[str | os.PathLike[str]] = (),
    progress: Callable[[str], None] = print,
    image_dir: Path = IMAGE_DIR,
) -> str:
    """Build image/ as ``tag``; stream each log line to ``progress``; return the image id.

    ``client`` is a ``docker.DockerClient`` or its low-level ``docker.APIClient``;
    ``base_image`` overrides the Dockerfile's BASE_IMAGE (the engine must already have it);
    ``extra_ca_certs`` are PEM files trusted during the build and in the image;
    ``image_dir`` is the folder copied as the build context (the repository's image/).
    Raises ValueError for a bad tag, base image or certificate file, and ImageBuildError with
    the last log lines when the engine produces no image.
    """
    check_reference("tag", tag)
    if base_image is not None:
        check_reference("base_image", base_image)
    api = getattr(client, "api", client)
    tail: collections.deque[str] = collections.deque(maxlen=LOG_LINES_KEPT)
    error: str | None = None
    with build_context(extra_ca_certs, image_dir) as context:
        stream = api.build(
            path=str(context),
            dockerfile="Dockerfile",
            tag=tag,
            buildargs={"BASE_IMAGE": base_image} if base_image else None,
            pull=False,
            rm=True,
            forcerm=True,
            decode=True,
            timeout=BUILD_TIMEOUT_SECONDS,
        )
        try:
            for chunk in stream:
                lines, chunk_error = _messages(chunk)
                for line in lines:
                    tail.append(line)
                    progress(line)
                if chunk_error:
                    error = chunk_error
                    tail.append(chunk_error)
                    progress(chunk_error)
        except Exception as failure:  # the engine broke the stream off: report it like a failed step
            raise ImageBuildError(f"building {tag} failed: the build stream broke off ({failure})", tail) from failure
    if error:
        raise ImageBuildError(f"building {tag} failed: {error}", tail)
    try:
        return str(api.inspect_image(tag)["Id"])
    except Exception as failure:  # docker.errors.ImageNotFound, without importing docker here
        raise ImageBuildError(f"building {tag} failed: the engine has no image {tag} afterwards ({failure})", tail) from failure


def image_size_mb(client: Any, tag: str) -> float:
    """The image's size as the engine reports it, in MB (10^6 bytes)."""
    api = getattr(client, "api", client)
    return float(api.inspect_image(tag)["Size"]) / 1e6


def _parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m localrun.image_build",
        description="Build the ipython-notebook image from image/ with the Docker API (DOCKER_HOST).",
    )
    parser.add_argument("--tag", required=True, help="image reference to build, e.g. ipython-notebook:dev")
    parser.add_argument(
        "--base-image",
        default=os.environ.get("BASE_IMAGE") or None,
        help="BASE_IMAGE build argument (default: $BASE_IMAGE, else the Dockerfile's python:3.12-slim)",
    )
    parser.add_argument(
        "--ca-cert", action="append", default=[], metavar="FILE",
        help="extra CA certificate (PEM) to trust during the build and in the image; repeatable",
    )
    arguments = parser.parse_args(argv)
    for name, value in (("--tag", arguments.tag), ("--base-image", arguments.base_image)):
        if value is not None and not IMAGE_REFERENCE.match(value):
            parser.error(f"{name}={value!r}: expected an image reference like name:tag")
    for path in arguments.ca_cert:
        try:
            read_certificates(path)
        except ValueError as error:
            parser.error(str(error).replace("extra_ca_certs=", "--ca-cert="))
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = _parse_arguments(argv)
    try:
        client = engine_setup.docker_client(os.environ.get("DOCKER_HOST") or f"unix://{engine_setup.DOCKER_SOCKET}",
                                            timeout=BUILD_TIMEOUT_SECONDS)
    except Exception as error:
        print(f"error: DOCKER_HOST={os.environ.get('DOCKER_HOST', '<unset>')}: no Docker API answers there ({error})",
              file=sys.stderr)
        return 1
    started = time.monotonic()
    try:
        image_id = build_image(client, arguments.tag, base_image=arguments.base_image,
                               extra_ca_certs=arguments.ca_cert, progress=print)
    except ImageBuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"built {arguments.tag} ({image_id[:19]}), {image_size_mb(client, arguments.tag):.0f} MB, "
          f"in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
