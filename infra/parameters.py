"""The stacks' parameters, read from the environment: one table, ``PARAMETERS``.

WHY one table: each row maps a variable to the prop it sets (and so its stack) and says how its
string becomes the prop's type. Reading the environment builds the props objects
(EngineClusterProps, NotebookViewerProps), so every value is validated once, by the props; this
module only parses strings and turns the props' ``InvalidValue`` into the one line naming the
variable and its raw value (``IPYTHON_ENGINES=-1: an integer from 0 to 1000``). The same table
generates the parameter table of docs/deploying.md (``python -m infra.parameters``; a test keeps
them equal) and the bad-input test rows. A new parameter of an existing prop is one row.
A bad value stops the synth before any App exists, so before any file is written.

Rules: a variable that is set is used, even if empty (unset it to get the default); an unknown
``IPYTHON_*`` variable is an error (a typo would otherwise be ignored silently).
"""

from __future__ import annotations

import difflib
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ipython_k8s import validation
from ipython_k8s.defaults import (
    DEFAULT_CLUSTER_ENCRYPTION,
    DEFAULT_CULL_IDLE_SECONDS,
    DEFAULT_ENGINES,
    DEFAULT_IMAGE,
    DEFAULT_INGRESS_BODY_SIZE,
    DEFAULT_MAX_MESSAGE_MIB,
    DEFAULT_NAMESPACE,
    DEFAULT_REPOSITORY_UPDATE,
    DEFAULT_WORKSPACE_SIZE,
    MAX_ENGINES,
    MAX_MESSAGE_MIB,
    MIN_USER_PASSWORD_LENGTH,
)
from ipython_k8s.placement import DEFAULT_GPU_RESOURCE, MAX_GPUS, NO_PLACEMENT, Placement, Toleration
from ipython_k8s.props import EngineClusterProps, EngineGroup, NotebookViewerProps
from ipython_k8s.validation import InvalidValue

#: The Terraform variable that carries a chosen password (its value: ``TF_VAR_user_password``).
PASSWORD_VARIABLE = "user_password"
PASSWORD_TF_VAR = f"TF_VAR_{PASSWORD_VARIABLE}"
#: The Terraform variable that carries a repository URL with credentials (``TF_VAR_notebook_repository``).
REPOSITORY_VARIABLE = "notebook_repository"
REPOSITORY_TF_VAR = f"TF_VAR_{REPOSITORY_VARIABLE}"
DEFAULT_DOMAIN = "localhost"
DEFAULT_KUBECONFIG = "~/.kube/config"
BOTH = "both"
VIEWER = "viewer-stack"
CLUSTER = "cluster-stack"


ParseFunction = Callable[[str, str], Any]


@dataclass(frozen=True)
class Parse:
    """How a variable's string becomes the prop's type. Parsing only converts: the rules (range,
    format) are the props', so a value it cannot convert is handed on as the string when the
    prop's own message says what is allowed (``an integer from 0 to 1000``)."""

    kind: str
    function: ParseFunction
    #: Values refused whatever the prop's rule (they drive the bad-input tests).
    bad: tuple[str, ...] = ()

    def __call__(self, name: str, raw: str) -> Any:
        return self.function(name, raw)


def _integer(name: str, raw: str) -> int | str:
    # A string that is not an integer goes on unchanged: the prop refuses it with its range.
    return int(raw) if re.fullmatch(r"-?[0-9]+", raw) else raw


#: The image's booleans (image/ipython_roles/settings.py ``_boolean``): true or false, any case.
BOOLEAN_ALLOWED = "true or false"


def _boolean(name: str, raw: str) -> bool:
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise InvalidValue(name, raw, BOOLEAN_ALLOWED)


def _checked(name: str, raw: str, make: Callable[[], Any], part: str | None = None) -> Any:
    """``make()``, a props object's own check turned into the variable's one line."""
    try:
        return make()
    except InvalidValue as error:
        where = f"in {part!r}, {error.prop.rsplit('.', 1)[-1]}: " if part is not None else ""
        raise InvalidValue(name, raw, where + error.allowed) from None


def _items(name: str, raw: str, allowed: str) -> list[str]:
    """The comma-separated items of a list value; an empty item is refused."""
    items = raw.split(",")
    if not all(item.strip() for item in items):
        raise InvalidValue(name, raw, allowed)
    return [item.strip() for item in items]


NODE_SELECTOR_ALLOWED = "comma-separated node labels key=value, e.g. pool=gpu,topology.kubernetes.io/zone=a"


def _node_selector(name: str, raw: str) -> dict[str, str]:
    selector: dict[str, str] = {}
    for item in _items(name, raw, NODE_SELECTOR_ALLOWED):
        key, equals, value = item.partition("=")
        if not equals or key in selector:
            raise InvalidValue(name, raw, NODE_SELECTOR_ALLOWED + " (each key once)")
        selector[key] = value
    return selector


TOLERATIONS_ALLOWED = ("comma-separated taints to tolerate, key[=value][:effect] with effect NoSchedule, "
                       "PreferNoSchedule or NoExecute, e.g. dedicated=science:NoSchedule")


def _tolerations(name: str, raw: str) -> tuple[Toleration, ...]:
    tolerations = []
    for item in _items(name, raw, TOLERATIONS_ALLOWED):
        taint, colon, effect = item.partition(":")
        key, equals, value = taint.partition("=")
        if not key or (colon and not effect):
            raise InvalidValue(name, raw, TOLERATIONS_ALLOWED)
        tolerations.append(_checked(name, raw, lambda: Toleration(
            key=key, value=value if equals else None, effect=effect or None), part=item))
    return tuple(tolerations)


ENGINE_GROUPS_ALLOWED = ("comma-separated engine groups <name>:<engines>[:<GPUs per engine>], e.g. "
                         "gpu:2:1,cpu:8")


def _engine_groups(name: str, raw: str) -> tuple[EngineGroup, ...]:
    groups = []
    for item in _items(name, raw, ENGINE_GROUPS_ALLOWED):
        fields = item.split(":")
        if len(fields) not in (2, 3) or not all(re.fullmatch(r"-?[0-9]+", f) for f in fields[1:]):
            raise InvalidValue(name, raw, ENGINE_GROUPS_ALLOWED)
        gpus = int(fields[2]) if len(fields) == 3 else 0
        placement = _checked(name, raw, lambda: Placement(gpus=gpus) if gpus else NO_PLACEMENT, part=item)
        groups.append(_checked(name, raw, lambda: EngineGroup(
            name=fields[0], engines=int(fields[1]), placement=placement), part=item))
    return tuple(groups)


TRUSTED_PROXIES_ALLOWED = ("comma-separated IP addresses or CIDR networks of the proxies in front of the viewer, "
                           "e.g. 10.244.0.0/16,fd00::/8")


def _ip_networks(name: str, raw: str) -> tuple[str, ...]:
    items = _items(name, raw, TRUSTED_PROXIES_ALLOWED)
    for item in items:
        try:
            validation.ip_networks(name, (item,))
        except InvalidValue as error:
            raise InvalidValue(name, raw, f"in {item!r}: {error.allowed}") from None
    return tuple(items)


TEXT = Parse("text", lambda name, raw: raw)
INTEGER = Parse("an integer", _integer, bad=("two", "1.5", ""))
BOOLEAN = Parse("a boolean", _boolean, bad=("yes", "1", "maybe", ""))
NODE_SELECTOR = Parse("node labels", _node_selector, bad=("gpu", "pool=gpu,,zone=a", ""))
TOLERATIONS = Parse("taints", _tolerations, bad=("gpu:Sometimes", "=x", ""))
ENGINE_GROUPS = Parse("engine groups", _engine_groups, bad=("gpu", "gpu:two", "gpu:2,,cpu:8", ""))
IP_NETWORKS = Parse("IP networks", _ip_networks, bad=("", "10.0.0.0/8,,fd00::/8"))
#: One Secret name, for every role's image_pull_secrets.
SECRET_NAMES = Parse("a Secret name", lambda name, raw: (raw,), bad=("",))


@dataclass(frozen=True)
class Parameter:
    """One environment variable: its documentation row and the prop(s) it sets.

    ``cluster``/``viewer``: the field of EngineClusterProps / NotebookViewerProps it sets (None:
    not that stack's, or read by the stacks themselves, see ``_read``), or several; a field of a
    props-typed field is written ``prop.field`` (``engine_placement.gpus``: the Placement of the
    engine_placement prop is built from its variables); ``parse`` turns the string into the
    prop's type; ``unset``: the string used when the variable is unset (None: the prop's
    default); ``bad``: values the prop refuses (with ``parse.bad``: the bad-input test rows).
    """

    name: str
    default: str
    meaning: str
    cluster: str | tuple[str, ...] | None = None
    viewer: str | tuple[str, ...] | None = None
    parse: Parse = TEXT
    stacks_override: str | None = None
    unset: str | None = None
    bad: tuple[str, ...] = ()

    @property
    def stacks(self) -> str:
        if self.stacks_override is not None:
            return self.stacks_override
        if self.cluster and self.viewer:
            return BOTH
        return CLUSTER if self.cluster else VIEWER

    @property
    def props(self) -> dict[str, tuple[str, ...]]:
        """stack -> the props (or ``prop.field``s) it sets."""
        return {stack: (props,) if isinstance(props, str) else props
                for stack, props in ((CLUSTER, self.cluster), (VIEWER, self.viewer)) if props}

    @property
    def bad_values(self) -> tuple[str, ...]:
        return self.bad + self.parse.bad


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("IPYTHON_USER_LABEL", "a generated 5-character label",
              "user label: a DNS label; the viewer is `nbviewer-<user>-<cluster>`. User and "
              "cluster labels together have at most 43 characters",
              viewer="user_label", bad=("Alice", "al_ice")),
    Parameter("IPYTHON_CLUSTER_LABEL", "a generated 5-character label, made by "
              "cluster-stack and read by viewer-stack",
              "cluster label: a DNS label of at most 42 characters; the controller Service is "
              "`ipcluster-<cluster>`",
              cluster="cluster_label", viewer="cluster_label", bad=("Demo", "c" * 43)),
    Parameter("IPYTHON_NOTEBOOK_REPOSITORY", "none: an empty workspace",
              "git URL (https, http, ssh, git, file or `git@host:path`, optionally `#branch-or-tag`, "
              "at most 2048 characters) cloned into the viewer's and the engines' workspace. With "
              "credentials (`https://TOKEN@host/x.git`, `https://user:password@host/x.git`) it is "
              f"never written into cdktf.out: the stacks declare the sensitive variable "
              f"`{REPOSITORY_VARIABLE}`, whose value Terraform reads from `{REPOSITORY_TF_VAR}` at "
              f"deploy, and keep it in a Secret",
              cluster="notebook_repository", viewer="notebook_repository",
              bad=("ftp://example.org/r.git", "https://example.org/my repo.git")),
    Parameter(REPOSITORY_TF_VAR, "unset",
              "the repository URL with credentials as Terraform reads it at plan/apply; set it to "
              "the same value as IPYTHON_NOTEBOOK_REPOSITORY (setting only this one also declares "
              "the variable)",
              stacks_override=BOTH, bad=("https://h/a b.git",)),
    Parameter("IPYTHON_REPOSITORY_REQUIRED", "`false`",
              "`true`: the viewer and the engines refuse to start when IPYTHON_NOTEBOOK_REPOSITORY "
              "cannot be cloned or its requirements.txt installed (`false`: they start with an empty "
              "workspace); `true` needs IPYTHON_NOTEBOOK_REPOSITORY",
              cluster="repository_required", viewer="repository_required", parse=BOOLEAN),
    Parameter("IPYTHON_REPOSITORY_UPDATE", f"`{DEFAULT_REPOSITORY_UPDATE}` (the image's default: the variable is not set)",
              "what a start does when the workspace already holds a clone of IPYTHON_NOTEBOOK_REPOSITORY: "
              "`pull` merges new upstream commits, the user's edits winning and deleted files coming back "
              "(nbgitpuller's rules); `never` leaves the clone as it is; `never` needs "
              "IPYTHON_NOTEBOOK_REPOSITORY",
              cluster="repository_update", viewer="repository_update", bad=("always", "PULL", "")),
    Parameter("IPYTHON_CLUSTER_ENCRYPTION", f"`{DEFAULT_CLUSTER_ENCRYPTION}`",
              "`curve`: the controller's sockets are encrypted with CurveZMQ (key pair derived from the "
              "cluster key); `none`: plain TCP, messages only signed. Both stacks must be given the "
              "same value (a viewer linked by IPYTHON_CLUSTER_LABEL cannot read the cluster's choice)",
              cluster="cluster_encryption", viewer="cluster_encryption",
              bad=("tls", "CURVE", "")),
    Parameter("IPYTHON_USER_PASSWORD", "a generated 24-character password",
              f"a viewer password you choose, at least {MIN_USER_PASSWORD_LENGTH} characters. "
              f"Never written into cdktf.out: it only declares the sensitive variable "
              f"`{PASSWORD_VARIABLE}`, whose value Terraform reads from `{PASSWORD_TF_VAR}` at "
              f"deploy",
              stacks_override=VIEWER, bad=("short",)),
    Parameter(PASSWORD_TF_VAR, "unset",
              "the chosen password as Terraform reads it at plan/apply; set it to the same value "
              "as IPYTHON_USER_PASSWORD (setting only this one also declares the variable)",
              stacks_override=VIEWER, bad=("abc",)),
    Parameter("IPYTHON_ENGINES", str(DEFAULT_ENGINES),
              f"number of engines, 0 to {MAX_ENGINES}",
              cluster="engines", parse=INTEGER, bad=("-1", "5000")),
    Parameter("IPYTHON_ENGINE_GROUPS", "none: only the default group (IPYTHON_ENGINES)",
              "more engine groups, `<name>:<engines>[:<GPUs per engine>]` comma-separated (`gpu:2:1,cpu:8`): "
              "each a Deployment `ipcluster-<cluster>-engine-<name>` whose engines register with the same "
              "controller and report their group (`engine_group`; see docs/recipes/engine-groups.md). A name "
              "is a DNS label other than `default`, cluster label and name together at most 45 characters. "
              "The groups get IPYTHON_IMAGE_PULL_SECRET; the other IPYTHON_ENGINE_* parameters are the "
              "default group's",
              cluster="engine_groups", parse=ENGINE_GROUPS, bad=("default:2", "gpu:1,gpu:2", "GPU:2")),
    Parameter("IPYTHON_ENGINE_GPUS", "0",
              f"GPUs per engine of the default group, 0 to {MAX_GPUS}: a `{DEFAULT_GPU_RESOURCE}` limit (and a "
              f"toleration of the `{DEFAULT_GPU_RESOURCE}:NoSchedule` taint of GPU nodes)",
              cluster="engine_placement.gpus", parse=INTEGER, bad=("-1", "17")),
    Parameter("IPYTHON_ENGINE_NODE_SELECTOR", "none: any node",
              "node labels the default group's engines require, `key=value` comma-separated "
              "(`cloud.google.com/gke-accelerator=nvidia-l4,pool=science`)",
              cluster="engine_placement.node_selector", parse=NODE_SELECTOR, bad=("Pool Name=gpu", "pool=GPU nodes")),
    Parameter("IPYTHON_ENGINE_TOLERATIONS", "none",
              "taints the default group's engines tolerate, `key[=value][:effect]` comma-separated "
              "(`dedicated=science:NoSchedule`; without value any value, without effect every effect)",
              cluster="engine_placement.tolerations", parse=TOLERATIONS, bad=("dedicated=x:Never",)),
    Parameter("IPYTHON_MAX_MESSAGE_MIB", f"{DEFAULT_MAX_MESSAGE_MIB} (the image's default: the variable is not set)",
              f"the controller refuses messages larger than this many MiB, 1 to {MAX_MESSAGE_MIB}; raise it "
              "(with the controller's memory limit) when tasks send a larger argument or result",
              cluster="max_message_mib", parse=INTEGER, bad=("0", "4097")),
    Parameter("IPYTHON_IMAGE", f"`{DEFAULT_IMAGE}`", "the container image of all roles",
              cluster="image", viewer="image", bad=("",)),
    Parameter("IPYTHON_IMAGE_PULL_SECRET", "none: the image is pulled without credentials",
              "Secret (type `kubernetes.io/dockerconfigjson`, in the namespace) with the registry "
              "credentials for IPYTHON_IMAGE, for every role and engine group",
              cluster=("controller_placement.image_pull_secrets", "engine_placement.image_pull_secrets"),
              viewer="placement.image_pull_secrets", parse=SECRET_NAMES, bad=("Registry_Login",)),
    Parameter("IPYTHON_DOMAIN", f"`{DEFAULT_DOMAIN}`",
              "DNS domain of the viewer's Ingress host `nbviewer-<user>-<cluster>.<domain>` "
              "(`*.localhost` reaches a local kind cluster from a browser)",
              viewer="domain", unset=DEFAULT_DOMAIN, bad=("Example.org",)),
    Parameter("IPYTHON_NAMESPACE", f"`{DEFAULT_NAMESPACE}`",
              "existing namespace of all objects (viewer and cluster must share it); the stacks do not "
              "create it (it is shared, and destroying its creator would delete it with everything in "
              "it): `kubectl create namespace ipython` once",
              cluster="namespace", viewer="namespace", bad=("kube_system",)),
    Parameter("IPYTHON_INGRESS_CLASS", "the cluster's default IngressClass",
              "IngressClass of the viewer's Ingress",
              viewer="ingress_class", bad=("My_Class",)),
    Parameter("IPYTHON_INGRESS_BODY_SIZE", f"`{DEFAULT_INGRESS_BODY_SIZE}`",
              "largest request body the viewer's Ingress lets through (uploads, notebooks saved whole): "
              "the ingress-nginx annotation `nginx.ingress.kubernetes.io/proxy-body-size`, nginx's syntax "
              "(a number with k, m or g; `0` no limit); other controllers: docs/recipes/uploads.md",
              viewer="ingress_body_size", bad=("64MB", "1.5g", "")),
    Parameter("IPYTHON_TRUSTED_PROXIES", "none: a login is throttled by its TCP peer (behind the Ingress: the "
              "ingress controller's address, shared by all clients)",
              "IP addresses or CIDR networks of the proxies in front of the viewer, comma-separated: the "
              "ingress controller's pod addresses or the pod network's CIDR (`10.244.0.0/16`). A login "
              "through one of them is throttled by the client's address in X-Forwarded-For (the rightmost "
              "entry that is not a trusted proxy) instead of the proxy's. Only safe when nothing else can "
              "reach the viewer's port with such headers (docs/security.md, Login)",
              viewer="trusted_proxies", parse=IP_NETWORKS, bad=("ingress-nginx", "10.0.0.1/8", "0.0.0.0/0")),
    Parameter("IPYTHON_TLS_SECRET", "`nbviewer-<user>-<cluster>-tls`",
              "Secret with the TLS certificate of the viewer's host",
              viewer="tls_secret_name", bad=("My_Secret",)),
    Parameter("IPYTHON_CLUSTER_ISSUER", "none: the certificate is provided otherwise",
              "cert-manager ClusterIssuer that issues the viewer's certificate",
              viewer="cluster_issuer", bad=("My_Issuer",)),
    Parameter("IPYTHON_WORKSPACE_SIZE", f"`{DEFAULT_WORKSPACE_SIZE}`",
              "size of the viewer's workspace volume (a Kubernetes quantity)",
              viewer="workspace_size", bad=("10GB",)),
    Parameter("IPYTHON_STORAGE_CLASS", "the cluster's default StorageClass",
              "StorageClass of the workspace volume",
              viewer="storage_class", bad=("Fast SSD",)),
    Parameter("IPYTHON_SHARED_STORAGE", "none: no shared volume",
              "size (a Kubernetes quantity) of the cluster's shared ReadWriteMany volume, the "
              "PersistentVolumeClaim `ipcluster-<cluster>-shared`, mounted at /home/ipython/shared in "
              "every engine and in the viewer (give it to both stacks; docs/recipes/shared-data.md)",
              cluster="shared_storage_size", stacks_override=BOTH, bad=("10GB", "")),
    Parameter("IPYTHON_SHARED_STORAGE_CLASS", "the cluster's default StorageClass",
              "StorageClass of the shared volume; it must offer ReadWriteMany (NFS, CephFS, EFS, Filestore, "
              "Azure Files); needs IPYTHON_SHARED_STORAGE",
              cluster="shared_storage_class", bad=("Fast NFS",)),
    Parameter("IPYTHON_CULL_IDLE_SECONDS", str(DEFAULT_CULL_IDLE_SECONDS),
              "idle kernels are shut down after this many seconds; 0 never",
              viewer="cull_idle_seconds", parse=INTEGER, bad=("-1",)),
    Parameter("IPYTHON_NETWORK_POLICIES", "`true`",
              "`false` creates no NetworkPolicy objects",
              cluster="network_policies", viewer="network_policy", parse=BOOLEAN),
    Parameter("KUBECONFIG", f"`{DEFAULT_KUBECONFIG}`",
              "kubeconfig file(s) of the Kubernetes provider, `:`-separated as for kubectl",
              stacks_override=BOTH, bad=("/a b/config",)),
    Parameter("KUBE_CONTEXT", "the kubeconfig's current context",
              "kubeconfig context the Kubernetes provider uses",
              stacks_override=BOTH, bad=("", "my context")),
)

KNOWN = {parameter.name for parameter in PARAMETERS}
BY_NAME = {parameter.name: parameter for parameter in PARAMETERS}
OWN_PREFIX = "IPYTHON_"
#: How close a misspelt name must be to suggest a known one: the image's rule
#: (image/ipython_roles/settings.py ``check_known_variables``), compared after the prefix.
DID_YOU_MEAN_CUTOFF = 0.6
_SECRET_LOOKING = re.compile(r"PASS|SECRET|KEY|TOKEN")


class ParameterError(ValueError):
    """A bad parameter; ``str()`` is the one-line message ``NAME=value: what is allowed``."""


@dataclass(frozen=True)
class Settings:
    """The parsed parameters: the props of both constructs, built (and so validated) from the
    environment, and what the stacks make themselves.

    The stacks complete the props with what only exists in a stack: the viewer's cluster (the
    EngineCluster object, or ``EngineCluster.from_label`` for ``cluster_label``), the password
    variable's token, and the repository variable's token when ``repository_variable``. A chosen
    password is not kept, only whether there is one; nor is a repository URL with credentials:
    the props were checked with the URL without its credentials, which the stacks replace.
    """

    cluster: EngineClusterProps
    viewer: NotebookViewerProps
    password_chosen: bool
    kube_config_paths: tuple[str, ...]
    kube_context: str | None
    notes: tuple[str, ...] = ()
    repository_variable: bool = False

    @property
    def cluster_label(self) -> str | None:
        return self.cluster.cluster_label

    @property
    def notebook_repository(self) -> str | None:
        """The plain URL (None when it carries credentials: the stacks declare the variable)."""
        return None if self.repository_variable else self.cluster.notebook_repository

    @property
    def repository_required(self) -> bool:
        return self.cluster.repository_required


def _shown(raw: str) -> str:
    return raw if raw.isprintable() else repr(raw)


def _error(name: str, raw: str, allowed: str, *, shown: str | None = None) -> ParameterError:
    return ParameterError(f"{name}={_shown(raw) if shown is None else shown}: {allowed}")


def suggestion(name: str, known: Iterable[str]) -> str | None:
    """The known ``IPYTHON_*`` name closest to a misspelt one, by the image's rule (compare what
    follows the shared prefix, or every IPYTHON_* name would look alike)."""
    ours = {known_name[len(OWN_PREFIX):]: known_name for known_name in sorted(known)
            if known_name.startswith(OWN_PREFIX)}
    close = difflib.get_close_matches(name[len(OWN_PREFIX):], list(ours), n=1, cutoff=DID_YOU_MEAN_CUTOFF)
    return ours[close[0]] if close else None


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    return sorted(name for name in environ if name.startswith(OWN_PREFIX) and name not in KNOWN)


def _unknown_error(name: str, raw: str) -> ParameterError:
    close = suggestion(name, KNOWN)
    hint = f"did you mean {close}?" if close else "see docs/deploying.md, section Parameters"
    # A misspelt IPYTHON_USER_PASSWORD must not print the password, nor a misspelt
    # IPYTHON_NOTEBOOK_REPOSITORY the credentials in its URL.
    secret = _SECRET_LOOKING.search(name) is not None
    shown = validation.hidden(raw) if secret else _shown(validation.shown_repository(raw, quoted=False))
    return _error(name, raw, f"not a parameter of the stacks; {hint}", shown=shown)


def _variable_of(stack: str, prop: str) -> str | None:
    """The variable that sets ``prop`` of ``stack``'s props (a viewer's cluster is its label's)."""
    if stack == VIEWER and prop == "cluster":
        prop = "cluster_label"
    for parameter in PARAMETERS:
        if prop in parameter.props.get(stack, ()):
            return parameter.name
    return None


def _in_variables(stack: str, allowed: str) -> str:
    """The props' message in the environment's words (``notebook_repository`` ->
    ``IPYTHON_NOTEBOOK_REPOSITORY``); only names with ``_``, which cannot be plain words."""
    for parameter in PARAMETERS:
        for prop in parameter.props.get(stack, ()):
            if "_" in prop and "." not in prop:
                allowed = re.sub(rf"\b{prop}\b", parameter.name, allowed)
    return allowed


class _PropsError(Exception):
    def __init__(self, stack: str, error: InvalidValue) -> None:
        self.stack, self.error = stack, error


def read_settings(environ: Mapping[str, str]) -> Settings:
    """Parse every parameter and build the props; raise ``ParameterError`` at the first bad one,
    in the environment's words: the variable and its raw value, and what the prop allows."""
    for name in unknown_variables(environ):
        raise _unknown_error(name, environ[name])
    try:
        return _read(environ)
    except _PropsError as caught:
        error = caught.error
        name = _variable_of(caught.stack, error.prop) or error.prop
        raise _parameter_error(environ, name, error, _in_variables(caught.stack, error.allowed)) from None
    except InvalidValue as error:
        raise _parameter_error(environ, error.prop, error, error.allowed) from None


def _parameter_error(environ: Mapping[str, str], name: str, error: InvalidValue, allowed: str) -> ParameterError:
    raw = environ.get(name)
    shown = error.shown if raw is None or error.shown.startswith("<hidden") else None
    if raw is not None and name in ("IPYTHON_NOTEBOOK_REPOSITORY", REPOSITORY_TF_VAR):
        shown = _shown(validation.shown_repository(raw, quoted=False))  # credentials never shown
    return _error(name, raw if raw is not None else str(error.value), allowed, shown=shown)


def _props_kwargs(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """stack -> the props' keywords of every variable that is set (parsed, not yet validated;
    a prop built from several variables, ``prop.field``, is built and so validated here)."""
    kwargs: dict[str, dict[str, Any]] = {CLUSTER: {}, VIEWER: {}}
    nested: dict[tuple[str, str], dict[str, Any]] = {}
    for parameter in PARAMETERS:
        raw = environ.get(parameter.name, parameter.unset)
        if raw is None or not parameter.props:
            continue
        value = parameter.parse(parameter.name, raw)
        for stack, props in parameter.props.items():
            for prop in props:
                head, dot, field = prop.partition(".")
                if dot:
                    nested.setdefault((stack, head), {})[field] = value
                else:
                    kwargs[stack][prop] = value
    for (stack, head), fields in nested.items():
        kwargs[stack][head] = _nested(environ, stack, head, fields)
    return kwargs


def _nested(environ: Mapping[str, str], stack: str, head: str, fields: dict[str, Any]) -> Any:
    """The props-typed field ``head`` (a Placement) from its variables' fields; its own check's
    error names the variable of the field it concerns (``placement.gpus`` -> IPYTHON_ENGINE_GPUS)."""
    props_class = EngineClusterProps if stack == CLUSTER else NotebookViewerProps
    field_type = type(props_class.__dataclass_fields__[head].default)
    try:
        return field_type(**fields)
    except InvalidValue as error:
        field = error.prop.split(".")[1] if "." in error.prop else error.prop
        name = _variable_of(stack, f"{head}.{field}") or error.prop
        raise InvalidValue(name, environ.get(name, error.value), error.allowed) from None


def _build(stack: str, props_class: type, kwargs: dict[str, Any]) -> Any:
    try:
        with warnings.catch_warnings():
            # the viewer's literal cluster_label: deprecated for users, the stacks link by from_label
            warnings.simplefilter("ignore", DeprecationWarning)
            return props_class(**kwargs)
    except InvalidValue as error:
        raise _PropsError(stack, error) from None


def _read(environ: Mapping[str, str]) -> Settings:
    get = environ.get
    notes: list[str] = []
    kwargs = _props_kwargs(environ)

    repository, repository_variable = _repository(get, notes)
    if repository_variable:
        # The props are checked with the URL without its credentials (same host, path and ref);
        # the stacks pass the sensitive variable's token instead.
        for stack in kwargs:
            kwargs[stack]["notebook_repository"] = _without_credentials(repository)
    groups = kwargs[CLUSTER].get("engine_groups")
    if groups and "engine_placement" in kwargs[CLUSTER]:
        # The groups of IPYTHON_ENGINE_GROUPS pull the image like every other role.
        secrets = kwargs[CLUSTER]["engine_placement"].image_pull_secrets
        kwargs[CLUSTER]["engine_groups"] = tuple(
            replace(group, placement=replace(group.placement, image_pull_secrets=secrets)) for group in groups
        )
    if kwargs[VIEWER].get("cluster_label") is None:
        # Without a label the viewer is given cluster-stack's EngineCluster, whose choice it follows.
        kwargs[VIEWER].pop("cluster_encryption", None)

    cluster = _build(CLUSTER, EngineClusterProps, kwargs[CLUSTER])
    viewer = _build(VIEWER, NotebookViewerProps, kwargs[VIEWER])
    password_chosen = _password(get, notes)

    kubeconfig = get("KUBECONFIG") or DEFAULT_KUBECONFIG
    paths = tuple(path for path in kubeconfig.split(":") if path)
    if not paths or any(re.search(r"\s", path) for path in paths):
        raise InvalidValue("KUBECONFIG", kubeconfig, "file paths without spaces, ':'-separated")
    context = get("KUBE_CONTEXT")
    if context is not None and (not context or re.search(r"\s", context)):
        raise InvalidValue("KUBE_CONTEXT", context, "a kubeconfig context name (not empty, no spaces)")

    return Settings(
        cluster=cluster,
        viewer=viewer,
        password_chosen=password_chosen,
        kube_config_paths=paths,
        kube_context=context,
        notes=tuple(notes),
        repository_variable=repository_variable,
    )


def _password(get: Callable[[str], str | None], notes: list[str]) -> bool:
    """Whether a password was chosen. It never enters the props as a literal (they take the
    variable's token), so its rule is checked here, with the library's minimum."""
    password = get("IPYTHON_USER_PASSWORD")
    tf_var_password = get(PASSWORD_TF_VAR)
    if password is not None:
        validation.user_password("IPYTHON_USER_PASSWORD", password, min_length=MIN_USER_PASSWORD_LENGTH)
        if tf_var_password is None:
            notes.append(
                f"note: IPYTHON_USER_PASSWORD is not written into cdktf.out; before "
                f'`cdktf deploy` run: export {PASSWORD_TF_VAR}="$IPYTHON_USER_PASSWORD"'
            )
        elif tf_var_password != password:
            raise InvalidValue(
                PASSWORD_TF_VAR,
                tf_var_password,
                "the same value as IPYTHON_USER_PASSWORD (Terraform reads this one), or unset",
                shown=validation.hidden(tf_var_password),
            )
    elif tf_var_password is not None:
        validation.user_password(PASSWORD_TF_VAR, tf_var_password, min_length=MIN_USER_PASSWORD_LENGTH)
    return password is not None or tf_var_password is not None


def _without_credentials(url: str) -> str:
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/]*@", r"\1", url)


def _repository(get: Callable[[str], str | None], notes: list[str]) -> tuple[str | None, bool]:
    """(the URL, whether the stacks declare the sensitive variable for it).

    The same rules as the password's: a URL with credentials, or TF_VAR_notebook_repository set,
    declares the variable (the URL is then not kept); with both set they must be equal.
    """
    repository = get("IPYTHON_NOTEBOOK_REPOSITORY")
    tf_var = get(REPOSITORY_TF_VAR)
    validation.repository_url("IPYTHON_NOTEBOOK_REPOSITORY", repository)
    if tf_var is not None:
        validation.repository_url(REPOSITORY_TF_VAR, tf_var)
        if repository is not None and tf_var != repository:
            raise InvalidValue(
                REPOSITORY_TF_VAR,
                validation.redacted_repository(tf_var),
                "the same value as IPYTHON_NOTEBOOK_REPOSITORY (Terraform reads this one), or unset",
            )
        return tf_var, True
    if repository is not None and validation.repository_has_credentials(repository):
        notes.append(
            f"note: IPYTHON_NOTEBOOK_REPOSITORY carries credentials and is not written into cdktf.out; "
            f'before `cdktf deploy` run: export {REPOSITORY_TF_VAR}="$IPYTHON_NOTEBOOK_REPOSITORY"'
        )
        return repository, True
    return repository, False


def markdown_table() -> str:
    """The parameter table of docs/deploying.md."""
    rows = [
        "| variable | stack | when unset | meaning |",
        "|---|---|---|---|",
    ]
    for p in PARAMETERS:
        rows.append(f"| `{p.name}` | {p.stacks} | {p.default} | {p.meaning} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown_table())
