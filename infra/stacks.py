"""The two stacks of the app, the Kubernetes successors of the seed's four templates.

- ``cluster-stack``: an ``EngineCluster`` (the seed's cluster-workspace / cluster-repository).
- ``viewer-stack``: a ``NotebookViewer`` linked to that cluster (notebook-workspace /
  notebook-repository).

WHY a cross-stack reference: with ``IPYTHON_CLUSTER_LABEL`` unset the cluster-stack generates
the label at its first apply, and the viewer must use the same one. The viewer is then given
the ``EngineCluster`` object itself; cdktf turns the reference into an output of cluster-stack
and a ``terraform_remote_state`` data source in viewer-stack that reads cluster-stack's state,
and records that viewer-stack depends on cluster-stack (deploy both: ``cdktf deploy
cluster-stack viewer-stack``). With the label set, the viewer links by name alone (controller
``ipcluster-<cluster>``, key Secret ``ipcluster-<cluster>-key``) and the stacks deploy
independently.

State: a local backend per stack, ``terraform.<stack>.tfstate`` at the project root (given
relative to the stack's working directory cdktf.out/stacks/<stack>, so that the synthesized
files do not depend on where the checkout lives), and ``terraform.<stack>.tfstate.d/<name>/``
for Terraform workspaces (``TF_WORKSPACE=<name>``: one more viewer or cluster from the same
stack). Protect the state: it holds the generated secrets.
"""

from __future__ import annotations

from dataclasses import replace
from cdktf import App, LocalBackend, TerraformStack
from ipython_k8s import (
    EngineCluster,
    ImportedEngineCluster,
    NotebookViewer,
    add_kubernetes_provider,
    password_variable,
    repository_variable,
)
from ipython_k8s.provider_import import kubernetes

from constructs import Construct

from .parameters import PASSWORD_VARIABLE, REPOSITORY_VARIABLE, Settings

VIEWER_STACK = "viewer-stack"
CLUSTER_STACK = "cluster-stack"


def _repository_token(stack: TerraformStack, settings: Settings) -> dict[str, str]:
    """The sensitive variable's token for a repository URL with credentials (TF_VAR_notebook_repository;
    the constructs keep it in a Secret), as the props' keyword; nothing for a plain URL."""
    if not settings.repository_variable:
        return {}
    return {"notebook_repository": repository_variable(stack, REPOSITORY_VARIABLE).string_value}


def _common(stack: TerraformStack, name: str, settings: Settings) -> None:
    LocalBackend(
        stack,
        path=f"../../../terraform.{name}.tfstate",
        workspace_dir=f"../../../terraform.{name}.tfstate.d",
    )
    if len(settings.kube_config_paths) == 1:
        add_kubernetes_provider(
            stack, config_path=settings.kube_config_paths[0], config_context=settings.kube_context
        )
    else:
        kubernetes("provider").KubernetesProvider(
            stack,
            "kubernetes",
            config_paths=list(settings.kube_config_paths),
            config_context=settings.kube_context,
        )


class ClusterStack(TerraformStack):
    def __init__(self, scope: Construct, name: str, settings: Settings) -> None:
        super().__init__(scope, name)
        _common(self, name, settings)
        self.cluster = EngineCluster(self, "cluster", replace(settings.cluster, **_repository_token(self, settings)))


class ViewerStack(TerraformStack):
    def __init__(
        self, scope: Construct, name: str, settings: Settings, *, cluster: EngineCluster | None
    ) -> None:
        super().__init__(scope, name)
        _common(self, name, settings)
        props = settings.viewer
        linked: EngineCluster | ImportedEngineCluster | None = cluster
        if linked is None and props.cluster_label is not None:
            # The cluster of cluster-stack known by its label (IPYTHON_CLUSTER_LABEL); whether it
            # has shared storage is IPYTHON_SHARED_STORAGE, given to both stacks.
            linked = EngineCluster.from_label(
                self,
                "cluster",
                cluster_label=props.cluster_label,
                shared_storage=settings.cluster.shared_storage_size is not None,
            )
        props = replace(
            props,
            **_repository_token(self, settings),
            cluster=linked,
            cluster_label=None,
            password=password_variable(self, PASSWORD_VARIABLE).string_value
            if settings.password_chosen
            else None,
        )
        self.viewer = NotebookViewer(self, "viewer", props)


def build_app(settings: Settings, *, outdir: str | None = None) -> App:
    """Both stacks in one app; the viewer reads a generated cluster label across stacks."""
    app = App(outdir=outdir) if outdir is not None else App()
    cluster_stack = ClusterStack(app, CLUSTER_STACK, settings)
    ViewerStack(
        app,
        VIEWER_STACK,
        settings,
        cluster=cluster_stack.cluster if settings.cluster_label is None else None,
    )
    return app
