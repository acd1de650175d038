"""The generated or checked tables of the docs stay equal to the code.

- image/README.md documents every variable of the image in one table, and nothing that is not one;
- docs/benchmarks.md carries the table `pipenv run bench` writes from bench/results.json.

(The stack parameters' table in docs/deploying.md is generated from infra/parameters.py and
checked by tests/constructs/test_readme.py; the links of all docs by tests/test_links.py.)
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "image"))

from ipython_roles.settings import KNOWN_VARIABLES  # noqa: E402

from bench import report  # noqa: E402

IMAGE_README = ROOT / "image" / "README.md"
BENCHMARKS = ROOT / "docs" / "benchmarks.md"


def _image_table() -> str:
    text = IMAGE_README.read_text()
    block = re.search(r"<!-- image-variables:begin[^>]*-->\n(.*?)<!-- image-variables:end -->", text, re.S)
    assert block, "image-variables markers missing in image/README.md"
    return block.group(1)


def test_every_image_variable_is_documented_once_and_nothing_else():
    documented = re.findall(r"^\| `(IPYTHON_[A-Z_]+)` \|", _image_table(), re.M)
    assert sorted(documented) == sorted(KNOWN_VARIABLES)
    assert len(documented) == len(set(documented))


def test_the_benchmark_table_is_the_one_bench_writes_from_its_results(tmp_path):
    published = json.loads((ROOT / "bench" / "results.json").read_text())
    copy = tmp_path / "benchmarks.md"
    shutil.copy(BENCHMARKS, copy)
    assert report.update_readme(copy, published["results"], published["runs"]), \
        f"bench markers missing in {BENCHMARKS.relative_to(ROOT)}"
    assert copy.read_text() == BENCHMARKS.read_text(), (
        "docs/benchmarks.md differs from bench/results.json: run `pipenv run bench` (or --only NAME)"
    )

