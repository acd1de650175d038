"""``NotebookViewer``: a password-protected Jupyter server with a persistent workspace (the seed's
notebook templates), optionally linked to an ``EngineCluster``.

Construct ids (stable: Terraform addresses derive from them): ``user_label`` and
``cluster_label`` (random_string, only when generated), ``password`` (random_password, only when
generated), ``password_secret``, ``repository_secret`` (only for a repository given as a
Terraform token), ``workspace``, ``deployment``, ``service``, ``ingress``, ``network_policy``.
"""

from __future__ import annotations

from typing import Any, overload

from constructs import Construct

from . import metadata, naming
from .defaults import DEFAULT_REPOSITORY_UPDATE, SHARED_DIR, WORKSPACE_DIR
from .generated import generated_label, generated_password
from .labels import Label
from .linking import CLUSTER_KEY_SECRET_KEY, ClusterLink, IEngineCluster
from .network_policy import ingress_policy
from .objects import cluster_ip_service, secret, tls_ingress, workspace_claim
from .outputs import add_output, output_prefix_of, reserve_outputs
from .placement import Placement
from .props import MAX_DOMAIN_LENGTH  # noqa: F401 (kept importable from here)
from .props import NotebookViewerProps, props_doc, props_from
from .repository import repository_env
from .resources import Resources
from .security import PodSecurity
from .workload import Env, PodPlan, Probes, Volume, deployment, scratch_volumes

#: The outputs of a viewer: ``<prefix>_<name>``.
VIEWER_OUTPUTS = ("url", "password")
#: The key under which the password Secret holds the password.
PASSWORD_SECRET_KEY = "password"
#: The annotation cert-manager reads to issue the Ingress certificate.
CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"


class NotebookViewer(Construct):
    """A Jupyter notebook server for one user at ``https://nbviewer-<user>-<cluster>.<domain>/``.

    Take ``NotebookViewerProps`` (``NotebookViewer(scope, id, props)``) or the same names as
    keywords (``NotebookViewer(scope, id, domain=..., cluster=cluster)``). A cluster deployed
    elsewhere: ``cluster=EngineCluster.from_label(scope, id, cluster_label=...)``.

    The Deployment uses the ``Recreate`` strategy: the workspace volume is ReadWriteOnce, and a
    second pod during a rolling update could not mount it.
    """

    @overload
    def __init__(self, scope: Construct, id: str, props: NotebookViewerProps) -> None: ...

    @overload
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        domain: str,
        user_label: str | None = ...,
        cluster: IEngineCluster | ClusterLink | None = ...,
        cluster_label: str | None = ...,
        cluster_key_secret: str | None = ...,
        namespace: str = ...,
        password: str | None = ...,
        password_length: int = ...,
        notebook_repository: str | None = ...,
        repository_required: bool = ...,
        repository_update: str = ...,
        cluster_encryption: str | None = ...,
        shared_storage: bool = ...,
        port: int = ...,
        cull_idle_seconds: int = ...,
        ingress_class: str | None = ...,
        tls_secret_name: str | None = ...,
        cluster_issuer: str | None = ...,
        ingress_annotations: dict[str, str] | None = ...,
        ingress_body_size: str | None = ...,
        trusted_proxies: tuple[str, ...] = ...,
        workspace_size: str = ...,
        storage_class: str | None = ...,
        image: str = ...,
        image_pull_policy: str | None = ...,
        resources: Resources = ...,
        placement: Placement = ...,
        security: PodSecurity = ...,
        network_policy: bool = ...,
        wait_for_rollout: bool = ...,
        output_prefix: str | None = ...,
        outputs: bool = ...,
    ) -> None: ...

    def __init__(
        self, scope: Construct, id: str, props: NotebookViewerProps | None = None, **keywords: Any
    ) -> None:
        # Every prop is checked (by the props object) before the first child exists: a bad prop
        # leaves nothing behind.
        props = props_from(NotebookViewerProps, props, keywords)
        prefix = output_prefix_of(id, props.output_prefix)
        if props.outputs:
            reserve_outputs(scope, id, prefix, VIEWER_OUTPUTS)
        link, user, encryption = props.resolved.link, props.resolved.user, props.resolved.encryption
        annotations = dict(props.resolved.annotations)
        domain, namespace, password, password_length = (
            props.domain, props.namespace, props.password, props.password_length
        )
        notebook_repository, repository_required = props.notebook_repository, props.repository_required
        port, cull_idle_seconds, workspace_size, storage_class = (
            props.port, props.cull_idle_seconds, props.workspace_size, props.storage_class
        )
        ingress_class, tls_secret_name, cluster_issuer = (
            props.ingress_class, props.tls_secret_name, props.cluster_issuer
        )
        image, image_pull_policy, resources, security = (
            props.image, props.image_pull_policy, props.resources, props.security
        )
        network_policy, wait_for_rollout, outputs = props.network_policy, props.wait_for_rollout, props.outputs
        super().__init__(scope, id)
        self.props = props

        # The seed named every viewer after a cluster label, generated if none is given; a
        # viewer is linked to a cluster only when one is named.
        self.cluster_label: Label = link.label if link else generated_label(self, "cluster_label")
        self.user_label: Label = user or generated_label(self, "user_label")
        self.cluster_link = link
        self.namespace = namespace
        user_value, cluster_value = self.user_label.value, self.cluster_label.value
        self.name = naming.viewer_name(user_value, cluster_value)
        self.host = naming.viewer_host(user_value, cluster_value, domain)
        self.url = f"https://{self.host}/"

        labels = metadata.object_labels(
            metadata.VIEWER, self.name, cluster=cluster_value, user=user_value
        )
        selector = metadata.selector(metadata.VIEWER, self.name)
        self.password = (
            password
            if password is not None
            else generated_password(self, "password", length=password_length)
        )
        password_secret_name = naming.password_secret_name(self.name)
        self.password_secret = secret(
            self,
            "password_secret",
            name=password_secret_name,
            namespace=namespace,
            labels=labels,
            data={PASSWORD_SECRET_KEY: self.password},
        )
        claim_name = naming.workspace_claim_name(self.name)
        self.workspace = workspace_claim(
            self,
            "workspace",
            name=claim_name,
            namespace=namespace,
            labels=labels,
            size=workspace_size,
            storage_class=storage_class,
        )
        env = [
            Env("IPYTHON_CONTAINER_TYPE", "viewer"),
            Env("IPYTHON_USER_PASSWORD", secret=password_secret_name, key=PASSWORD_SECRET_KEY),
            Env("IPYTHON_VIEWER_PORT", str(port)),
            Env("IPYTHON_NOTEBOOK_DIR", WORKSPACE_DIR),
            Env("IPYTHON_CULL_IDLE_SECONDS", str(cull_idle_seconds)),
        ]
        env += repository_env(
            self,
            "repository_secret",
            notebook_repository,
            secret_name=naming.viewer_repository_secret_name(self.name),
            namespace=namespace,
            labels=labels,
        )
        if repository_required:
            env.append(Env("IPYTHON_REPOSITORY_REQUIRED", "true"))
        if props.repository_update != DEFAULT_REPOSITORY_UPDATE:
            env.append(Env("IPYTHON_REPOSITORY_UPDATE", props.repository_update))
        if props.trusted_proxies:
            env.append(Env("IPYTHON_TRUSTED_PROXIES", ",".join(props.trusted_proxies)))
        if link is not None:
            env += [
                Env("IPYTHON_CLUSTER_LABEL", cluster_value),
                Env("IPYTHON_CONTROLLER_HOST", link.controller_host),
                Env("IPYTHON_CLUSTER_KEY", secret=link.key_secret, key=CLUSTER_KEY_SECRET_KEY),
                Env("IPYTHON_CLUSTER_ENCRYPTION", encryption),
            ]
        volumes = [*scratch_volumes(), Volume("workspace", WORKSPACE_DIR, claim=claim_name)]
        #: The linked cluster's shared claim mounted at /home/ipython/shared (None: none).
        self.shared_claim_name = link.shared_claim if link is not None and props.shared_storage else None
        if self.shared_claim_name is not None:
            volumes.append(Volume("shared", SHARED_DIR, claim=self.shared_claim_name))
        self.deployment = deployment(
            self,
            "deployment",
            PodPlan(
                name=self.name,
                namespace=namespace,
                labels=labels,
                selector=selector,
                replicas=1,
                strategy="Recreate",
                container="ipython",
                image=image,
                image_pull_policy=image_pull_policy,
                env=env,
                ports=[("http", port)],
                volumes=volumes,
                resources=resources,
                security=security,
                wait_for_rollout=wait_for_rollout,
                probes=Probes(port=port, path="/api"),
                placement=props.placement,
            ),
        )
        self.service = cluster_ip_service(
            self,
            "service",
            name=self.name,
            namespace=namespace,
            labels=labels,
            selector=selector,
            ports=[("http", port)],
        )
        if cluster_issuer is not None:
            annotations[CLUSTER_ISSUER_ANNOTATION] = cluster_issuer
        self.ingress = tls_ingress(
            self,
            "ingress",
            name=self.name,
            namespace=namespace,
            labels=labels,
            annotations=annotations,
            host=self.host,
            tls_secret_name=tls_secret_name or naming.default_tls_secret_name(self.name),
            ingress_class=ingress_class,
            service=self.name,
            port=port,
        )
        if network_policy:
            ingress_policy(
                self,
                "network_policy",
                name=self.name,
                namespace=namespace,
                labels=labels,
                pods=selector,
                port=port,
            )
        if not outputs:
            return
        add_output(self, prefix, "url", self.url, description="The notebook viewer's address.")
        add_output(
            self,
            prefix,
            "password",
            self.password,
            description=f"The viewer password (sensitive: terraform output -raw {prefix}_password).",
            sensitive=True,
        )



NotebookViewer.__doc__ = f"{NotebookViewer.__doc__}\n{props_doc(NotebookViewerProps)}\n"
