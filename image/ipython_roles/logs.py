"""The entrypoint's own log lines: one prefix, on stderr, flushed at once.

Container runtimes interleave stdout and stderr; everything the entrypoint says goes to stderr,
time-stamped like ipyparallel's lines and tagged ``[entrypoint]`` so it is easy to tell from the
Jupyter / ipyparallel logs that follow it, and it is flushed before any ``exec`` replaces the
process.
"""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Sequence

PREFIX = "[entrypoint]"


def log(message: str) -> None:
    now = time.time()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
    print(f"{stamp} {PREFIX} {message}", file=sys.stderr, flush=True)


def command_line(command: Sequence[str]) -> str:
    """A copy-pastable rendering of an argv; callers never put a secret into an argv."""
    return shlex.join(command)
