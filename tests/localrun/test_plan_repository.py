"""The local run resolves a repository URL with credentials the way Terraform would: from the
sensitive variable (TF_VAR_notebook_repository) into the Secret, and from the Secret into the
containers that clone it (issue 14). Nothing is started."""

from __future__ import annotations

import pytest

from localrun.errors import UsageError
from localrun.plan import make_plan
from localrun.state import locked_state
from localrun.synth import read_app

from tests.e2e.synthesis import GIVEN, PASSWORD, synthesize_into

TOKEN = "ghp_0123456789abcdefLOCALRUN"
URL = f"https://alice:p@ss{TOKEN}@git.example.org/notebooks.git#main"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    outdir = synthesize_into(
        tmp_path_factory.mktemp("repository") / "cdktf.out",
        **{**GIVEN, "IPYTHON_NOTEBOOK_REPOSITORY": URL, "TF_VAR_notebook_repository": URL},
    )
    leaks = [str(p) for p in outdir.rglob("*") if p.is_file() and TOKEN in p.read_text(errors="replace")]
    assert leaks == []
    return read_app(outdir)


def plan_of(app, state_dir, variables):
    with locked_state(state_dir) as state:
        plan = make_plan(app, workspace="default", stacks=None, state=state, variables=variables)
        state.save()
    return {c.name: c for pod in plan.pods for c in pod.containers}


def test_the_variable_reaches_viewer_and_engines_through_their_secrets(app, tmp_path):
    containers = plan_of(app, tmp_path, {"TF_VAR_user_password": PASSWORD, "TF_VAR_notebook_repository": URL})
    viewer = containers["science_nbviewer-ana-plan-0_ipython"]
    engine = containers["science_ipcluster-plan-engine-0_ipython"]
    controller = containers["science_ipcluster-plan-controller-0_ipython"]
    assert viewer.environment["IPYTHON_NOTEBOOK_REPOSITORY"] == URL
    assert engine.environment["IPYTHON_NOTEBOOK_REPOSITORY"] == URL
    assert "IPYTHON_NOTEBOOK_REPOSITORY" not in controller.environment


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({}, r"TF_VAR_notebook_repository is unset: \S+ declares the variable notebook_repository"),
        ({"TF_VAR_notebook_repository": ""}, r"TF_VAR_notebook_repository=<hidden: sensitive>: The repository URL must have 1 to 2048"),
    ],
    ids=["unset", "empty"],
)
def test_the_variable_is_required_and_checked_as_terraform_does(app, tmp_path, variables, message):
    with pytest.raises(UsageError, match=message):
        plan_of(app, tmp_path, {"TF_VAR_user_password": PASSWORD, **variables})
