"""``EngineCluster``: an ipyparallel controller and its engines (the seed's cluster templates).

Construct ids (stable: Terraform addresses derive from them): ``cluster_label`` (random_string,
only when generated), ``key`` (random_password), ``key_secret``, ``controller``,
``controller_service``, ``repository_secret`` (only for a repository given as a Terraform
token), ``shared_storage`` (only with shared storage), ``engines`` (the default group),
``engines_<group>`` (each other engine group), ``controller_network_policy``,
``engine_network_policy``, ``engine_network_policy_<group>``.
"""

from __future__ import annotations

from typing import Any, TypedDict, overload

from constructs import Construct

from . import labels, metadata, naming, validation
from .defaults import (
    CLUSTER_ENCRYPTIONS,
    CONTROLLER_FIRST_PORT,
    CONTROLLER_PORT_COUNT,
    DEFAULT_MAX_MESSAGE_MIB,
    DEFAULT_REPOSITORY_UPDATE,
    HEALTHCHECK_COMMAND,
    SHARED_DIR,
    WORKSPACE_DIR,
)
from .generated import generated_label, generated_password
from .labels import Label
from .linking import CLUSTER_KEY_SECRET_KEY, ClusterLink
from .network_policy import ingress_policy
from .objects import cluster_ip_service, secret, workspace_claim
from .outputs import add_output, output_prefix_of, reserve_outputs
from .placement import Placement
from .props import EngineClusterProps, EngineGroup, props_doc, props_from
from .repository import check_repository_prop, repository_env
from .resources import Resources
from .security import PodSecurity
from .workload import (
    Env,
    PodPlan,
    Probes,
    Volume,
    deployment,
    scratch_volumes,
)

#: The outputs of a cluster: ``<prefix>_<name>``.
CLUSTER_OUTPUTS = ("label", "controller_host", "key_secret")

CONTROLLER_PORTS = [
    (f"ipp-{index}", CONTROLLER_FIRST_PORT + index) for index in range(CONTROLLER_PORT_COUNT)
]


class _PodCommon(TypedDict):
    """The ``PodPlan`` fields the controller and the engines share."""

    namespace: str
    container: str
    image: str
    image_pull_policy: str | None
    security: PodSecurity
    wait_for_rollout: bool


class EngineCluster(Construct):
    """An ipyparallel cluster: one controller behind the Service ``ipcluster-<cluster>`` and N engines.

    Take ``EngineClusterProps`` (``EngineCluster(scope, id, props)``) or the same names as
    keywords (``EngineCluster(scope, id, engines=4)``). For a cluster deployed elsewhere (another
    stack, app or repository): ``EngineCluster.from_label(scope, id, cluster_label=...)``.

    The controller runs as one replica with the ``Recreate`` strategy: two controllers of one
    cluster would split the engines between them.
    """

    @classmethod
    def from_label(
        cls,
        scope: Construct,
        id: str,
        *,
        cluster_label: str,
        namespace: str | None = None,
        key_secret_name: str | None = None,
        cluster_encryption: str | None = None,
        shared_storage: bool = False,
        shared_claim_name: str | None = None,
    ) -> ImportedEngineCluster:
        """A cluster deployed elsewhere (another stack, app or repository), for ``NotebookViewer(
        cluster=...)``: its label (a DNS label), its namespace (None: the viewer's), its key
        Secret (None: ``ipcluster-<cluster>-key``; another name for a cluster not made by
        ``EngineCluster``), its encryption (None: the viewer's ``cluster_encryption`` prop,
        else "curve") and whether it has shared storage (``shared_storage=True``: viewers mount
        the claim ``ipcluster-<cluster>-shared``, or ``shared_claim_name``, at
        /home/ipython/shared). It creates no resources."""
        return ImportedEngineCluster(
            scope,
            id,
            cluster_label=cluster_label,
            namespace=namespace,
            key_secret_name=key_secret_name,
            cluster_encryption=cluster_encryption,
            shared_storage=shared_storage,
            shared_claim_name=shared_claim_name,
        )

    @overload
    def __init__(self, scope: Construct, id: str, props: EngineClusterProps) -> None: ...

    @overload
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster_label: str | None = ...,
        namespace: str = ...,
        engines: int = ...,
        engine_groups: tuple[EngineGroup, ...] = ...,
        notebook_repository: str | None = ...,
        repository_required: bool = ...,
        repository_update: str = ...,
        cluster_encryption: str = ...,
        max_message_mib: int = ...,
        image: str = ...,
        image_pull_policy: str | None = ...,
        key_length: int = ...,
        controller_resources: Resources = ...,
        engine_resources: Resources = ...,
        controller_placement: Placement = ...,
        engine_placement: Placement = ...,
        shared_storage_size: str | None = ...,
        shared_storage_class: str | None = ...,
        security: PodSecurity = ...,
        network_policies: bool = ...,
        wait_for_rollout: bool = ...,
        output_prefix: str | None = ...,
        outputs: bool = ...,
    ) -> None: ...

    def __init__(
        self, scope: Construct, id: str, props: EngineClusterProps | None = None, **keywords: Any
    ) -> None:
        # Every prop is checked (by the props object) before the first child exists: a bad prop
        # leaves nothing behind.
        props = props_from(EngineClusterProps, props, keywords)
        prefix = output_prefix_of(id, props.output_prefix)
        if props.outputs:
            reserve_outputs(scope, id, prefix, CLUSTER_OUTPUTS)
        given = props.given_label
        namespace, engines, image, image_pull_policy = (
            props.namespace, props.engines, props.image, props.image_pull_policy
        )
        notebook_repository, repository_required = props.notebook_repository, props.repository_required
        cluster_encryption, key_length, security = props.cluster_encryption, props.key_length, props.security
        controller_resources, engine_resources = props.controller_resources, props.engine_resources
        wait_for_rollout, network_policies, outputs = props.wait_for_rollout, props.network_policies, props.outputs
        super().__init__(scope, id)

        self.props = props
        self.namespace = namespace
        self.label: Label = given or generated_label(self, "cluster_label")
        cluster = self.label.value
        self.cluster_label = cluster
        self.controller_service_name = naming.controller_service_name(cluster)
        self.key_secret_name = naming.cluster_key_secret_name(cluster)
        self.cluster_encryption = cluster_encryption
        #: The shared ReadWriteMany claim's name (None: no shared storage).
        self.shared_claim_name = (
            naming.shared_claim_name(cluster) if props.shared_storage_size is not None else None
        )
        self.link = ClusterLink(
            label=self.label, namespace=namespace, encryption=cluster_encryption, shared_claim=self.shared_claim_name
        )

        key = generated_password(self, "key", length=key_length)
        controller_labels = metadata.object_labels(
            metadata.CONTROLLER, self.controller_service_name, cluster=cluster
        )
        engine_labels = metadata.object_labels(
            metadata.ENGINE, self.controller_service_name, cluster=cluster
        )
        self.key_secret = secret(
            self,
            "key_secret",
            name=self.key_secret_name,
            namespace=namespace,
            labels=controller_labels,
            data={CLUSTER_KEY_SECRET_KEY: key},
        )

        cluster_env = [
            Env("IPYTHON_CLUSTER_LABEL", cluster),
            Env("IPYTHON_CLUSTER_KEY", secret=self.key_secret_name, key=CLUSTER_KEY_SECRET_KEY),
            Env("IPYTHON_CONTROLLER_HOST", self.controller_service_name),
            Env("IPYTHON_CONTROLLER_PORT", str(CONTROLLER_FIRST_PORT)),
            Env("IPYTHON_CLUSTER_ENCRYPTION", cluster_encryption),
        ]
        common = _PodCommon(
            namespace=namespace,
            container="ipython",
            image=image,
            image_pull_policy=image_pull_policy,
            security=security,
            wait_for_rollout=wait_for_rollout,
        )
        max_message_env = (
            [] if props.max_message_mib == DEFAULT_MAX_MESSAGE_MIB
            else [Env("IPYTHON_MAX_MESSAGE_MIB", str(props.max_message_mib))]
        )
        controller_selector = metadata.selector(metadata.CONTROLLER, self.controller_service_name)
        self.controller = deployment(
            self,
            "controller",
            PodPlan(
                name=naming.controller_deployment_name(cluster),
                labels=controller_labels,
                selector=controller_selector,
                replicas=1,
                strategy="Recreate",
                env=[Env("IPYTHON_CONTAINER_TYPE", "controller"), *cluster_env, *max_message_env],
                ports=CONTROLLER_PORTS,
                volumes=scratch_volumes(),
                resources=controller_resources,
                probes=Probes(port=CONTROLLER_FIRST_PORT),
                placement=props.controller_placement,
                **common,
            ),
        )
        self.controller_service = cluster_ip_service(
            self,
            "controller_service",
            name=self.controller_service_name,
            namespace=namespace,
            labels=controller_labels,
            selector=controller_selector,
            ports=CONTROLLER_PORTS,
        )
        engine_selector = metadata.selector(metadata.ENGINE, self.controller_service_name)
        engine_repository_env = repository_env(
            self,
            "repository_secret",
            notebook_repository,
            secret_name=naming.cluster_repository_secret_name(cluster),
            namespace=namespace,
            labels=engine_labels,
        )
        if repository_required:
            engine_repository_env.append(Env("IPYTHON_REPOSITORY_REQUIRED", "true"))
        if props.repository_update != DEFAULT_REPOSITORY_UPDATE:
            engine_repository_env.append(Env("IPYTHON_REPOSITORY_UPDATE", props.repository_update))
        engine_volumes = [*scratch_volumes(), Volume("workspace", WORKSPACE_DIR)]
        self.shared_storage = None
        if props.shared_storage_size is not None and self.shared_claim_name is not None:
            self.shared_storage = workspace_claim(
                self,
                "shared_storage",
                name=self.shared_claim_name,
                namespace=namespace,
                labels=controller_labels,
                size=props.shared_storage_size,
                storage_class=props.shared_storage_class,
                access_mode="ReadWriteMany",
            )
            engine_volumes.append(Volume("shared", SHARED_DIR, claim=self.shared_claim_name))
        engine_env = [
            Env("IPYTHON_CONTAINER_TYPE", "engine"),
            *cluster_env,
            Env("IPYTHON_NOTEBOOK_DIR", WORKSPACE_DIR),
            *engine_repository_env,
        ]
        # An engine serves no port: the image's healthcheck asks its supervisor (see
        # image/ipython_roles/healthcheck.py) whether ipengine is alive, registered with the
        # current controller and making progress; waiting for an absent controller is healthy,
        # so that engines are not restarted in a loop while it is away.
        engine_probes = Probes(command=HEALTHCHECK_COMMAND)
        self.engines = deployment(
            self,
            "engines",
            PodPlan(
                name=naming.engine_deployment_name(cluster),
                labels=engine_labels,
                selector=engine_selector,
                replicas=engines,
                strategy="RollingUpdate",
                env=engine_env,
                ports=[],
                volumes=engine_volumes,
                resources=engine_resources,
                probes=engine_probes,
                placement=props.engine_placement,
                **common,
            ),
        )
        # Each other group: its own Deployment, with the default group's environment plus its
        # name. Its pods' instance label is the group's Deployment (and they carry the group
        # label), so that no two Deployments select the same pods; the default group's selector
        # stays as it was.
        group_plans: list[tuple[EngineGroup, str, dict[str, str], dict[str, str]]] = []
        self.engine_groups: dict[str, Any] = {}
        for group in props.engine_groups:
            group_name = naming.engine_group_deployment_name(cluster, group.name)
            group_labels = {
                **metadata.object_labels(metadata.ENGINE, group_name, cluster=cluster),
                metadata.ENGINE_GROUP: group.name,
            }
            group_selector = metadata.selector(metadata.ENGINE, group_name)
            group_plans.append((group, group_name, group_labels, group_selector))
            self.engine_groups[group.name] = deployment(
                self,
                f"engines_{group.name}",
                PodPlan(
                    name=group_name,
                    labels=group_labels,
                    selector=group_selector,
                    replicas=group.engines,
                    strategy="RollingUpdate",
                    env=[*engine_env, Env("IPYTHON_ENGINE_GROUP", group.name)],
                    ports=[],
                    volumes=engine_volumes,
                    resources=group.resources,
                    probes=engine_probes,
                    placement=group.placement,
                    **common,
                ),
            )
        if network_policies:
            cluster_pods = {metadata.CLUSTER: cluster}
            ingress_policy(
                self,
                "controller_network_policy",
                name=naming.controller_deployment_name(cluster),
                namespace=namespace,
                labels=controller_labels,
                pods=controller_selector,
                port=CONTROLLER_FIRST_PORT,
                end_port=CONTROLLER_FIRST_PORT + CONTROLLER_PORT_COUNT - 1,
                from_pods=cluster_pods,
            )
            ingress_policy(
                self,
                "engine_network_policy",
                name=naming.engine_deployment_name(cluster),
                namespace=namespace,
                labels=engine_labels,
                pods=engine_selector,
                from_pods=cluster_pods,
            )
            for group, group_name, group_labels, group_selector in group_plans:
                ingress_policy(
                    self,
                    f"engine_network_policy_{group.name}",
                    name=group_name,
                    namespace=namespace,
                    labels=group_labels,
                    pods=group_selector,
                    from_pods=cluster_pods,
                )
        if not outputs:
            return
        add_output(self, prefix, "label", cluster, description="The cluster label.")
        add_output(
            self,
            prefix,
            "controller_host",
            self.controller_service_name,
            description="The controller's Service: IPYTHON_CONTROLLER_HOST of linked viewers.",
        )
        add_output(
            self,
            prefix,
            "key_secret",
            self.key_secret_name,
            description="The Secret holding the cluster key (key 'key').",
        )


EngineCluster.__doc__ = f"{EngineCluster.__doc__}\n{props_doc(EngineClusterProps)}\n"


class ImportedEngineCluster(Construct):
    """A cluster deployed elsewhere, known by its label: made by ``EngineCluster.from_label``.

    It creates nothing; a viewer given it as ``cluster=`` links to the controller Service
    ``ipcluster-<cluster>`` and the key Secret (``ipcluster-<cluster>-key`` unless named) in its
    own namespace, and the pod waits until the key Secret exists.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster_label: str,
        namespace: str | None = None,
        key_secret_name: str | None = None,
        cluster_encryption: str | None = None,
        shared_storage: bool = False,
        shared_claim_name: str | None = None,
    ) -> None:
        label = labels.cluster_label("cluster_label", cluster_label)
        if namespace is not None:
            validation.dns_label("namespace", namespace)
        validation.optional_dns_subdomain("key_secret_name", key_secret_name)
        if cluster_encryption is not None:
            validation.one_of("cluster_encryption", cluster_encryption, CLUSTER_ENCRYPTIONS)
        validation.boolean("shared_storage", shared_storage)
        validation.optional_dns_subdomain("shared_claim_name", shared_claim_name)
        if shared_claim_name is not None and not shared_storage:
            raise validation.InvalidValue(
                "shared_claim_name", shared_claim_name, "None unless shared_storage is True"
            )
        super().__init__(scope, id)
        self.label = label
        self.cluster_label = label.value
        self.namespace = namespace
        #: The shared claim's name (None: the cluster has no shared storage).
        self.shared_claim_name = (
            (shared_claim_name or naming.shared_claim_name(label.value)) if shared_storage else None
        )
        self.link = ClusterLink(
            label=label, namespace=namespace, key_secret_name=key_secret_name, encryption=cluster_encryption,
            shared_claim=self.shared_claim_name,
        )
        self.controller_service_name = self.link.controller_host
        self.key_secret_name = self.link.key_secret
        self.cluster_encryption = cluster_encryption
