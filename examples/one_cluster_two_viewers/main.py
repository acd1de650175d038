"""One engine cluster shared by two notebook viewers: the library used the way other
infrastructure code uses it.

    cd examples/one_cluster_two_viewers
    cdktf synth                      # or: python main.py
    export TF_VAR_bob_password='a password bob chose'
    cdktf deploy team-stack

- ``team-stack``: the cluster ``team`` (4 engines) and the viewers of alice (generated password)
  and bob (a password he chose, given at deploy time as TF_VAR_bob_password), both linked to the
  cluster object.
- ``carol-stack``: a viewer in another stack that links to the same cluster by its label alone
  (controller ``ipcluster-team``, key Secret ``ipcluster-team-key``).
"""

from __future__ import annotations

from cdktf import App, TerraformStack
from ipython_k8s import (
    EngineCluster,
    NotebookViewer,
    add_kubernetes_provider,
    password_variable,
)

DOMAIN = "notebooks.example.org"


def build(outdir: str | None = None) -> App:
    app = App(outdir=outdir) if outdir is not None else App()

    team = TerraformStack(app, "team-stack")
    add_kubernetes_provider(team, config_path="~/.kube/config")
    cluster = EngineCluster(team, "cluster", cluster_label="team", engines=4)
    NotebookViewer(team, "alice", domain=DOMAIN, user_label="alice", cluster=cluster)
    NotebookViewer(
        team,
        "bob",
        domain=DOMAIN,
        user_label="bob",
        cluster=cluster,
        password=password_variable(team, "bob_password").string_value,
    )

    carol = TerraformStack(app, "carol-stack")
    add_kubernetes_provider(carol, config_path="~/.kube/config")
    team_cluster = EngineCluster.from_label(carol, "team", cluster_label="team")  # deployed by team-stack
    NotebookViewer(carol, "carol", domain=DOMAIN, user_label="carol", cluster=team_cluster)
    return app


if __name__ == "__main__":
    build().synth()
