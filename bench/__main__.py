"""``pipenv run bench``: every comparison, alternating our side and the baseline, several runs each.

Writes medians and ratios to bench/results.json and the table in README.md. ``--quick`` runs
each comparison once with smaller workloads and writes only build/bench-quick.json: the test
suite uses it to prove the benchmarks still work; its figures are not the published ones.
These are benchmarks, not timed tests: a missed goal is reported, never an error.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from . import report

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("synth", "viewer", "cluster", "populate", "image", "first_result", "memory", "scale")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each side (default 5)")
    parser.add_argument("--quick", action="store_true", help="one run each, small workloads, results to build/")
    parser.add_argument("--only", action="append", choices=NAMES, help="run only this comparison (repeatable)")
    arguments = parser.parse_args(argv)
    if arguments.runs < 1:
        parser.error(f"--runs={arguments.runs}: a whole number of at least 1")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = _parse(argv)
    runs = 1 if arguments.quick else arguments.runs
    selected = arguments.only or list(NAMES)
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="ipython-bench-") as tmp:
        work = Path(tmp)
        for name in selected:
            print(f"bench: {name} ({runs} run{'s' if runs > 1 else ''} each side)", file=sys.stderr, flush=True)
            for comparison in _run(name, runs, work, arguments.quick):
                result = comparison.as_dict()
                results.append(result)
                print(f"bench: {result['name']}: ours {result['ours_median']} {result['unit']}, "
                      f"baseline {result['baseline_median']}, ratio {result['ratio']} (goal {result['goal']})",
                      file=sys.stderr, flush=True)
    if arguments.quick:
        report.write(results, runs, ROOT / "build" / "bench-quick.json")
    else:
        # --only refreshes those comparisons and keeps the others from the last full run
        results = report.merge(ROOT / "bench" / "results.json", results) if arguments.only else results
        report.write(results, runs, ROOT / "bench" / "results.json")
        report.update_readme(ROOT / "docs" / "benchmarks.md", results, runs)
    print(report.table(results))
    return 0


def _run(name: str, runs: int, work: Path, quick: bool):
    if name == "synth":
        from . import synth

        return [synth.run(runs)]
    if name == "viewer":
        from . import viewer

        return [viewer.run(runs, work)]
    if name == "cluster":
        from . import cluster

        return list(cluster.run(runs, work, engines=4, tasks=200 if quick else 2000))
    if name == "populate":
        from . import populate

        return [populate.run(runs, work)]
    if name == "scale":
        from . import scale

        if quick:
            return scale.run(runs, work, engines=8, tasks=200, idle_window=3)
        return scale.run(runs, work, engines=64, tasks=2000)
    if name == "memory":
        from . import memory

        return memory.run(runs, work, quick)
    if name == "first_result":
        from . import first_result

        return first_result.run(runs, work, warm_up=not quick)
    from . import image

    return image.run(runs, work, quick=quick)


if __name__ == "__main__":
    sys.exit(main())
