"""The props of the constructs: one frozen, keyword-only dataclass each, the one definition of
every prop (name, type, default and what the default does) and of its validation.

WHY dataclasses: a prop is defined here once; ``NotebookViewer(scope, id, props)`` takes the
object (aws-cdk style), and the keyword spelling ``NotebookViewer(scope, id, domain=...)`` builds
the same object from the keywords (the constructs' typed overloads only mirror the fields for
type checkers, and a test keeps them equal). Creating a props object validates it
(``__post_init__``), so a bad prop raises ``InvalidValue`` (one line: prop, value, what is
allowed) before the construct has any child, whichever spelling is used.

Each field's documentation is in its metadata (``fields(NotebookViewerProps)[i].metadata["doc"]``),
written as the behaviour you get.

This module is plain Python (no cdktf until a password is checked for being a token).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, TypeVar

from . import labels, naming, validation
from .defaults import (
    CLUSTER_ENCRYPTIONS,
    DEFAULT_ENGINE_GROUP,
    DEFAULT_INGRESS_BODY_SIZE,
    DEFAULT_REPOSITORY_UPDATE,
    RANDOM_LABEL_LENGTH,
    REPOSITORY_UPDATES,
    DEFAULT_CLUSTER_ENCRYPTION,
    DEFAULT_CLUSTER_KEY_LENGTH,
    DEFAULT_CULL_IDLE_SECONDS,
    DEFAULT_ENGINES,
    DEFAULT_IMAGE,
    DEFAULT_IMAGE_PULL_POLICY,
    DEFAULT_MAX_MESSAGE_MIB,
    DEFAULT_NAMESPACE,
    DEFAULT_PASSWORD_LENGTH,
    DEFAULT_VIEWER_PORT,
    DEFAULT_WORKSPACE_SIZE,
    MAX_CULL_IDLE_SECONDS,
    MAX_ENGINES,
    MAX_MESSAGE_MIB,
    MIN_CLUSTER_KEY_LENGTH,
    MIN_GENERATED_PASSWORD_LENGTH,
)
from .labels import Label
from .linking import ClusterLink, IEngineCluster
from .placement import NO_PLACEMENT, Placement
from .passwords import check_user_password
from .repository import check_repository_prop
from .resources import CONTROLLER_RESOURCES, ENGINE_RESOURCES, VIEWER_RESOURCES, Resources
from .security import RESTRICTED, PodSecurity

#: Longest domain: the host's first label (``nbviewer-<user>-<cluster>``) is at most 53 characters.
MAX_DOMAIN_LENGTH = 253 - 64


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


def prop_docs(props_class: type) -> dict[str, str]:
    """Each prop's documentation (its default's behaviour), by name."""
    return {f.name: f.metadata["doc"] for f in fields(props_class)}


P = TypeVar("P", "EngineClusterProps", "NotebookViewerProps")


def props_from(props_class: type[P], props: object, keywords: dict[str, Any]) -> P:
    """The props object of a construct: ``props`` as given, or built (and so validated) from the
    keyword spelling. Both at once is an error, as is a props object of the other construct."""
    if props is None:
        return props_class(**keywords)
    if keywords:
        raise validation.InvalidValue(
            "props", props, f"a {props_class.__name__} or keyword props, not both "
            f"(also given: {', '.join(sorted(keywords))})",
            shown=type(props).__name__,
        )
    if not isinstance(props, props_class):
        raise validation.InvalidValue("props", props, f"a {props_class.__name__}")
    return props


def props_doc(props_class: type) -> str:
    """The props part of a construct's docstring, made from the fields' documentation."""
    lines = [f"Props ({props_class.__name__}, or the same names as keywords; each default is the "
             "behaviour you get):", ""]
    for f in fields(props_class):
        default = "required" if f.default is MISSING else repr(f.default)
        lines.append(f"- ``{f.name}`` ({default}): {f.metadata['doc']}")
    return "\n".join(lines)


def _check_repository_update(props: Any) -> None:
    validation.one_of("repository_update", props.repository_update, REPOSITORY_UPDATES)
    if props.repository_update != DEFAULT_REPOSITORY_UPDATE and not props.notebook_repository:
        raise validation.InvalidValue(
            "repository_update", props.repository_update,
            f"{DEFAULT_REPOSITORY_UPDATE!r} unless notebook_repository is given (there is nothing to update)",
        )


#: ingress-nginx's size syntax (``client_max_body_size``): a number, optionally k, m or g.
_BODY_SIZE = re.compile(r"^[0-9]{1,9}[kKmMgG]?$")
#: The annotation ingress-nginx reads the body size limit from.
BODY_SIZE_ANNOTATION = "nginx.ingress.kubernetes.io/proxy-body-size"


def _check_common(props: Any) -> None:
    """The props every construct with pods shares."""
    validation.dns_label("namespace", props.namespace)
    validation.image("image", props.image)
    if props.image_pull_policy is not None:
        validation.one_of("image_pull_policy", props.image_pull_policy, validation.IMAGE_PULL_POLICIES)
    validation.instance("security", props.security, PodSecurity, "a PodSecurity")
    validation.boolean("wait_for_rollout", props.wait_for_rollout)
    if props.output_prefix is not None:
        validation.terraform_identifier("output_prefix", props.output_prefix)
    validation.boolean("outputs", props.outputs)


_IMAGE_DOC = "the role-switching image of the project; any reference (digest pins it)"
_PULL_DOC = ("None: Kubernetes' default, IfNotPresent for a version tag (works with `kind load`); "
             "'Always' or 'Never'")
_SECURITY_DOC = ("non-root uid 1000, group 0, seccomp RuntimeDefault, no privilege escalation, all "
                 "capabilities dropped, read-only root filesystem (see `security`)")
_ROLLOUT_DOC = "`deploy` waits until the Deployments are available; False: it does not wait"
_UPDATE_DOC = (
    "'pull': when the workspace already holds a clone of the repository, the start merges new "
    "upstream commits, the user's edits winning and deleted files coming back (nbgitpuller's rules); "
    "'never': the clone is left as it is (IPYTHON_REPOSITORY_UPDATE, set only when not 'pull'). "
    "'never' needs notebook_repository")
_OUTPUTS_DOC = ("outputs are made (see output_prefix); False: none (a construct wrapping this one "
                "makes its own)")


@dataclass(frozen=True, kw_only=True)
class EngineGroup:
    """A named group of engines besides a cluster's default group (``EngineClusterProps.engines``):
    its own count, resources and placement, registering with the same controller.

    - ``name``: a DNS label, not "default" (the default group's); the group's Deployment and
      NetworkPolicy are ``ipcluster-<cluster>-engine-<name>`` (cluster label and name together
      fit that in 63 characters), its engines get ``IPYTHON_ENGINE_GROUP=<name>`` and the pod
      label ``ipython-k8s.github.io/engine-group=<name>``.
    - ``engines``: 1; replicas, 0 to 1000.
    - ``resources``: ENGINE_RESOURCES; each engine's requests and limits.
    - ``placement``: NO_PLACEMENT; node selector, tolerations, affinity, GPUs, ... (``Placement``).
    """

    name: str
    engines: int = 1
    resources: Resources = ENGINE_RESOURCES
    placement: Placement = NO_PLACEMENT

    def __post_init__(self) -> None:
        validation.dns_label(
            "engine_group.name", self.name, max_length=naming.max_engine_group_length(1),
            why=f", so that '{naming.LONGEST_ENGINE_GROUP_NAME}' stays within {naming.MAX_NAME_LENGTH} characters",
        )
        if self.name == DEFAULT_ENGINE_GROUP:
            raise validation.InvalidValue(
                "engine_group.name", self.name,
                f"a name other than {DEFAULT_ENGINE_GROUP!r} (the default group: engines, engine_resources, "
                "engine_placement)",
            )
        validation.integer("engine_group.engines", self.engines, minimum=0, maximum=MAX_ENGINES)
        validation.instance("engine_group.resources", self.resources, Resources, "a Resources")
        validation.instance("engine_group.placement", self.placement, Placement, "a Placement")


@dataclass(frozen=True, kw_only=True)
class EngineClusterProps:
    """The props of an ``EngineCluster``; creating it validates them."""

    cluster_label: str | None = field(default=None, metadata=_doc(
        "None: a generated 5-character random_string, so names are Terraform interpolations known "
        "at plan time; given: a DNS label of at most 42 characters (`ipcluster-<cluster>-controller` "
        "fits in 63)"))
    namespace: str = field(default=DEFAULT_NAMESPACE, metadata=_doc(
        "an existing namespace, not created here (it is shared with the viewers using the cluster)"))
    engines: int = field(default=DEFAULT_ENGINES, metadata=_doc(
        f"engine replicas of the default group (Deployment `ipcluster-<cluster>-engine`), 0 to "
        f"{MAX_ENGINES}; change it and deploy again to scale"))
    engine_groups: tuple[EngineGroup, ...] = field(default=(), metadata=_doc(
        "(): only the default group; EngineGroup(name=..., engines=..., resources=..., placement=...) "
        "each add a Deployment `ipcluster-<cluster>-engine-<name>` whose engines register with the same "
        "controller and report their group (IPYTHON_ENGINE_GROUP=<name>; the default group's report "
        "'default')"))
    notebook_repository: str | None = field(default=None, metadata=_doc(
        "None: an empty workspace; a git URL (`URL#ref`) cloned into each engine's workspace and its "
        "requirements.txt installed. A URL with credentials must be a Terraform token "
        "(repository_variable(stack).string_value), kept in the Secret `ipcluster-<cluster>-repo`"))
    repository_required: bool = field(default=False, metadata=_doc(
        "False: an engine starts with an empty workspace when the repository cannot be cloned; "
        "True: it refuses to start (IPYTHON_REPOSITORY_REQUIRED). True needs notebook_repository"))
    repository_update: str = field(default=DEFAULT_REPOSITORY_UPDATE, metadata=_doc(
        _UPDATE_DOC.replace("the workspace", "an engine's workspace")))
    cluster_encryption: str = field(default=DEFAULT_CLUSTER_ENCRYPTION, metadata=_doc(
        "'curve': the controller's sockets are encrypted with CurveZMQ; 'none': plain TCP, messages "
        "only signed (IPYTHON_CLUSTER_ENCRYPTION); viewers given this cluster follow it"))
    max_message_mib: int = field(default=DEFAULT_MAX_MESSAGE_MIB, metadata=_doc(
        f"the controller refuses messages larger than this many MiB, 1 to {MAX_MESSAGE_MIB} "
        "(IPYTHON_MAX_MESSAGE_MIB; the image's default when left at it: the variable is not set)"))
    image: str = field(default=DEFAULT_IMAGE, metadata=_doc(_IMAGE_DOC))
    image_pull_policy: str | None = field(default=DEFAULT_IMAGE_PULL_POLICY, metadata=_doc(_PULL_DOC))
    key_length: int = field(default=DEFAULT_CLUSTER_KEY_LENGTH, metadata=_doc(
        f"length of the generated key that signs the cluster's messages (at least "
        f"{MIN_CLUSTER_KEY_LENGTH}), kept in the Secret `ipcluster-<cluster>-key`"))
    controller_resources: Resources = field(default=CONTROLLER_RESOURCES, metadata=_doc(
        "the controller's requests and limits (CONTROLLER_RESOURCES)"))
    engine_resources: Resources = field(default=ENGINE_RESOURCES, metadata=_doc(
        "each engine's requests and limits in the default group (ENGINE_RESOURCES)"))
    controller_placement: Placement = field(default=NO_PLACEMENT, metadata=_doc(
        "NO_PLACEMENT: any node; node selector, tolerations, affinity, extra limits, image pull "
        "secrets, priority class of the controller (Placement)"))
    engine_placement: Placement = field(default=NO_PLACEMENT, metadata=_doc(
        "NO_PLACEMENT: any node; the same for the default group's engines, GPUs included "
        "(Placement(gpus=1))"))
    shared_storage_size: str | None = field(default=None, metadata=_doc(
        "None: no shared volume; a size (a Kubernetes quantity): a ReadWriteMany "
        "PersistentVolumeClaim `ipcluster-<cluster>-shared` mounted at /home/ipython/shared in every "
        "engine and every viewer linked to the cluster. Its storage class must offer ReadWriteMany "
        "(NFS, CephFS, EFS, Filestore, Azure Files)"))
    shared_storage_class: str | None = field(default=None, metadata=_doc(
        "None: the cluster's default StorageClass; the StorageClass of the shared volume (only with "
        "shared_storage_size)"))
    security: PodSecurity = field(default=RESTRICTED, metadata=_doc(_SECURITY_DOC))
    network_policies: bool = field(default=True, metadata=_doc(
        "the controller is reachable only from pods with the cluster label, engines only from their "
        "cluster; False: no NetworkPolicy objects"))
    wait_for_rollout: bool = field(default=True, metadata=_doc(_ROLLOUT_DOC))
    output_prefix: str | None = field(default=None, metadata=_doc(
        "None: the construct id; outputs `<prefix>_label`, `<prefix>_controller_host`, "
        "`<prefix>_key_secret`, unique per stack (OutputClash otherwise)"))
    outputs: bool = field(default=True, metadata=_doc(_OUTPUTS_DOC))

    def __post_init__(self) -> None:
        _check_common(self)
        validation.integer("engines", self.engines, minimum=0, maximum=MAX_ENGINES)
        check_repository_prop("notebook_repository", self.notebook_repository)
        validation.repository_required(
            "repository_required", self.repository_required, self.notebook_repository
        )
        _check_repository_update(self)
        validation.one_of("cluster_encryption", self.cluster_encryption, CLUSTER_ENCRYPTIONS)
        validation.integer("max_message_mib", self.max_message_mib, minimum=1, maximum=MAX_MESSAGE_MIB)
        validation.integer("key_length", self.key_length, minimum=MIN_CLUSTER_KEY_LENGTH, maximum=256)
        validation.instance("controller_resources", self.controller_resources, Resources, "a Resources")
        validation.instance("engine_resources", self.engine_resources, Resources, "a Resources")
        validation.instance("controller_placement", self.controller_placement, Placement, "a Placement")
        validation.instance("engine_placement", self.engine_placement, Placement, "a Placement")
        if self.shared_storage_size is not None:
            validation.quantity("shared_storage_size", self.shared_storage_size)
        validation.optional_dns_subdomain("shared_storage_class", self.shared_storage_class)
        if self.shared_storage_class is not None and self.shared_storage_size is None:
            raise validation.InvalidValue(
                "shared_storage_class", self.shared_storage_class,
                "None unless shared_storage_size is given (there is no shared volume)",
            )
        validation.boolean("network_policies", self.network_policies)
        if self.cluster_label is not None:
            labels.cluster_label("cluster_label", self.cluster_label)
        self._check_engine_groups()

    def _check_engine_groups(self) -> None:
        groups = self.engine_groups
        if isinstance(groups, list):
            groups = tuple(groups)
            object.__setattr__(self, "engine_groups", groups)
        if not isinstance(groups, tuple) or not all(isinstance(g, EngineGroup) for g in groups):
            raise validation.InvalidValue("engine_groups", groups, "a tuple of EngineGroup")
        length = RANDOM_LABEL_LENGTH if self.cluster_label is None else len(self.cluster_label)
        budget = naming.max_engine_group_length(length)
        seen: set[str] = set()
        for group in groups:
            if len(group.name) > budget:
                raise validation.InvalidValue(
                    "engine_groups", group.name,
                    f"group names of at most {budget} characters, so that "
                    f"'{naming.LONGEST_ENGINE_GROUP_NAME}' stays within {naming.MAX_NAME_LENGTH} characters "
                    f"next to a {length}-character cluster label",
                )
            if group.name in seen:
                raise validation.InvalidValue("engine_groups", group.name, "distinct group names")
            seen.add(group.name)

    @property
    def given_label(self) -> Label | None:
        return None if self.cluster_label is None else labels.cluster_label("cluster_label", self.cluster_label)


@dataclass(frozen=True)
class ResolvedViewer:
    """What a viewer's props determine beyond themselves (computed once, when they are checked)."""

    link: ClusterLink | None
    user: Label | None
    encryption: str | None
    annotations: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class NotebookViewerProps:
    """The props of a ``NotebookViewer``; creating it validates them."""

    domain: str = field(metadata=_doc(
        "required: the DNS domain of the Ingress host `nbviewer-<user>-<cluster>.<domain>`"))
    user_label: str | None = field(default=None, metadata=_doc(
        "None: a generated 5-character random_string; given: a DNS label. User and cluster labels "
        "together have at most 43 characters"))
    cluster: IEngineCluster | ClusterLink | None = field(default=None, metadata=_doc(
        "None: no cluster is linked (a generated cluster label names the viewer); an EngineCluster "
        "of this app or `EngineCluster.from_label(...)` for one deployed elsewhere: the viewer gets "
        "IPYTHON_CLUSTER_LABEL, IPYTHON_CONTROLLER_HOST and IPYTHON_CLUSTER_KEY (by Secret "
        "reference). A ClusterLink is deprecated (use EngineCluster.from_label)"))
    cluster_label: str | None = field(default=None, metadata=_doc(
        "deprecated (use cluster=EngineCluster.from_label(scope, id, cluster_label=...)): the label "
        "of a cluster deployed elsewhere, exclusive with cluster"))
    cluster_key_secret: str | None = field(default=None, metadata=_doc(
        "deprecated (use EngineCluster.from_label(..., key_secret_name=...)): None: "
        "`ipcluster-<cluster>-key`; only with cluster_label"))
    namespace: str = field(default=DEFAULT_NAMESPACE, metadata=_doc(
        "an existing namespace (not created here: it is shared with the cluster)"))
    password: str | None = field(default=None, metadata=_doc(
        "None: a generated random_password; a chosen one must be a Terraform token "
        "(password_variable(stack).string_value), a literal is refused. Kept in the Secret "
        "`<name>-password`, the sensitive output `<prefix>_password`"))
    password_length: int = field(default=DEFAULT_PASSWORD_LENGTH, metadata=_doc(
        f"length of a generated password (at least {MIN_GENERATED_PASSWORD_LENGTH})"))
    notebook_repository: str | None = field(default=None, metadata=_doc(
        "None: an empty workspace; a git URL (`URL#ref`) cloned into an empty workspace at start, "
        "its requirements.txt installed. With credentials it must be a Terraform token "
        "(repository_variable(stack).string_value), kept in the Secret `<name>-repo`"))
    repository_required: bool = field(default=False, metadata=_doc(
        "False: the viewer starts with an empty workspace when the repository cannot be cloned; "
        "True: it refuses to start (IPYTHON_REPOSITORY_REQUIRED). True needs notebook_repository"))
    repository_update: str = field(default=DEFAULT_REPOSITORY_UPDATE, metadata=_doc(
        _UPDATE_DOC.replace("the workspace", "the viewer's workspace")))
    cluster_encryption: str | None = field(default=None, metadata=_doc(
        "None: the linked EngineCluster's choice, else 'curve'; 'curve' or 'none' must be the "
        "cluster's (given with an EngineCluster it must match). Only for a linked viewer"))
    shared_storage: bool = field(default=True, metadata=_doc(
        "True: the linked cluster's shared volume, when it has one (an EngineCluster with "
        "shared_storage_size, or EngineCluster.from_label(..., shared_storage=True)), is mounted at "
        "/home/ipython/shared; False: it is not mounted"))
    port: int = field(default=DEFAULT_VIEWER_PORT, metadata=_doc("the server's port in the pod"))
    cull_idle_seconds: int = field(default=DEFAULT_CULL_IDLE_SECONDS, metadata=_doc(
        f"idle kernels are shut down after this many seconds (0 to {MAX_CULL_IDLE_SECONDS}); 0 never"))
    ingress_class: str | None = field(default=None, metadata=_doc(
        "None: the cluster's default IngressClass"))
    tls_secret_name: str | None = field(default=None, metadata=_doc(
        "None: `<name>-tls`, the Secret with the host's certificate"))
    cluster_issuer: str | None = field(default=None, metadata=_doc(
        "None: the certificate is provided otherwise; a cert-manager ClusterIssuer that issues it"))
    ingress_annotations: dict[str, str] | None = field(default=None, metadata=_doc(
        "None: no extra Ingress annotations"))
    ingress_body_size: str | None = field(default=DEFAULT_INGRESS_BODY_SIZE, metadata=_doc(
        f"{DEFAULT_INGRESS_BODY_SIZE!r}: the largest request body the Ingress lets through (uploads "
        "in 1 MiB chunks, a notebook saved whole), as the annotation "
        f"`{BODY_SIZE_ANNOTATION}` (nginx's syntax: a number with k, m or g; '0' no limit); "
        "None: no annotation (other Ingress controllers: docs/recipes/uploads.md)"))
    trusted_proxies: tuple[str, ...] = field(default=(), metadata=_doc(
        "(): a login is throttled by its TCP peer, behind the Ingress the ingress controller's "
        "address, shared by all clients; IP addresses or CIDR networks of the ingress controller's "
        "pods (or the pod network): a login through them is throttled by the client address in "
        "X-Forwarded-For (IPYTHON_TRUSTED_PROXIES). Only safe when nothing else can reach the "
        "viewer's port with such headers (docs/security.md#login)"))
    workspace_size: str = field(default=DEFAULT_WORKSPACE_SIZE, metadata=_doc(
        "size of the workspace PersistentVolumeClaim `<name>-workspace` (kept across deploys)"))
    storage_class: str | None = field(default=None, metadata=_doc(
        "None: the cluster's default StorageClass"))
    image: str = field(default=DEFAULT_IMAGE, metadata=_doc(_IMAGE_DOC))
    image_pull_policy: str | None = field(default=DEFAULT_IMAGE_PULL_POLICY, metadata=_doc(_PULL_DOC))
    resources: Resources = field(default=VIEWER_RESOURCES, metadata=_doc(
        "the viewer's requests and limits (VIEWER_RESOURCES)"))
    placement: Placement = field(default=NO_PLACEMENT, metadata=_doc(
        "NO_PLACEMENT: any node; node selector, tolerations, affinity, extra limits (GPUs), image "
        "pull secrets, priority class of the viewer (Placement)"))
    security: PodSecurity = field(default=RESTRICTED, metadata=_doc(_SECURITY_DOC))
    network_policy: bool = field(default=True, metadata=_doc(
        "only the viewer's port is reachable; False: no NetworkPolicy"))
    wait_for_rollout: bool = field(default=True, metadata=_doc(_ROLLOUT_DOC))
    output_prefix: str | None = field(default=None, metadata=_doc(
        "None: the construct id; outputs `<prefix>_url`, `<prefix>_password`, unique per stack "
        "(OutputClash otherwise)"))
    outputs: bool = field(default=True, metadata=_doc(_OUTPUTS_DOC))

    def __post_init__(self) -> None:
        validation.dns_subdomain("domain", self.domain, max_length=MAX_DOMAIN_LENGTH)
        _check_common(self)
        _check_password(self.password)
        validation.integer(
            "password_length", self.password_length, minimum=MIN_GENERATED_PASSWORD_LENGTH, maximum=128
        )
        check_repository_prop("notebook_repository", self.notebook_repository)
        validation.repository_required(
            "repository_required", self.repository_required, self.notebook_repository
        )
        _check_repository_update(self)
        if self.cluster_encryption is not None:
            validation.one_of("cluster_encryption", self.cluster_encryption, CLUSTER_ENCRYPTIONS)
        validation.port("port", self.port)
        validation.integer(
            "cull_idle_seconds", self.cull_idle_seconds, minimum=0, maximum=MAX_CULL_IDLE_SECONDS
        )
        validation.optional_dns_subdomain("ingress_class", self.ingress_class)
        validation.optional_dns_subdomain("tls_secret_name", self.tls_secret_name)
        validation.optional_dns_subdomain("cluster_issuer", self.cluster_issuer)
        validation.boolean("shared_storage", self.shared_storage)
        annotations = validation.string_map(
            "ingress_annotations", {} if self.ingress_annotations is None else self.ingress_annotations
        )
        if self.ingress_body_size is not None:
            if not isinstance(self.ingress_body_size, str) or not _BODY_SIZE.match(self.ingress_body_size):
                raise validation.InvalidValue(
                    "ingress_body_size", self.ingress_body_size,
                    "a size in nginx's syntax: a number, optionally followed by k, m or g (64m, 1g); "
                    "0 for no limit",
                )
            if BODY_SIZE_ANNOTATION in annotations:
                raise validation.InvalidValue(
                    "ingress_annotations", annotations,
                    f"no {BODY_SIZE_ANNOTATION!r} while ingress_body_size is given (set that instead)",
                )
            annotations[BODY_SIZE_ANNOTATION] = self.ingress_body_size
        if isinstance(self.trusted_proxies, list):
            object.__setattr__(self, "trusted_proxies", tuple(self.trusted_proxies))
        validation.ip_networks("trusted_proxies", self.trusted_proxies)
        validation.quantity("workspace_size", self.workspace_size)
        validation.optional_dns_subdomain("storage_class", self.storage_class)
        validation.instance("resources", self.resources, Resources, "a Resources")
        validation.instance("placement", self.placement, Placement, "a Placement")
        validation.boolean("network_policy", self.network_policy)
        link = _cluster_link(self.cluster, self.cluster_label, self.cluster_key_secret, self.namespace)
        user, given_cluster = labels.viewer_labels(
            user_prop="user_label",
            user=self.user_label,
            cluster_prop="cluster" if link else "cluster_label",
            cluster=link.label if link else self.cluster_label,
        )
        if link is None and given_cluster is not None:
            link = ClusterLink(
                label=given_cluster,
                key_secret_name=validation.optional_dns_subdomain(
                    "cluster_key_secret", self.cluster_key_secret
                ),
            )
        encryption = _cluster_encryption(link, self.cluster_encryption)
        object.__setattr__(self, "_resolved", ResolvedViewer(link, user, encryption, annotations))

    @property
    def resolved(self) -> ResolvedViewer:
        return self.__dict__["_resolved"]


def _deprecated(old: str, new: str) -> None:
    """A DeprecationWarning pointing at the user's line (the first frame outside this package
    and jsii, whichever spelling and depth led here)."""
    import os
    import sys

    ours = os.path.dirname(os.path.abspath(__file__))
    level, frame = 1, sys._getframe(1)
    while frame is not None and (
        os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == ours
        or f"{os.sep}jsii{os.sep}" in frame.f_code.co_filename
        or frame.f_code.co_filename.startswith("<")
    ):
        level, frame = level + 1, frame.f_back  # type: ignore[assignment]
    warnings.warn(f"{old} is deprecated: use {new}", DeprecationWarning, stacklevel=level + 1)


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
    if cluster_label is not None:
        _deprecated(
            "NotebookViewer(cluster_label=...)" if cluster_key_secret is None
            else "NotebookViewer(cluster_label=..., cluster_key_secret=...)",
            "cluster=EngineCluster.from_label(scope, id, cluster_label=..."
            + (", key_secret_name=...)" if cluster_key_secret is not None else ")"),
        )
    if cluster is None:
        return None
    if isinstance(cluster, ClusterLink):
        _deprecated("NotebookViewer(cluster=ClusterLink(...))",
                    "cluster=EngineCluster.from_label(scope, id, cluster_label=...)")
        link: object = cluster
    else:
        link = getattr(cluster, "link", None)
    if not isinstance(link, ClusterLink):
        raise validation.InvalidValue(
            "cluster", cluster, "an EngineCluster, a ClusterLink or None"
        )
    if link.namespace is not None and link.namespace != namespace:
        raise validation.InvalidValue(
            "cluster",
            link.namespace,
            f"a cluster in the viewer's namespace {namespace!r} (the key Secret is read from there)",
        )
    return link
