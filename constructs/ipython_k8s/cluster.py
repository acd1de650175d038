"""``EngineCluster``: an ipyparallel controller and its engines (the seed's cluster templates).

Construct ids (stable: Terraform addresses derive from them): ``cluster_label`` (random_string,
only when generated), ``key`` (random_password), ``key_secret``, ``controller``,
``controller_service``, ``repository_secret`` (only for a repository given as a Terraform
token), ``engines``, ``controller_network_policy``, ``engine_network_policy``.
"""

from __future__ import annotations

from typing import TypedDict

from constructs import Construct

from . import labels, metadata, naming, validation
from .defaults import (
    CONTROLLER_FIRST_PORT,
    CLUSTER_ENCRYPTIONS,
    CONTROLLER_PORT_COUNT,
    DEFAULT_CLUSTER_ENCRYPTION,
    DEFAULT_CLUSTER_KEY_LENGTH,
    DEFAULT_ENGINES,
    DEFAULT_IMAGE,
    DEFAULT_IMAGE_PULL_POLICY,
    DEFAULT_NAMESPACE,
    HEALTHCHECK_COMMAND,
    MAX_ENGINES,
    MIN_CLUSTER_KEY_LENGTH,
    WORKSPACE_DIR,
)
from .generated import generated_label, generated_password
from .labels import Label
from .linking import CLUSTER_KEY_SECRET_KEY, ClusterLink
from .network_policy import ingress_policy
from .objects import cluster_ip_service, secret
from .outputs import add_output, reserve_outputs
from .repository import check_repository_prop, repository_env
from .resources import CONTROLLER_RESOURCES, ENGINE_RESOURCES, Resources
from .security import RESTRICTED, PodSecurity
from .workload import (
    Env,
    PodPlan,
    Probes,
    Volume,
    check_workload_props,
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

    Props (keyword-only; each default is the behaviour you get):

    - ``cluster_label``: the seed's cluster label, a DNS label of at most 42 characters (so that
      ``ipcluster-<cluster>-controller`` fits in 63). None: a generated 5-character
      ``random_string``; names are then Terraform interpolations, known at plan time.
    - ``namespace`` ("ipython"): an existing namespace, not created here (it is shared: see
      ``defaults.DEFAULT_NAMESPACE``); viewers that use the cluster live there too.
    - ``engines`` (2): engine replicas, 0 to 1000; change it and deploy again to scale.
    - ``notebook_repository`` (None): a git URL (``URL#ref`` for a branch or tag) cloned into each
      engine's workspace, whose requirements.txt is installed; None: an empty workspace. A URL
      with credentials must be a Terraform token (``repository_variable(stack).string_value``):
      it is kept in the Secret ``ipcluster-<cluster>-repo`` and reaches the engines by reference.
    - ``repository_required`` (False): True makes an engine refuse to start when the repository
      cannot be cloned or its requirements.txt installed (IPYTHON_REPOSITORY_REQUIRED); False
      starts it with an empty workspace. Only with ``notebook_repository``.
    - ``cluster_encryption`` ("curve"): "curve" encrypts the controller's sockets with CurveZMQ
      (key pair derived from the cluster key); "none" leaves plain TCP, messages only signed
      (IPYTHON_CLUSTER_ENCRYPTION). Viewers given this cluster object follow it.
    - ``image`` (the project's image), ``image_pull_policy`` (None: Kubernetes' default,
      IfNotPresent for a version tag, which works with ``kind load``; "Always" or "Never").
    - ``key_length`` (48, at least 32): length of the generated key that signs the cluster's
      messages, kept in the Secret ``ipcluster-<cluster>-key`` (key ``key``).
    - ``controller_resources`` / ``engine_resources``: requests and limits (see ``resources``).
    - ``security`` (``RESTRICTED``): pod and container security settings (see ``security``).
    - ``network_policies`` (True): controller reachable only from pods with the cluster label,
      engines only from their cluster. False: no NetworkPolicy objects.
    - ``wait_for_rollout`` (True): ``deploy`` waits until the Deployments are available.
    - ``output_prefix`` (the construct id): outputs ``<prefix>_label``,
      ``<prefix>_controller_host`` and ``<prefix>_key_secret``. Two constructs of this library
      in one stack may not make outputs of the same name (``OutputClash``, naming both).
    - ``outputs`` (True): False makes no outputs (a construct wrapping the cluster makes its own).

    The controller runs as one replica with the ``Recreate`` strategy: two controllers of one
    cluster would split the engines between them.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster_label: str | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        engines: int = DEFAULT_ENGINES,
        notebook_repository: str | None = None,
        repository_required: bool = False,
        cluster_encryption: str = DEFAULT_CLUSTER_ENCRYPTION,
        image: str = DEFAULT_IMAGE,
        image_pull_policy: str | None = DEFAULT_IMAGE_PULL_POLICY,
        key_length: int = DEFAULT_CLUSTER_KEY_LENGTH,
        controller_resources: Resources = CONTROLLER_RESOURCES,
        engine_resources: Resources = ENGINE_RESOURCES,
        security: PodSecurity = RESTRICTED,
        network_policies: bool = True,
        wait_for_rollout: bool = True,
        output_prefix: str | None = None,
        outputs: bool = True,
    ) -> None:
        # Every prop is checked before the first child exists: a bad prop leaves nothing behind.
        prefix = check_workload_props(
            id=id,
            namespace=namespace,
            image=image,
            image_pull_policy=image_pull_policy,
            security=security,
            wait_for_rollout=wait_for_rollout,
            output_prefix=output_prefix,
        )
        validation.integer("engines", engines, minimum=0, maximum=MAX_ENGINES)
        check_repository_prop("notebook_repository", notebook_repository)
        validation.repository_required("repository_required", repository_required, notebook_repository)
        validation.one_of("cluster_encryption", cluster_encryption, CLUSTER_ENCRYPTIONS)
        validation.integer("key_length", key_length, minimum=MIN_CLUSTER_KEY_LENGTH, maximum=256)
        validation.instance("controller_resources", controller_resources, Resources, "a Resources")
        validation.instance("engine_resources", engine_resources, Resources, "a Resources")
        validation.boolean("network_policies", network_policies)
        given = None if cluster_label is None else labels.cluster_label("cluster_label", cluster_label)
        validation.boolean("outputs", outputs)
        if outputs:
            reserve_outputs(scope, id, prefix, CLUSTER_OUTPUTS)
        super().__init__(scope, id)

        self.namespace = namespace
        self.label: Label = given or generated_label(self, "cluster_label")
        cluster = self.label.value
        self.cluster_label = cluster
        self.controller_service_name = naming.controller_service_name(cluster)
        self.key_secret_name = naming.cluster_key_secret_name(cluster)
        self.cluster_encryption = cluster_encryption
        self.link = ClusterLink(label=self.label, namespace=namespace, encryption=cluster_encryption)

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
                env=[Env("IPYTHON_CONTAINER_TYPE", "controller"), *cluster_env],
                ports=CONTROLLER_PORTS,
                volumes=scratch_volumes(),
                resources=controller_resources,
                probes=Probes(port=CONTROLLER_FIRST_PORT),
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
        self.engines = deployment(
            self,
            "engines",
            PodPlan(
                name=naming.engine_deployment_name(cluster),
                labels=engine_labels,
                selector=engine_selector,
                replicas=engines,
                strategy="RollingUpdate",
                env=[
                    Env("IPYTHON_CONTAINER_TYPE", "engine"),
                    *cluster_env,
                    Env("IPYTHON_NOTEBOOK_DIR", WORKSPACE_DIR),
                    *engine_repository_env,
                ],
                ports=[],
                volumes=[*scratch_volumes(), Volume("workspace", WORKSPACE_DIR)],
                resources=engine_resources,
                # An engine serves no port: the image's healthcheck asks its supervisor (see
                # image/ipython_roles/healthcheck.py) whether ipengine is alive, registered with
                # the current controller and making progress; waiting for an absent controller
                # is healthy, so that engines are not restarted in a loop while it is away.
                probes=Probes(command=HEALTHCHECK_COMMAND),
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
