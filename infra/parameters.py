"""The stacks' parameters, read from the environment: the one place they are documented.

WHY one table: the parameter table of docs/deploying.md is generated from ``PARAMETERS`` (``python -m
infra.parameters``) and a test keeps it (section Parameters) equal to it, so docs and code cannot drift.
Parsing is plain Python (no cdktf): a bad value stops the synth before cdktf starts and before
any file is written.

Rules: a variable that is set is used, even if empty (unset it to get the default); an unknown
``IPYTHON_*`` variable is an error (a typo would otherwise be ignored silently).
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from ipython_k8s import labels, validation
from ipython_k8s.defaults import (
    CLUSTER_ENCRYPTIONS,
    DEFAULT_CLUSTER_ENCRYPTION,
    DEFAULT_CULL_IDLE_SECONDS,
    DEFAULT_ENGINES,
    DEFAULT_IMAGE,
    DEFAULT_NAMESPACE,
    DEFAULT_WORKSPACE_SIZE,
    MAX_CULL_IDLE_SECONDS,
    MAX_ENGINES,
    MIN_USER_PASSWORD_LENGTH,
)
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


@dataclass(frozen=True)
class Parameter:
    name: str
    stacks: str
    default: str
    meaning: str


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("IPYTHON_USER_LABEL", VIEWER, "a generated 5-character label",
              "user label: a DNS label; the viewer is `nbviewer-<user>-<cluster>`. User and "
              "cluster labels together have at most 43 characters"),
    Parameter("IPYTHON_CLUSTER_LABEL", BOTH, "a generated 5-character label, made by "
              "cluster-stack and read by viewer-stack",
              "cluster label: a DNS label of at most 42 characters; the controller Service is "
              "`ipcluster-<cluster>`"),
    Parameter("IPYTHON_NOTEBOOK_REPOSITORY", BOTH, "none: an empty workspace",
              "git URL (https, http, ssh, git, file or `git@host:path`, optionally `#branch-or-tag`, "
              "at most 2048 characters) cloned into the viewer's and the engines' workspace. With "
              "credentials (`https://TOKEN@host/x.git`, `https://user:password@host/x.git`) it is "
              f"never written into cdktf.out: the stacks declare the sensitive variable "
              f"`{REPOSITORY_VARIABLE}`, whose value Terraform reads from `{REPOSITORY_TF_VAR}` at "
              f"deploy, and keep it in a Secret"),
    Parameter(REPOSITORY_TF_VAR, BOTH, "unset",
              "the repository URL with credentials as Terraform reads it at plan/apply; set it to "
              "the same value as IPYTHON_NOTEBOOK_REPOSITORY (setting only this one also declares "
              "the variable)"),
    Parameter("IPYTHON_REPOSITORY_REQUIRED", BOTH, "`false`",
              "`true`: the viewer and the engines refuse to start when IPYTHON_NOTEBOOK_REPOSITORY "
              "cannot be cloned or its requirements.txt installed (`false`: they start with an empty "
              "workspace); `true` needs IPYTHON_NOTEBOOK_REPOSITORY"),
    Parameter("IPYTHON_CLUSTER_ENCRYPTION", BOTH, f"`{DEFAULT_CLUSTER_ENCRYPTION}`",
              "`curve`: the controller's sockets are encrypted with CurveZMQ (key pair derived from the "
              "cluster key); `none`: plain TCP, messages only signed. Both stacks must be given the "
              "same value (a viewer linked by IPYTHON_CLUSTER_LABEL cannot read the cluster's choice)"),
    Parameter("IPYTHON_USER_PASSWORD", VIEWER, "a generated 24-character password",
              f"a viewer password you choose, at least {MIN_USER_PASSWORD_LENGTH} characters. "
              f"Never written into cdktf.out: it only declares the sensitive variable "
              f"`{PASSWORD_VARIABLE}`, whose value Terraform reads from `{PASSWORD_TF_VAR}` at "
              f"deploy"),
    Parameter(PASSWORD_TF_VAR, VIEWER, "unset",
              "the chosen password as Terraform reads it at plan/apply; set it to the same value "
              "as IPYTHON_USER_PASSWORD (setting only this one also declares the variable)"),
    Parameter("IPYTHON_ENGINES", CLUSTER, str(DEFAULT_ENGINES),
              f"number of engines, 0 to {MAX_ENGINES}"),
    Parameter("IPYTHON_IMAGE", BOTH, f"`{DEFAULT_IMAGE}`", "the container image of all roles"),
    Parameter("IPYTHON_DOMAIN", VIEWER, f"`{DEFAULT_DOMAIN}`",
              "DNS domain of the viewer's Ingress host `nbviewer-<user>-<cluster>.<domain>` "
              "(`*.localhost` reaches a local kind cluster from a browser)"),
    Parameter("IPYTHON_NAMESPACE", BOTH, f"`{DEFAULT_NAMESPACE}`",
              "existing namespace of all objects (viewer and cluster must share it); the stacks do not "
              "create it (it is shared, and destroying its creator would delete it with everything in "
              "it): `kubectl create namespace ipython` once"),
    Parameter("IPYTHON_INGRESS_CLASS", VIEWER, "the cluster's default IngressClass",
              "IngressClass of the viewer's Ingress"),
    Parameter("IPYTHON_TLS_SECRET", VIEWER, "`nbviewer-<user>-<cluster>-tls`",
              "Secret with the TLS certificate of the viewer's host"),
    Parameter("IPYTHON_CLUSTER_ISSUER", VIEWER, "none: the certificate is provided otherwise",
              "cert-manager ClusterIssuer that issues the viewer's certificate"),
    Parameter("IPYTHON_WORKSPACE_SIZE", VIEWER, f"`{DEFAULT_WORKSPACE_SIZE}`",
              "size of the viewer's workspace volume (a Kubernetes quantity)"),
    Parameter("IPYTHON_STORAGE_CLASS", VIEWER, "the cluster's default StorageClass",
              "StorageClass of the workspace volume"),
    Parameter("IPYTHON_CULL_IDLE_SECONDS", VIEWER, str(DEFAULT_CULL_IDLE_SECONDS),
              "idle kernels are shut down after this many seconds; 0 never"),
    Parameter("IPYTHON_NETWORK_POLICIES", BOTH, "`true`",
              "`false` creates no NetworkPolicy objects"),
    Parameter("KUBECONFIG", BOTH, f"`{DEFAULT_KUBECONFIG}`",
              "kubeconfig file(s) of the Kubernetes provider, `:`-separated as for kubectl"),
    Parameter("KUBE_CONTEXT", BOTH, "the kubeconfig's current context",
              "kubeconfig context the Kubernetes provider uses"),
)

KNOWN = {parameter.name for parameter in PARAMETERS}
OWN_PREFIX = "IPYTHON_"


class ParameterError(ValueError):
    """A bad parameter; ``str()`` is the one-line message ``NAME=value: what is allowed``."""


@dataclass(frozen=True)
class Settings:
    """The parsed parameters. A chosen password is not kept: only whether there is one; nor is a
    repository URL with credentials: ``notebook_repository`` is then None and
    ``repository_variable`` True (the stacks declare the sensitive variable)."""

    user_label: str | None
    cluster_label: str | None
    notebook_repository: str | None
    repository_required: bool
    cluster_encryption: str
    password_chosen: bool
    engines: int
    image: str
    domain: str
    namespace: str
    ingress_class: str | None
    tls_secret: str | None
    cluster_issuer: str | None
    workspace_size: str
    storage_class: str | None
    cull_idle_seconds: int
    network_policies: bool
    kube_config_paths: tuple[str, ...]
    kube_context: str | None
    notes: tuple[str, ...] = ()
    repository_variable: bool = False


def _shown(raw: str) -> str:
    return raw if raw.isprintable() else repr(raw)


def _error(name: str, raw: str, allowed: str, *, shown: str | None = None) -> ParameterError:
    return ParameterError(f"{name}={_shown(raw) if shown is None else shown}: {allowed}")


def _integer(name: str, raw: str, *, minimum: int, maximum: int) -> int:
    value = int(raw) if re.fullmatch(r"-?[0-9]+", raw) else raw
    return validation.integer(name, value, minimum=minimum, maximum=maximum)


def _boolean(name: str, raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise InvalidValue(name, raw, "true or false")


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    return sorted(name for name in environ if name.startswith(OWN_PREFIX) and name not in KNOWN)


def _unknown_error(name: str, raw: str) -> ParameterError:
    # Compare what follows the shared prefix, or every IPYTHON_* name would look alike.
    ours = {known[len(OWN_PREFIX):]: known for known in sorted(KNOWN) if known.startswith(OWN_PREFIX)}
    close = difflib.get_close_matches(name[len(OWN_PREFIX):], list(ours), n=1, cutoff=0.6)
    hint = f"did you mean {ours[close[0]]}?" if close else "see docs/deploying.md, section Parameters"
    # A misspelt IPYTHON_USER_PASSWORD must not print the password, nor a misspelt
    # IPYTHON_NOTEBOOK_REPOSITORY the credentials in its URL.
    secret = re.search(r"PASS|SECRET|KEY|TOKEN", name) is not None
    shown = validation.hidden(raw) if secret else _shown(validation.shown_repository(raw, quoted=False))
    return _error(name, raw, f"not a parameter of the stacks; {hint}", shown=shown)


def read_settings(environ: Mapping[str, str]) -> Settings:
    """Parse and check every parameter; raise ``ParameterError`` at the first bad one."""
    for name in unknown_variables(environ):
        raise _unknown_error(name, environ[name])
    try:
        return _read(environ)
    except InvalidValue as error:
        raw = environ.get(error.prop)
        shown = error.shown if raw is None or error.shown.startswith("<hidden") else None
        if raw is not None and error.prop in ("IPYTHON_NOTEBOOK_REPOSITORY", REPOSITORY_TF_VAR):
            shown = _shown(validation.shown_repository(raw, quoted=False))  # credentials never shown
        raise _error(error.prop, raw if raw is not None else str(error.value), error.allowed,
                     shown=shown) from None


def _read(environ: Mapping[str, str]) -> Settings:
    get = environ.get
    notes: list[str] = []

    cluster_label = get("IPYTHON_CLUSTER_LABEL")
    if cluster_label is not None:
        labels.cluster_label("IPYTHON_CLUSTER_LABEL", cluster_label)
    user_label = get("IPYTHON_USER_LABEL")
    labels.viewer_labels(
        user_prop="IPYTHON_USER_LABEL",
        user=user_label,
        cluster_prop="IPYTHON_CLUSTER_LABEL",
        cluster=cluster_label,
    )

    repository, repository_variable = _repository(get, notes)
    repository_required = validation.repository_required(
        "IPYTHON_REPOSITORY_REQUIRED",
        _boolean("IPYTHON_REPOSITORY_REQUIRED", get("IPYTHON_REPOSITORY_REQUIRED", "false")),
        repository or repository_variable,
        repository_prop="IPYTHON_NOTEBOOK_REPOSITORY",
    )
    cluster_encryption = validation.one_of(
        "IPYTHON_CLUSTER_ENCRYPTION",
        get("IPYTHON_CLUSTER_ENCRYPTION", DEFAULT_CLUSTER_ENCRYPTION),
        CLUSTER_ENCRYPTIONS,
    )

    password = get("IPYTHON_USER_PASSWORD")
    tf_var_password = get(PASSWORD_TF_VAR)
    if password is not None:
        validation.user_password(
            "IPYTHON_USER_PASSWORD", password, min_length=MIN_USER_PASSWORD_LENGTH
        )
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

    engines = _integer(
        "IPYTHON_ENGINES", get("IPYTHON_ENGINES", str(DEFAULT_ENGINES)), minimum=0, maximum=MAX_ENGINES
    )
    image = validation.image("IPYTHON_IMAGE", get("IPYTHON_IMAGE", DEFAULT_IMAGE))
    domain = validation.dns_subdomain(
        "IPYTHON_DOMAIN", get("IPYTHON_DOMAIN", DEFAULT_DOMAIN), max_length=253 - 64
    )
    namespace = validation.dns_label("IPYTHON_NAMESPACE", get("IPYTHON_NAMESPACE", DEFAULT_NAMESPACE))
    optional_names = {
        key: validation.optional_dns_subdomain(key, get(key))
        for key in (
            "IPYTHON_INGRESS_CLASS",
            "IPYTHON_TLS_SECRET",
            "IPYTHON_CLUSTER_ISSUER",
            "IPYTHON_STORAGE_CLASS",
        )
    }
    workspace_size = validation.quantity(
        "IPYTHON_WORKSPACE_SIZE", get("IPYTHON_WORKSPACE_SIZE", DEFAULT_WORKSPACE_SIZE)
    )
    cull = _integer(
        "IPYTHON_CULL_IDLE_SECONDS",
        get("IPYTHON_CULL_IDLE_SECONDS", str(DEFAULT_CULL_IDLE_SECONDS)),
        minimum=0,
        maximum=MAX_CULL_IDLE_SECONDS,
    )
    network_policies = _boolean("IPYTHON_NETWORK_POLICIES", get("IPYTHON_NETWORK_POLICIES", "true"))

    kubeconfig = get("KUBECONFIG") or DEFAULT_KUBECONFIG
    paths = tuple(path for path in kubeconfig.split(":") if path)
    if not paths or any(re.search(r"\s", path) for path in paths):
        raise InvalidValue("KUBECONFIG", kubeconfig, "file paths without spaces, ':'-separated")
    context = get("KUBE_CONTEXT")
    if context is not None and (not context or re.search(r"\s", context)):
        raise InvalidValue("KUBE_CONTEXT", context, "a kubeconfig context name (not empty, no spaces)")

    return Settings(
        user_label=user_label,
        cluster_label=cluster_label,
        notebook_repository=repository,
        repository_required=repository_required,
        cluster_encryption=cluster_encryption,
        password_chosen=get("IPYTHON_USER_PASSWORD") is not None or get(PASSWORD_TF_VAR) is not None,
        engines=engines,
        image=image,
        domain=domain,
        namespace=namespace,
        ingress_class=optional_names["IPYTHON_INGRESS_CLASS"],
        tls_secret=optional_names["IPYTHON_TLS_SECRET"],
        cluster_issuer=optional_names["IPYTHON_CLUSTER_ISSUER"],
        workspace_size=workspace_size,
        storage_class=optional_names["IPYTHON_STORAGE_CLASS"],
        cull_idle_seconds=cull,
        network_policies=network_policies,
        kube_config_paths=paths,
        kube_context=context,
        notes=tuple(notes),
        repository_variable=repository_variable,
    )


def _repository(get, notes: list[str]) -> tuple[str | None, bool]:
    """(the URL for a plain env value, whether the stacks declare the sensitive variable).

    The same rules as the password's: a URL with credentials, or TF_VAR_notebook_repository set,
    declares the variable and the URL is not kept; with both set they must be equal.
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
        return None, True
    if repository is not None and validation.repository_has_credentials(repository):
        notes.append(
            f"note: IPYTHON_NOTEBOOK_REPOSITORY carries credentials and is not written into cdktf.out; "
            f'before `cdktf deploy` run: export {REPOSITORY_TF_VAR}="$IPYTHON_NOTEBOOK_REPOSITORY"'
        )
        return None, True
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
