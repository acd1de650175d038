"""``NotebookViewer``: a password-protected Jupyter server with a persistent workspace (the seed's
notebook templates), optionally linked to an ``EngineCluster``.

Construct ids (stable: Terraform addresses derive from them): ``user_label`` and
``cluster_label`` (random_string, only when generated), ``password`` (random_password, only when
generated), ``password_secret``, ``repository_secret`` (only for a repository given as a
Terraform token), ``workspace``, ``deployment``, ``service``, ``ingress``, ``network_policy``.
"""

from __future__ import annotations

from constructs import Construct

from . import metadata, naming, validation
from .cluster import EngineCluster
from .defaults import (
    CLUSTER_ENCRYPTIONS,
    DEFAULT_CLUSTER_ENCRYPTION,
    DEFAULT_CULL_IDLE_SECONDS,
    DEFAULT_IMAGE,
    DEFAULT_IMAGE_PULL_POLICY,
    DEFAULT_NAMESPACE,
    DEFAULT_PASSWORD_LENGTH,
    DEFAULT_VIEWER_PORT,
    DEFAULT_WORKSPACE_SIZE,
    MAX_CULL_IDLE_SECONDS,
    MIN_GENERATED_PASSWORD_LENGTH,
    WORKSPACE_DIR,
)
from .generated import generated_label, generated_password
from .labels import Label, viewer_labels
from .linking import CLUSTER_KEY_SECRET_KEY, ClusterLink
from .network_policy import ingress_policy
from .objects import cluster_ip_service, secret, tls_ingress, workspace_claim
from .outputs import add_output, reserve_outputs
from .passwords import check_user_password
from .repository import check_repository_prop, repository_env
from .resources import VIEWER_RESOURCES, Resources
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

#: The outputs of a viewer: ``<prefix>_<name>``.
VIEWER_OUTPUTS = ("url", "password")
#: The key under which the password Secret holds the password.
PASSWORD_SECRET_KEY = "password"
#: The annotation cert-manager reads to issue the Ingress certificate.
CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"
#: Longest domain: the host's first label (``nbviewer-<user>-<cluster>``) is at most 53 characters.
MAX_DOMAIN_LENGTH = 253 - 64


class NotebookViewer(Construct):
    """A Jupyter notebook server for one user at ``https://nbviewer-<user>-<cluster>.<domain>/``.

    Props (keyword-only; each default is the behaviour you get):

    - ``domain`` (required): DNS domain under which the Ingress host is created.
    - ``user_label``: the seed's user label, a DNS label. None: a generated 5-character
      ``random_string`` (names are then Terraform interpolations, known at plan time).
    - ``cluster``: an ``EngineCluster`` (same or another stack of this app) or a ``ClusterLink``
      to use; the viewer gets ``IPYTHON_CLUSTER_LABEL``, ``IPYTHON_CONTROLLER_HOST`` and
      ``IPYTHON_CLUSTER_KEY`` (by Secret reference), so ``ipyparallel.Client()`` connects to it.
    - ``cluster_label``: the label of a cluster deployed elsewhere (another stack, app or
      repository), in the same namespace: the controller host and key Secret follow from it.
      The pod waits until the key Secret exists. Exclusive with ``cluster``. Neither given: a
      generated cluster label names the viewer and no cluster is linked. The user and cluster
      labels together have at most 43 characters (``nbviewer-<user>-<cluster>-workspace`` fits 63).
    - ``cluster_key_secret`` (None: ``ipcluster-<cluster>-key``): the key Secret's name, only with
      ``cluster_label``, for clusters that were not made by ``EngineCluster``.
    - ``namespace`` ("ipython"): an existing namespace (not created here: it is shared).
    - ``password`` (None): None generates a 24-character ``random_password``. A password you chose
      must be a Terraform token, e.g. ``password_variable(stack).string_value``: a literal string
      would be written into cdk.tf.json and is refused. Either way it is stored in the Secret
      ``<name>-password`` and readable as the sensitive output ``<prefix>_password``.
    - ``password_length`` (24, at least 16): length of a generated password.
    - ``notebook_repository`` (None): a git URL (``URL#ref`` for a branch or tag) cloned into an
      empty workspace at start, its requirements.txt installed; None: an empty workspace. A URL
      with credentials (``https://TOKEN@host/x.git``) must be a Terraform token, e.g.
      ``repository_variable(stack).string_value``: it is kept in the Secret ``<name>-repo`` and
      reaches the pod by reference (a literal would be written into cdk.tf.json and is refused).
    - ``repository_required`` (False): True makes the viewer refuse to start when the repository
      cannot be cloned or its requirements.txt installed (IPYTHON_REPOSITORY_REQUIRED); False
      starts it with an empty workspace. Only with ``notebook_repository``.
    - ``cluster_encryption`` (None: the linked ``EngineCluster``'s, else "curve"): how the linked
      cluster's controller is reached, "curve" (CurveZMQ) or "none"; it must be the cluster's
      choice (IPYTHON_CLUSTER_ENCRYPTION). Set it for a cluster linked by ``cluster_label`` or a
      ``ClusterLink`` that was deployed with "none"; given with an ``EngineCluster`` it must
      match that cluster's. Only for a viewer linked to a cluster.
    - ``port`` (8888): the server's port in the pod.
    - ``cull_idle_seconds`` (3600): idle kernels are shut down after this many seconds; 0 never.
    - ``ingress_class`` (None: the cluster's default IngressClass).
    - ``tls_secret_name`` (None: ``<name>-tls``): the Secret with the certificate for the host.
    - ``cluster_issuer`` (None): a cert-manager ClusterIssuer that creates that Secret; None: you
      (or the ingress controller's default certificate) provide it.
    - ``ingress_annotations`` ({}): extra Ingress annotations (e.g. for your ingress controller).
    - ``workspace_size`` ("1Gi") and ``storage_class`` (None: the cluster's default): the
      workspace PersistentVolumeClaim ``<name>-workspace`` mounted at /home/ipython/work. It is a
      resource of its own, so re-deploying the Deployment keeps the notebooks.
    - ``image`` (the project's image), ``image_pull_policy`` (None: Kubernetes' default,
      IfNotPresent for a version tag, which works with ``kind load``; "Always" or "Never").
    - ``resources`` (``VIEWER_RESOURCES``), ``security`` (``RESTRICTED``).
    - ``network_policy`` (True): only the viewer's port is reachable. False: no NetworkPolicy.
    - ``wait_for_rollout`` (True): ``deploy`` waits until the Deployment is available.
    - ``output_prefix`` (the construct id): outputs ``<prefix>_url`` and ``<prefix>_password``.
      Two constructs of this library in one stack may not make outputs of the same name
      (``OutputClash``, naming both).
    - ``outputs`` (True): False makes no outputs (a construct wrapping the viewer makes its own).

    The Deployment uses the ``Recreate`` strategy: the workspace volume is ReadWriteOnce, and a
    second pod during a rolling update could not mount it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        domain: str,
        user_label: str | None = None,
        cluster: EngineCluster | ClusterLink | None = None,
        cluster_label: str | None = None,
        cluster_key_secret: str | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        password: str | None = None,
        password_length: int = DEFAULT_PASSWORD_LENGTH,
        notebook_repository: str | None = None,
        repository_required: bool = False,
        cluster_encryption: str | None = None,
        port: int = DEFAULT_VIEWER_PORT,
        cull_idle_seconds: int = DEFAULT_CULL_IDLE_SECONDS,
        ingress_class: str | None = None,
        tls_secret_name: str | None = None,
        cluster_issuer: str | None = None,
        ingress_annotations: dict[str, str] | None = None,
        workspace_size: str = DEFAULT_WORKSPACE_SIZE,
        storage_class: str | None = None,
        image: str = DEFAULT_IMAGE,
        image_pull_policy: str | None = DEFAULT_IMAGE_PULL_POLICY,
        resources: Resources = VIEWER_RESOURCES,
        security: PodSecurity = RESTRICTED,
        network_policy: bool = True,
        wait_for_rollout: bool = True,
        output_prefix: str | None = None,
        outputs: bool = True,
    ) -> None:
        # Every prop is checked before the first child exists: a bad prop leaves nothing behind.
        validation.dns_subdomain("domain", domain, max_length=MAX_DOMAIN_LENGTH)
        prefix = check_workload_props(
            id=id,
            namespace=namespace,
            image=image,
            image_pull_policy=image_pull_policy,
            security=security,
            wait_for_rollout=wait_for_rollout,
            output_prefix=output_prefix,
        )
        _check_password(password)
        validation.integer(
            "password_length", password_length, minimum=MIN_GENERATED_PASSWORD_LENGTH, maximum=128
        )
        check_repository_prop("notebook_repository", notebook_repository)
        validation.repository_required("repository_required", repository_required, notebook_repository)
        if cluster_encryption is not None:
            validation.one_of("cluster_encryption", cluster_encryption, CLUSTER_ENCRYPTIONS)
        validation.port("port", port)
        validation.integer(
            "cull_idle_seconds", cull_idle_seconds, minimum=0, maximum=MAX_CULL_IDLE_SECONDS
        )
        validation.optional_dns_subdomain("ingress_class", ingress_class)
        validation.optional_dns_subdomain("tls_secret_name", tls_secret_name)
        validation.optional_dns_subdomain("cluster_issuer", cluster_issuer)
        annotations = validation.string_map(
            "ingress_annotations", {} if ingress_annotations is None else ingress_annotations
        )
        validation.quantity("workspace_size", workspace_size)
        validation.optional_dns_subdomain("storage_class", storage_class)
        validation.instance("resources", resources, Resources, "a Resources")
        validation.boolean("network_policy", network_policy)
        link = _cluster_link(cluster, cluster_label, cluster_key_secret, namespace)
        user, given_cluster = viewer_labels(
            user_prop="user_label",
            user=user_label,
            cluster_prop="cluster" if link else "cluster_label",
            cluster=link.label if link else cluster_label,
        )
        if link is None and given_cluster is not None:
            link = ClusterLink(
                label=given_cluster,
                key_secret_name=validation.optional_dns_subdomain(
                    "cluster_key_secret", cluster_key_secret
                ),
            )
        encryption = _cluster_encryption(link, cluster_encryption)
        validation.boolean("outputs", outputs)
        if outputs:
            reserve_outputs(scope, id, prefix, VIEWER_OUTPUTS)
        super().__init__(scope, id)

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
        if link is not None:
            env += [
                Env("IPYTHON_CLUSTER_LABEL", cluster_value),
                Env("IPYTHON_CONTROLLER_HOST", link.controller_host),
                Env("IPYTHON_CLUSTER_KEY", secret=link.key_secret, key=CLUSTER_KEY_SECRET_KEY),
                Env("IPYTHON_CLUSTER_ENCRYPTION", encryption),
            ]
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
                volumes=[*scratch_volumes(), Volume("workspace", WORKSPACE_DIR, claim=claim_name)],
                resources=resources,
                security=security,
                wait_for_rollout=wait_for_rollout,
                probes=Probes(port=port, path="/api"),
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


def _check_password(password: object) -> None:
    """A chosen password must be a Terraform token: a literal would land in cdk.tf.json."""
    if password is None or validation.is_token(password):
        return
    check_user_password("password", password)
    raise validation.InvalidValue(
        "password",
        password,
        "a Terraform token such as password_variable(stack).string_value, not a literal "
        "(it would be written into cdk.tf.json)",
        shown=validation.hidden(password),
    )


def _cluster_encryption(link: ClusterLink | None, chosen: str | None) -> str | None:
    """The linked cluster's encryption: the cluster object's, the prop, else the default."""
    if link is None:
        if chosen is not None:
            raise validation.InvalidValue(
                "cluster_encryption", chosen, "None for a viewer without a cluster (nothing to encrypt)"
            )
        return None
    if link.encryption is not None and chosen is not None and chosen != link.encryption:
        raise validation.InvalidValue(
            "cluster_encryption",
            chosen,
            f"None or the linked cluster's own {link.encryption!r} (controller and viewer must agree)",
        )
    return link.encryption or chosen or DEFAULT_CLUSTER_ENCRYPTION


def _cluster_link(
    cluster: object, cluster_label: object, cluster_key_secret: object, namespace: str
) -> ClusterLink | None:
    """The cluster a viewer uses (labels are checked later, against the name budget)."""
    if cluster is not None and cluster_label is not None:
        raise validation.InvalidValue(
            "cluster_label", cluster_label, "None when cluster is given (one way to name a cluster)"
        )
    if cluster_key_secret is not None and cluster_label is None:
        raise validation.InvalidValue(
            "cluster_key_secret", cluster_key_secret, "None unless cluster_label is given"
        )
    if cluster is None:
        return None
    link = cluster.link if isinstance(cluster, EngineCluster) else cluster
    if not isinstance(link, ClusterLink):
        raise validation.InvalidValue("cluster", cluster, "an EngineCluster, a ClusterLink or None")
    if link.namespace is not None and link.namespace != namespace:
        raise validation.InvalidValue(
            "cluster",
            link.namespace,
            f"a cluster in the viewer's namespace {namespace!r} (the key Secret is read from there)",
        )
    return link
