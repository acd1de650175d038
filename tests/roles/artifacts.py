"""Things the populate tests build for themselves: wheels in a local folder and git repositories.

The wheels are written directly (a wheel is a zip with a ``.dist-info``), so building them needs
no build backend and no network; installers get them through ``PIP_FIND_LINKS`` with
``PIP_NO_INDEX=true``, the offline set-up the entrypoint documents.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import zipfile
from pathlib import Path


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(folder: Path, name: str, version: str, module_source: str, requires: list[str] = ()) -> Path:
    """A pure-Python wheel ``name-version-py3-none-any.whl`` holding package ``name``."""
    folder.mkdir(parents=True, exist_ok=True)
    dist_info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {requirement}\n" for requirement in requires
    )
    files = {
        f"{name}/__init__.py": module_source.encode(),
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: roles-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist_info}/top_level.txt": f"{name}\n".encode(),
    }
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        record = []
        for member, data in files.items():
            wheel.writestr(member, data)
            record.append(_record_line(member, data))
        record.append(f"{dist_info}/RECORD,,")
        wheel.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return path


def notebook(text: str) -> str:
    """A minimal nbformat 4 notebook with one markdown cell."""
    return json.dumps(
        {
            "cells": [{"cell_type": "markdown", "id": "note", "metadata": {}, "source": [text]}],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=1,
    )


def git(repository: Path, *arguments: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repository), *arguments],
        check=True,
        capture_output=True,
        text=True,
        env={
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.org",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.org",
            "HOME": str(repository),
            "PATH": "/usr/bin:/bin",
        },
    ).stdout


def commit_files(repository: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (repository / name).write_text(text)
    git(repository, "add", "-A")
    git(repository, "commit", "-q", "-m", message)


def build_notebook_repository(path: Path, requirements: str) -> Path:
    """History: v1 (tag ``v1``), then v2 on ``main``; branch ``feature`` from v1 with its own notebook."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    commit_files(path, {"analysis.ipynb": notebook("version 1"), "requirements.txt": requirements}, "v1")
    git(path, "tag", "v1")
    git(path, "checkout", "-q", "-b", "feature")
    commit_files(path, {"analysis.ipynb": notebook("feature branch")}, "feature")
    git(path, "checkout", "-q", "main")
    commit_files(path, {"analysis.ipynb": notebook("version 2")}, "v2")
    return path
