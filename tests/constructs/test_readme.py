"""README.md carries the stack parameter table generated from the code."""

from __future__ import annotations

import re

from infra.parameters import PARAMETERS, markdown_table

from .synth import REPO


def test_readme_parameter_table_is_generated_from_the_code():
    text = (REPO / "README.md").read_text()
    block = re.search(r"<!-- parameters:begin[^>]*-->\n(.*?)<!-- parameters:end -->", text, re.S)
    assert block, "parameter markers missing in README.md"
    assert block.group(1) == markdown_table(), "run: python -m infra.parameters and paste the table"


def test_every_parameter_read_is_documented():
    source = (REPO / "infra" / "parameters.py").read_text()
    read = set(re.findall(r'"((?:IPYTHON|KUBE)_[A-Z_]+|KUBECONFIG)"', source))
    assert read <= {p.name for p in PARAMETERS}
