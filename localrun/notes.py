"""What the local run deliberately leaves out, collected during a run and reported once.

WHY: a preview that silently drops a NetworkPolicy or a liveness probe misleads; one that
prints the same warning for every engine drowns the useful lines. Each note is a subject (a
resource type or a field) with its reason, counted. ``local up`` prints one summary line
(how many kinds of settings it ignores, naming those a user would otherwise miss: placement,
and resources such as GPUs it cannot honour); ``--verbose`` adds one line per kind with its
reason.
"""

from __future__ import annotations

from collections import Counter

from .report import Reporter, plural


class Notes:
    def __init__(self) -> None:
        self._reasons: dict[str, str] = {}
        self._counts: Counter[str] = Counter()
        self._headlines: dict[str, list[str]] = {}

    def add(self, subject: str, reason: str, *, headline: tuple[str, str] | None = None) -> None:
        """``headline``: (group, item) named in the summary line itself, e.g. ("placement",
        "node_selector") or ("unhonoured resources", "nvidia.com/gpu")."""
        self._reasons.setdefault(subject, reason)
        self._counts[subject] += 1
        if headline is not None:
            items = self._headlines.setdefault(headline[0], [])
            if headline[1] not in items:
                items.append(headline[1])

    def __len__(self) -> int:
        """The number of kinds of settings ignored (not of their occurrences)."""
        return len(self._reasons)

    def details(self) -> list[str]:
        """One line per kind: ``subject (xN): reason``, sorted by subject."""
        out = []
        for subject in sorted(self._reasons):
            count = self._counts[subject]
            times = f" (x{count})" if count > 1 else ""
            out.append(f"{subject}{times}: {self._reasons[subject]}")
        return out

    def lines(self) -> list[str]:
        return [f"ignored locally: {detail}" for detail in self.details()]

    def summary(self, verbose: bool) -> str | None:
        """The one line of ``local up``, or None when nothing is ignored."""
        if not self._reasons:
            return None
        kinds = plural(len(self._reasons), "kind")
        named = "; ".join(f"{group} ({', '.join(items)})" for group, items in self._headlines.items())
        return (f"ignored locally: {kinds} of settings" + (f", among them {named}" if named else "")
                + (":" if verbose else " (--verbose lists them)"))

    def report(self, reporter: Reporter) -> None:
        summary = self.summary(reporter.verbose)
        if summary is None:
            return
        reporter.say(summary)
        for detail in self.details():
            reporter.detail(detail)
