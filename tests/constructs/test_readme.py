"""docs/deploying.md carries the stack parameter table generated from the code."""

from __future__ import annotations

import re

from infra.parameters import PARAMETERS, markdown_table

from .synth import REPO

DEPLOYING = REPO / "docs" / "deploying.md"


def test_the_parameter_table_is_generated_from_the_code():
    text = DEPLOYING.read_text()
    block = re.search(r"<!-- parameters:begin[^>]*-->\n(.*?)<!-- parameters:end -->", text, re.S)
    assert block, "parameter markers missing in docs/deploying.md"
    assert block.group(1) == markdown_table(), (
        "run: python -m infra.parameters and paste the table into docs/deploying.md, section Parameters"
    )


def test_every_parameter_read_is_documented():
    source = (REPO / "infra" / "parameters.py").read_text()
    read = set(re.findall(r'"((?:IPYTHON|KUBE)_[A-Z_]+|KUBECONFIG)"', source))
    assert read <= {p.name for p in PARAMETERS}
