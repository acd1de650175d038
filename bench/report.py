"""Writing the results: ``bench/results.json`` and the table between markers in README.md."""

from __future__ import annotations

import json
import platform
import re
from datetime import datetime, timezone
from pathlib import Path

README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"


def _figure(value: float, unit: str) -> str:
    return f"{value:.0f} {unit}" if value >= 100 else f"{value:.2f} {unit}"


def _met(result: dict) -> str:
    goal = result.get("goal", "")
    match = re.fullmatch(r"(<=|>=|<)\s*([\d.]+)\s*(\w*)", goal)
    if not match:
        return ""
    operator, bound, unit = match.group(1), float(match.group(2)), match.group(3)
    value = result["ours_median"] if unit else result["ratio"]
    ok = value <= bound if operator == "<=" else value >= bound if operator == ">=" else value < bound
    return "yes" if ok else "**no**"


def table(results: list[dict]) -> str:
    lines = [
        "| # | what | ours (median) | baseline (median) | ratio | goal | met | runs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for number, result in enumerate(results, 1):
        baseline = (
            f"{_figure(result['baseline_median'], result['unit'])} ({result['baseline']})"
            if result.get("baseline_runs") else f"— ({result['baseline']})"
        )
        ratio = f"{result['ratio']:.2f}" if result.get("baseline_runs") else "—"
        lines.append(
            f"| {number} | {result['what']} | {_figure(result['ours_median'], result['unit'])} | {baseline} "
            f"| {ratio} | {result['goal']} | {_met(result)} | {len(result['ours_runs'])} |"
        )
    return "\n".join(lines)


def merge(path: Path, fresh: list[dict]) -> list[dict]:
    """The results in ``path`` with those of the same names replaced by ``fresh``, in order."""
    if not path.exists():
        return fresh
    by_name = {entry["name"]: entry for entry in fresh}
    kept = [by_name.pop(entry["name"], entry) for entry in json.loads(path.read_text())["results"]]
    return kept + list(by_name.values())


def write(results: list[dict], runs: int, path: Path) -> None:
    document = {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count(), "system": platform.platform()},
        "runs": runs,
        "results": results,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


def update_readme(readme: Path, results: list[dict], runs: int) -> bool:
    """Replace the table between the markers in ``readme`` (docs/benchmarks.md); return False
    when the file has no markers."""
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        return False
    block = (f"{README_START}\n_Medians of alternating runs (ours, baseline, ours, …; `runs` each), written by "
             f"`pipenv run bench` on this project's 2-core CI machine._\n\n{table(results)}\n{README_END}")
    readme.write_text(re.sub(re.escape(README_START) + r".*?" + re.escape(README_END), lambda _: block, text, flags=re.S))
    return True
