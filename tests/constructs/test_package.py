"""The package's public names, and the plain-Python modules the stacks' parameter check relies on."""

from __future__ import annotations

import subprocess
import sys

import ipython_k8s

from .synth import REPO, clean_env


def test_every_exported_name_resolves():
    assert set(ipython_k8s.__all__) == set(ipython_k8s._EXPORTS)
    for name in ipython_k8s.__all__:
        assert getattr(ipython_k8s, name) is not None


def test_parameter_checks_run_without_cdktf_or_node():
    # infra/main.py checks the environment before cdktf starts its Node.js process (which also
    # creates cdktf.out): the modules it uses must stay free of cdktf imports.
    code = (
        "import sys, infra.parameters, ipython_k8s.naming, ipython_k8s.resources, "
        "ipython_k8s.security, ipython_k8s.linking; "
        "print(sorted(m for m in ('cdktf', 'jsii', 'constructs') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=clean_env(), capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
