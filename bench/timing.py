"""Alternating runs and medians: the one way every comparison here is measured.

WHY alternate: on a shared 2-core machine the load drifts; running ours, baseline, ours,
baseline… exposes both sides to the same drift, so the ratio of the medians is fair even when
the absolute figures are not.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Comparison:
    """One line of the results table: our median against the baseline's, and the goal."""

    name: str
    what: str
    unit: str
    ours: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    baseline_name: str = ""
    goal: str = ""
    #: "lower" when a smaller figure is better (times), "higher" when a larger one is (throughput)
    better: str = "lower"

    @property
    def ours_median(self) -> float:
        return statistics.median(self.ours)

    @property
    def baseline_median(self) -> float | None:
        return statistics.median(self.baseline) if self.baseline else None

    @property
    def ratio(self) -> float | None:
        """ours / baseline; None when the baseline was not measured (a quick pass skips costly ones)."""
        return self.ours_median / self.baseline_median if self.baseline else None

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "what": self.what,
            "unit": self.unit,
            "baseline": self.baseline_name,
            "ours_median": round(self.ours_median, 3),
            "baseline_median": None if self.baseline_median is None else round(self.baseline_median, 3),
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "goal": self.goal,
            "better": self.better,
            "ours_runs": [round(x, 3) for x in self.ours],
            "baseline_runs": [round(x, 3) for x in self.baseline],
        }


def alternate(comparison: Comparison, ours: Callable[[], float], baseline: Callable[[], float], runs: int) -> Comparison:
    """Run ``ours`` and ``baseline`` ``runs`` times each, alternating which goes first."""
    for index in range(runs):
        order = [(comparison.ours, ours), (comparison.baseline, baseline)]
        if index % 2:
            order.reverse()
        for sink, measure in order:
            sink.append(measure())
    return comparison


def seconds(action: Callable[[], object]) -> float:
    """Wall-clock seconds ``action`` takes."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
