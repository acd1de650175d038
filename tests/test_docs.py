"""The README documents every variable of the image in one table, and nothing that is not one.

(The stack parameters' table is generated from infra/parameters.py and checked by
tests/constructs/test_readme.py.)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "image"))

from ipython_roles.settings import KNOWN_VARIABLES  # noqa: E402


def _image_table() -> str:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- image-variables:begin[^>]*-->\n(.*?)<!-- image-variables:end -->", text, re.S)
    assert block, "image-variables markers missing in README.md"
    return block.group(1)


def test_every_image_variable_is_documented_once_and_nothing_else():
    documented = re.findall(r"^\| `(IPYTHON_[A-Z_]+)` \|", _image_table(), re.M)
    assert sorted(documented) == sorted(KNOWN_VARIABLES)
    assert len(documented) == len(set(documented))


def test_the_readme_links_resolve():
    text = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\(((?!https?:|#)[^)#]+)", text):
        assert (ROOT / target).exists(), target
