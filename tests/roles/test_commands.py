"""The entrypoint's other commands: ``--help``, and any unknown command is executed as given
(``docker run IMAGE bash``; the S2I run script relies on it)."""

from __future__ import annotations

import subprocess

from .processes import ENTRYPOINT, PYTHON, base_environment


def test_help_lists_the_commands(tmp_path):
    result = subprocess.run([PYTHON, str(ENTRYPOINT), "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("assemble SRC_DIR", "healthcheck", "install-shim", "COMMAND"):
        assert command in result.stdout


def test_other_commands_are_executed_with_the_environment(tmp_path):
    result = subprocess.run(
        [PYTHON, str(ENTRYPOINT), "sh", "-c", 'echo "role=$IPYTHON_CONTAINER_TYPE"; exit 7'],
        env=base_environment(tmp_path, IPYTHON_CONTAINER_TYPE="viewer"),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 7
    assert result.stdout == "role=viewer\n"
    assert "[entrypoint] exec: sh -c " in result.stderr
