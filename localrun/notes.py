"""What the local run deliberately leaves out, collected during a run and printed once.

WHY: a preview that silently drops a NetworkPolicy or a liveness probe misleads; one that
prints the same warning for every engine drowns the useful lines. Each note is a subject (a
resource type or a field) with its reason, counted, and printed once at the end of planning.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import TextIO


class Notes:
    def __init__(self) -> None:
        self._reasons: dict[str, str] = {}
        self._counts: Counter[str] = Counter()

    def add(self, subject: str, reason: str) -> None:
        self._reasons.setdefault(subject, reason)
        self._counts[subject] += 1

    def lines(self) -> list[str]:
        out = []
        for subject in sorted(self._reasons):
            count = self._counts[subject]
            times = f" (x{count})" if count > 1 else ""
            out.append(f"ignored locally: {subject}{times}: {self._reasons[subject]}")
        return out

    def print(self, stream: TextIO = sys.stderr) -> None:
        for line in self.lines():
            print(line, file=stream)
