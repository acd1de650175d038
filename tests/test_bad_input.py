"""Bad input, across the three ways in: construct props, stack parameters, the image's environment.

One table, grouped by kind of mistake, so that the same mistake is seen to be refused the same
way wherever it is made (the per-layer tables in tests/constructs/test_invalid_props.py,
tests/constructs/test_parameters.py and tests/roles/test_bad_configuration.py go deeper into each
layer). Every row must:

* stop with ONE line naming the parameter and showing the value (``<hidden...>`` for secrets,
  which never appear) and what is allowed;
* leave nothing behind: a construct that refused its props never joined the tree (the stack
  stays empty, no file is written); ``python infra/main.py`` exits 2 and its working directory stays empty (no
  cdktf.out); ``python image/entrypoint.py`` exits 2 within seconds, its HOME and workspace stay
  empty and nothing listens on the ports it was given.

The subprocess rows run four at a time; the prop rows run in this process (jsii is not
thread-safe) while they do.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from infra.node_runtime import use_pinned_node
from infra.parameters import BOOLEAN, BOOLEAN_ALLOWED, INTEGER, PARAMETERS
from ipython_k8s.props import EngineGroup
from tests.constructs.synth import REPO, clean_env

use_pinned_node()

PROP, STACK, IMAGE = "construct prop", "stack parameter", "image environment"
MAIN = REPO / "infra" / "main.py"
ENTRYPOINT = REPO / "image" / "entrypoint.py"
FAST_EXIT_SECONDS = 5
#: the role's log lines (ipython_roles.logs): a time stamp, then the prefix
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[entrypoint\] ")

KEY = "a-cluster-key-of-at-least-32-characters"
TOKEN = "ghp_0123456789abcdefSECRET"
LONG_URL = "https://example.org/" + "n" * 4980
LONG_SHOWN = LONG_URL[:60] + f"...({len(LONG_URL)} characters)"
OPTION_LIKE = "whose host and user name do not start with '-'"
CONTROLLER = {"IPYTHON_CONTAINER_TYPE": "controller", "IPYTHON_CLUSTER_LABEL": "demo", "IPYTHON_CLUSTER_KEY": KEY}
ENGINE = {**CONTROLLER, "IPYTHON_CONTAINER_TYPE": "engine"}
VIEWER = {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWORD": "a-good-password"}


@dataclass(frozen=True)
class Row:
    mistake: str
    layer: str
    given: dict  # props (with "construct": viewer|cluster) or environment
    parameter: str  # named at the start of the one line
    shown: str  # how the value appears in it
    allowed: str  # a part of what-is-allowed
    secret: str | None = field(default=None)
    #: A mistake only the role's start can find (a repository that cannot be cloned): the role
    #: logs its start before the one error line, and its workspace folder exists, empty.
    at_start: bool = field(default=False)


def prop(construct: str, **props) -> dict:
    """Props of a construct (viewer, cluster) or of a props object built on its own (placement,
    toleration, engine_group: EngineClusterProps and NotebookViewerProps take them ready-made)."""
    return {"construct": construct, **props}


ROWS = [
    Row("label with capitals", PROP, prop("viewer", user_label="Alice"), "user_label", "'Alice'", "a DNS label"),
    Row("label with capitals", STACK, {"IPYTHON_CLUSTER_LABEL": "Demo"}, "IPYTHON_CLUSTER_LABEL", "Demo", "a DNS label"),
    Row("label with capitals", IMAGE, {**CONTROLLER, "IPYTHON_CLUSTER_LABEL": "Demo"}, "IPYTHON_CLUSTER_LABEL", "Demo",
        "a DNS label"),
    Row("label with underscore", PROP, prop("cluster", cluster_label="de_mo"), "cluster_label", "'de_mo'", "a DNS label"),
    Row("label with underscore", STACK, {"IPYTHON_USER_LABEL": "al_ice"}, "IPYTHON_USER_LABEL", "al_ice", "a DNS label"),
    Row("label with underscore", IMAGE, {**ENGINE, "IPYTHON_CLUSTER_LABEL": "de_mo"}, "IPYTHON_CLUSTER_LABEL", "de_mo",
        "a DNS label"),
    Row("label with leading dash", PROP, prop("viewer", cluster_label="-demo"), "cluster_label", "'-demo'",
        "starting and ending with a letter or digit"),
    Row("label with leading dash", STACK, {"IPYTHON_CLUSTER_LABEL": "-demo"}, "IPYTHON_CLUSTER_LABEL", "-demo",
        "starting and ending with a letter or digit"),
    Row("label with leading dash", IMAGE, {**VIEWER, "IPYTHON_CLUSTER_LABEL": "-demo", "IPYTHON_CLUSTER_KEY": KEY},
        "IPYTHON_CLUSTER_LABEL", "-demo", "a DNS label"),
    Row("label too long for the derived names", PROP, prop("cluster", cluster_label="c" * 43), "cluster_label",
        f"'{'c' * 43}'", "'ipcluster-<cluster>-controller' stays within 63 characters"),
    Row("label too long for the derived names", STACK, {"IPYTHON_USER_LABEL": "u" * 39}, "IPYTHON_USER_LABEL", "u" * 39,
        "'nbviewer-<user>-<cluster>-workspace' stays within 63 characters"),
    Row("label too long for the derived names", IMAGE, {**CONTROLLER, "IPYTHON_CLUSTER_LABEL": "c" * 54},
        "IPYTHON_CLUSTER_LABEL", "c" * 54, "of at most 53 characters"),
    Row("empty label", PROP, prop("viewer", user_label=""), "user_label", "''", "a DNS label of 1 to"),
    Row("empty label", STACK, {"IPYTHON_USER_LABEL": ""}, "IPYTHON_USER_LABEL", "", "a DNS label of 1 to"),
    Row("empty label", IMAGE, {**ENGINE, "IPYTHON_CLUSTER_LABEL": ""}, "IPYTHON_CLUSTER_LABEL", "<unset>",
        "required for the engine role"),
    Row("negative engine count", PROP, prop("cluster", engines=-1), "engines", "-1", "an integer from 0 to 1000"),
    Row("negative engine count", STACK, {"IPYTHON_ENGINES": "-1"}, "IPYTHON_ENGINES", "-1", "an integer from 0 to 1000"),
    Row("non-numeric engine count", PROP, prop("cluster", engines="3"), "engines", "'3'", "an integer from 0 to 1000"),
    Row("non-numeric engine count", STACK, {"IPYTHON_ENGINES": "three"}, "IPYTHON_ENGINES", "three",
        "an integer from 0 to 1000"),
    Row("repository URL with a space", PROP, prop("viewer", notebook_repository="https://example.org/my repo.git"),
        "notebook_repository", "'https://example.org/my repo.git'", "no spaces"),
    Row("repository URL with a space", STACK, {"IPYTHON_NOTEBOOK_REPOSITORY": "https://example.org/my repo.git"},
        "IPYTHON_NOTEBOOK_REPOSITORY", "https://example.org/my repo.git", "no spaces"),
    Row("repository URL with a space", IMAGE, {**ENGINE, "IPYTHON_NOTEBOOK_REPOSITORY": "https://example.org/my repo.git"},
        "IPYTHON_NOTEBOOK_REPOSITORY", "https://example.org/my repo.git", "without spaces"),
    Row("unsupported repository scheme", PROP, prop("cluster", notebook_repository="ftp://example.org/r.git"),
        "notebook_repository", "'ftp://example.org/r.git'", "https://"),
    Row("unsupported repository scheme", STACK, {"IPYTHON_NOTEBOOK_REPOSITORY": "ftp://example.org/r.git"},
        "IPYTHON_NOTEBOOK_REPOSITORY", "ftp://example.org/r.git", "https://"),
    Row("unsupported repository scheme", IMAGE, {**VIEWER, "IPYTHON_NOTEBOOK_REPOSITORY": "ftp://example.org/r.git"},
        "IPYTHON_NOTEBOOK_REPOSITORY", "ftp://example.org/r.git", "https://"),
    Row("option-like host or user in the repository URL", PROP,
        prop("viewer", notebook_repository="-oProxyCommand@x:y"), "notebook_repository", "'<hidden>@x:y'", OPTION_LIKE),
    Row("option-like host or user in the repository URL", PROP,
        prop("cluster", notebook_repository="ssh://%2doProxyCommand=touch/x"), "notebook_repository",
        "'ssh://%2doProxyCommand=touch/x'", OPTION_LIKE),
    Row("option-like host or user in the repository URL", STACK,
        {"IPYTHON_NOTEBOOK_REPOSITORY": "ssh://-oProxyCommand=touch/x"}, "IPYTHON_NOTEBOOK_REPOSITORY",
        "ssh://-oProxyCommand=touch/x", OPTION_LIKE),
    Row("option-like host or user in the repository URL", IMAGE,
        {**ENGINE, "IPYTHON_NOTEBOOK_REPOSITORY": "-oProxyCommand@x:y"}, "IPYTHON_NOTEBOOK_REPOSITORY",
        "<hidden>@x:y", OPTION_LIKE),
    Row("option-like host or user in the repository URL", IMAGE,
        {**VIEWER, "IPYTHON_NOTEBOOK_REPOSITORY": "ssh://%2doProxyCommand=touch/x"}, "IPYTHON_NOTEBOOK_REPOSITORY",
        "ssh://%2doProxyCommand=touch/x", OPTION_LIKE),
    Row("repository URL too long", PROP, prop("viewer", notebook_repository=LONG_URL), "notebook_repository",
        f"'{LONG_SHOWN}'", "at most 2048 characters"),
    Row("repository URL too long", STACK, {"IPYTHON_NOTEBOOK_REPOSITORY": LONG_URL}, "IPYTHON_NOTEBOOK_REPOSITORY",
        LONG_SHOWN, "at most 2048 characters"),
    Row("repository URL too long", IMAGE, {**ENGINE, "IPYTHON_NOTEBOOK_REPOSITORY": LONG_URL},
        "IPYTHON_NOTEBOOK_REPOSITORY", LONG_SHOWN, "at most 2048 characters"),
    # what only cloning finds, with IPYTHON_REPOSITORY_REQUIRED=true (else one log line, and the role starts)
    Row("repository that is not a git repository", IMAGE,
        {**ENGINE, "IPYTHON_NOTEBOOK_REPOSITORY": "file:///etc", "IPYTHON_REPOSITORY_REQUIRED": "true"},
        "IPYTHON_NOTEBOOK_REPOSITORY", "file:///etc", "could not be cloned: not a git repository: /etc",
        at_start=True),
    Row("ssh repository URL (the image has no ssh client)", IMAGE,
        {**VIEWER, "IPYTHON_NOTEBOOK_REPOSITORY": "git@example.org:team/notebooks.git",
         "IPYTHON_REPOSITORY_REQUIRED": "true"},
        "IPYTHON_NOTEBOOK_REPOSITORY", "<hidden>@example.org:team/notebooks.git",  # a user part may be a token
        "need an ssh client, which the image does not have; use https://", at_start=True),
    Row("refused repository URL with credentials", PROP,
        prop("cluster", notebook_repository=f"https://{TOKEN}@example.org/my repo.git"), "notebook_repository",
        "'https://<hidden>@example.org/my repo.git'", "no spaces", secret=TOKEN),
    Row("refused repository URL with credentials", STACK,
        {"IPYTHON_NOTEBOOK_REPOSITORY": f"https://user:p@ss{TOKEN}@example.org/my repo.git"},
        "IPYTHON_NOTEBOOK_REPOSITORY", "https://<hidden>@example.org/my repo.git", "no spaces", secret=TOKEN),
    Row("refused repository URL with credentials", IMAGE,
        {**VIEWER, "IPYTHON_NOTEBOOK_REPOSITORY": f"git://{TOKEN}@example.org/n.git"}, "IPYTHON_NOTEBOOK_REPOSITORY",
        "git://<hidden>@example.org/n.git", "without user name or password", secret=TOKEN),
    Row("refused repository URL with credentials", IMAGE,
        {**ENGINE, "IPYTHON_NOTEBOOK_REPOSITORY": f"ssh://git:{TOKEN}@example.org/n.git"}, "IPYTHON_NOTEBOOK_REPOSITORY",
        "ssh://<hidden>@example.org/n.git", "an ssh URL without password", secret=TOKEN),
    Row("repository credentials as a literal", PROP,
        prop("viewer", notebook_repository=f"https://{TOKEN}@example.org/n.git"), "notebook_repository",
        "'https://<hidden>@example.org/n.git'", "a Terraform token such as repository_variable(stack).string_value",
        secret=TOKEN),
    Row("repository credentials as a literal", STACK,
        {"IPYTHON_NOTEBOOK_REPOSITORY": f"https://{TOKEN}@example.org/n.git",
         "TF_VAR_notebook_repository": f"https://{TOKEN}x@example.org/n.git"},
        "TF_VAR_notebook_repository", "https://<hidden>@example.org/n.git", "the same value as IPYTHON_NOTEBOOK_REPOSITORY",
        secret=TOKEN),
    Row("chosen password shorter than 8", PROP, prop("viewer", password="short"), "password",
        "<hidden, 5 characters>", "at least 8 characters", secret="short"),
    Row("chosen password shorter than 8", STACK, {"IPYTHON_USER_PASSWORD": "short77"}, "IPYTHON_USER_PASSWORD",
        "<hidden, 7 characters>", "at least 8 characters", secret="short77"),
    Row("chosen password shorter than 8", STACK, {"TF_VAR_user_password": "abc"}, "TF_VAR_user_password",
        "<hidden, 3 characters>", "at least 8 characters", secret="abc"),
    Row("chosen password shorter than 8", IMAGE, {**VIEWER, "IPYTHON_USER_PASSWORD": "seven77"},
        "IPYTHON_USER_PASSWORD", "<hidden>", "at least 8 characters", secret="seven77"),
    Row("unknown role", IMAGE, {"IPYTHON_CONTAINER_TYPE": "worker"}, "IPYTHON_CONTAINER_TYPE", "worker",
        "one of viewer, controller, engine"),
    Row("unknown role", STACK, {"IPYTHON_CONTAINER_TYPE": "viewer"}, "IPYTHON_CONTAINER_TYPE", "viewer",
        "not a parameter of the stacks"),
    Row("missing key", IMAGE, {k: v for k, v in ENGINE.items() if k != "IPYTHON_CLUSTER_KEY"}, "IPYTHON_CLUSTER_KEY",
        "<unset>", "required for the engine role"),
    Row("missing key", IMAGE, {**VIEWER, "IPYTHON_CLUSTER_LABEL": "demo"}, "IPYTHON_CLUSTER_KEY", "<unset>",
        "required for a viewer that has IPYTHON_CLUSTER_LABEL"),
    Row("missing key", PROP, prop("viewer", cluster_key_secret="demo-key"), "cluster_key_secret", "'demo-key'",
        "None unless cluster_label is given"),
    Row("port out of range", PROP, prop("viewer", port=70000), "port", "70000", "an integer from 1 to 65535"),
    Row("port out of range", IMAGE, {**VIEWER, "IPYTHON_VIEWER_PORT": "70000"}, "IPYTHON_VIEWER_PORT", "70000",
        "a port number from 1 to 65535"),
    Row("port out of range", IMAGE, {**CONTROLLER, "IPYTHON_CONTROLLER_PORT": "65530"}, "IPYTHON_CONTROLLER_PORT",
        "65530", "a port number from 1 to 65520"),
    Row("idle-culling time not a whole number", PROP, prop("viewer", cull_idle_seconds=-5), "cull_idle_seconds", "-5",
        "an integer from 0 to"),
    Row("idle-culling time not a whole number", STACK, {"IPYTHON_CULL_IDLE_SECONDS": "-1"}, "IPYTHON_CULL_IDLE_SECONDS",
        "-1", "an integer from 0 to"),
    Row("idle-culling time not a whole number", IMAGE, {**VIEWER, "IPYTHON_CULL_IDLE_SECONDS": "1h"},
        "IPYTHON_CULL_IDLE_SECONDS", "1h", "a whole number of seconds"),
    Row("unknown encryption", IMAGE, {**CONTROLLER, "IPYTHON_CLUSTER_ENCRYPTION": "tls"}, "IPYTHON_CLUSTER_ENCRYPTION",
        "tls", "one of curve, none"),
    Row("unknown encryption", PROP, prop("cluster", cluster_encryption="tls"), "cluster_encryption", "'tls'",
        "one of curve, none"),
    Row("unknown encryption", PROP, prop("viewer", cluster_label="demo", cluster_encryption="CURVE"),
        "cluster_encryption", "'CURVE'", "one of curve, none"),
    Row("unknown encryption", STACK, {"IPYTHON_CLUSTER_ENCRYPTION": "tls"}, "IPYTHON_CLUSTER_ENCRYPTION", "tls",
        "one of curve, none"),
    Row("repository-required not a boolean", PROP,
        prop("cluster", notebook_repository="https://example.org/n.git", repository_required="yes"),
        "repository_required", "'yes'", "True or False"),
    Row("repository-required not a boolean", STACK,
        {"IPYTHON_NOTEBOOK_REPOSITORY": "https://example.org/n.git", "IPYTHON_REPOSITORY_REQUIRED": "maybe"},
        "IPYTHON_REPOSITORY_REQUIRED", "maybe", "true or false"),
    Row("repository-required not a boolean", IMAGE, {**VIEWER, "IPYTHON_REPOSITORY_REQUIRED": "1"},
        "IPYTHON_REPOSITORY_REQUIRED", "1", "true or false"),
    Row("repository-required not the image's boolean", STACK,
        {"IPYTHON_NOTEBOOK_REPOSITORY": "https://example.org/n.git", "IPYTHON_REPOSITORY_REQUIRED": "yes"},
        "IPYTHON_REPOSITORY_REQUIRED", "yes", BOOLEAN_ALLOWED),
    Row("repository-required not the image's boolean", IMAGE, {**VIEWER, "IPYTHON_REPOSITORY_REQUIRED": "yes"},
        "IPYTHON_REPOSITORY_REQUIRED", "yes", BOOLEAN_ALLOWED),
    Row("message limit out of range", PROP, prop("cluster", max_message_mib=0), "max_message_mib", "0",
        "an integer from 1 to 4096"),
    Row("message limit out of range", STACK, {"IPYTHON_MAX_MESSAGE_MIB": "0"}, "IPYTHON_MAX_MESSAGE_MIB", "0",
        "an integer from 1 to 4096"),
    Row("message limit out of range", IMAGE, {**CONTROLLER, "IPYTHON_MAX_MESSAGE_MIB": "0"}, "IPYTHON_MAX_MESSAGE_MIB",
        "0", "from 1 to 4096"),
    Row("repository required without a repository", PROP, prop("viewer", repository_required=True),
        "repository_required", "True", "False unless notebook_repository is given"),
    Row("repository required without a repository", STACK, {"IPYTHON_REPOSITORY_REQUIRED": "true"},
        "IPYTHON_REPOSITORY_REQUIRED", "true", "False unless IPYTHON_NOTEBOOK_REPOSITORY is given"),
    Row("typo in a variable name", STACK, {"IPYTHON_CLUSTER_ENCRYPTON": "none"}, "IPYTHON_CLUSTER_ENCRYPTON", "none",
        "did you mean IPYTHON_CLUSTER_ENCRYPTION?"),
    Row("typo in a variable name", IMAGE, {**CONTROLLER, "IPYTHON_CLUSTER_ENCRYPTON": "none"},
        "IPYTHON_CLUSTER_ENCRYPTON", "none", "not a variable of the image; did you mean IPYTHON_CLUSTER_ENCRYPTION?"),
    Row("misspelt password", IMAGE, {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWROD": "a-secret-value"},
        "IPYTHON_USER_PASSWROD", "<hidden>", "did you mean IPYTHON_USER_PASSWORD?", secret="a-secret-value"),
    # issue 12: shared data, placement and GPUs, engine groups, uploads, repository updates
    Row("shared storage size not a quantity", PROP, prop("cluster", shared_storage_size="10GB"),
        "shared_storage_size", "'10GB'", "a positive Kubernetes quantity"),
    Row("shared storage size not a quantity", STACK, {"IPYTHON_SHARED_STORAGE": "10GB"}, "IPYTHON_SHARED_STORAGE",
        "10GB", "a positive Kubernetes quantity"),
    Row("shared storage class without shared storage", PROP, prop("cluster", shared_storage_class="nfs"),
        "shared_storage_class", "'nfs'", "None unless shared_storage_size is given"),
    Row("shared storage class without shared storage", STACK, {"IPYTHON_SHARED_STORAGE_CLASS": "nfs"},
        "IPYTHON_SHARED_STORAGE_CLASS", "nfs", "None unless IPYTHON_SHARED_STORAGE is given"),
    Row("GPU count out of range", PROP, prop("placement", gpus=-1), "placement.gpus", "-1", "an integer from 0 to 16"),
    Row("GPU count out of range", STACK, {"IPYTHON_ENGINE_GPUS": "17"}, "IPYTHON_ENGINE_GPUS", "17",
        "an integer from 0 to 16"),
    Row("GPU count out of range", STACK, {"IPYTHON_ENGINE_GROUPS": "gpu:2:-1"}, "IPYTHON_ENGINE_GROUPS", "gpu:2:-1",
        "in 'gpu:2:-1', gpus: an integer from 0 to 16"),
    Row("node selector not node labels", PROP, prop("placement", node_selector={"Pool Name": "gpu"}),
        "placement.node_selector", "'Pool Name'", "a Kubernetes qualified name"),
    Row("node selector not node labels", STACK, {"IPYTHON_ENGINE_NODE_SELECTOR": "gpu"}, "IPYTHON_ENGINE_NODE_SELECTOR",
        "gpu", "comma-separated node labels key=value"),
    Row("toleration with an unknown effect", PROP, prop("toleration", key="dedicated", effect="Never"),
        "placement.tolerations.effect", "'Never'", "one of NoSchedule, PreferNoSchedule, NoExecute"),
    Row("toleration with an unknown effect", STACK, {"IPYTHON_ENGINE_TOLERATIONS": "dedicated=x:Never"},
        "IPYTHON_ENGINE_TOLERATIONS", "dedicated=x:Never", "one of NoSchedule, PreferNoSchedule, NoExecute"),
    Row("image pull secret not a Secret name", PROP, prop("placement", image_pull_secrets=("Registry_Login",)),
        "placement.image_pull_secrets", "'Registry_Login'", "a DNS name"),
    Row("image pull secret not a Secret name", STACK, {"IPYTHON_IMAGE_PULL_SECRET": "Registry_Login"},
        "IPYTHON_IMAGE_PULL_SECRET", "Registry_Login", "a DNS name"),
    Row("engine group named like the default group", PROP, prop("engine_group", name="default"), "engine_group.name",
        "'default'", "a name other than 'default'"),
    Row("engine group named like the default group", STACK, {"IPYTHON_ENGINE_GROUPS": "default:2"},
        "IPYTHON_ENGINE_GROUPS", "default:2", "a name other than 'default'"),
    Row("engine group name not a DNS label", PROP, prop("engine_group", name="GPU"), "engine_group.name", "'GPU'",
        "a DNS label"),
    Row("engine group name not a DNS label", STACK, {"IPYTHON_ENGINE_GROUPS": "GPU:2"}, "IPYTHON_ENGINE_GROUPS",
        "GPU:2", "a DNS label"),
    Row("engine group name not a DNS label", IMAGE, {**ENGINE, "IPYTHON_ENGINE_GROUP": "GPU"}, "IPYTHON_ENGINE_GROUP",
        "GPU", "a DNS label"),
    Row("engine group given twice", PROP, prop("cluster", engine_groups=(EngineGroup(name="gpu"), EngineGroup(name="gpu"))),
        "engine_groups", "'gpu'", "distinct group names"),
    Row("engine group given twice", STACK, {"IPYTHON_ENGINE_GROUPS": "gpu:1,gpu:2"}, "IPYTHON_ENGINE_GROUPS",
        "gpu:1,gpu:2", "distinct group names"),
    Row("engine group name too long for its Deployment", PROP,
        prop("cluster", cluster_label="c" * 42, engine_groups=(EngineGroup(name="gpus"),)), "engine_groups", "'gpus'",
        "'ipcluster-<cluster>-engine-<group>' stays within 63 characters next to a 42-character cluster label"),
    Row("engine group name too long for its Deployment", STACK,
        {"IPYTHON_CLUSTER_LABEL": "c" * 42, "IPYTHON_ENGINE_GROUPS": "gpus:1"}, "IPYTHON_ENGINE_GROUPS", "gpus:1",
        "group names of at most 3 characters"),
    Row("body size not in nginx's syntax", PROP, prop("viewer", ingress_body_size="64MB"), "ingress_body_size",
        "'64MB'", "a size in nginx's syntax"),
    Row("body size not in nginx's syntax", STACK, {"IPYTHON_INGRESS_BODY_SIZE": "1.5g"}, "IPYTHON_INGRESS_BODY_SIZE",
        "1.5g", "a size in nginx's syntax"),
    Row("unknown repository update", PROP,
        prop("viewer", notebook_repository="https://example.org/n.git", repository_update="always"),
        "repository_update", "'always'", "one of pull, never"),
    Row("unknown repository update", STACK, {"IPYTHON_REPOSITORY_UPDATE": "always"}, "IPYTHON_REPOSITORY_UPDATE",
        "always", "one of pull, never"),
    Row("unknown repository update", IMAGE, {**VIEWER, "IPYTHON_REPOSITORY_UPDATE": "always"},
        "IPYTHON_REPOSITORY_UPDATE", "always", "one of pull, never"),
    Row("repository update without a repository", PROP, prop("cluster", repository_update="never"),
        "repository_update", "'never'", "'pull' unless notebook_repository is given"),
    Row("repository update without a repository", STACK, {"IPYTHON_REPOSITORY_UPDATE": "never"},
        "IPYTHON_REPOSITORY_UPDATE", "never", "'pull' unless IPYTHON_NOTEBOOK_REPOSITORY is given"),
    # issue 14: the viewer's trusted proxies (login throttled per client behind the Ingress)
    Row("trusted proxy not an IP address or network", PROP, prop("viewer", trusted_proxies=("ingress-nginx",)),
        "trusted_proxies", "'ingress-nginx'", "an IP address or CIDR network"),
    Row("trusted proxy not an IP address or network", STACK, {"IPYTHON_TRUSTED_PROXIES": "10.0.0.0/8,10.0.0.1/8"},
        "IPYTHON_TRUSTED_PROXIES", "10.0.0.0/8,10.0.0.1/8", "in '10.0.0.1/8': an IP address or CIDR network"),
    Row("trusted proxy not an IP address or network", IMAGE, {**VIEWER, "IPYTHON_TRUSTED_PROXIES": "ingress-nginx"},
        "IPYTHON_TRUSTED_PROXIES", "ingress-nginx", "IP addresses or CIDR networks"),
    Row("trusting every address", PROP, prop("viewer", trusted_proxies=("0.0.0.0/0",)), "trusted_proxies",
        "'0.0.0.0/0'", "not 0.0.0.0/0 or ::/0 (every client could pick its address)"),
    Row("trusting every address", STACK, {"IPYTHON_TRUSTED_PROXIES": "::/0"}, "IPYTHON_TRUSTED_PROXIES", "::/0",
        "not 0.0.0.0/0 or ::/0 (every client could pick its address)"),
    Row("trusting every address", IMAGE, {**VIEWER, "IPYTHON_TRUSTED_PROXIES": "10.0.0.0/8,0.0.0.0/0"},
        "IPYTHON_TRUSTED_PROXIES", "10.0.0.0/8,0.0.0.0/0", "not 0.0.0.0/0 or ::/0 (every client could pick its address)"),
]


def _table_rows() -> list[Row]:
    """One stack row per parameter of infra/parameters.py's table: its first bad value (from its
    parse type and its prop's rule), so a new parameter is covered here without a new line."""
    rows = []
    for parameter in PARAMETERS:
        value = parameter.bad_values[0]
        given = {parameter.name: value}
        if parameter.name == "IPYTHON_REPOSITORY_REQUIRED":
            given["IPYTHON_NOTEBOOK_REPOSITORY"] = "https://example.org/n.git"
        secret = "PASSWORD" in parameter.name.upper()
        shown = f"<hidden, {len(value)} characters>" if secret else value
        allowed = {INTEGER: "an integer from", BOOLEAN: BOOLEAN_ALLOWED}.get(parameter.parse, "")
        rows.append(Row(f"bad {parameter.name} (parameter table)", STACK, given, parameter.name, shown, allowed,
                        secret=value if secret else None))
    return rows


ROWS += _table_rows()
IDS = [f"{i:02}-{row.layer.split()[0]}-{row.mistake.replace(' ', '-')}" for i, row in enumerate(ROWS)]


@dataclass
class Outcome:
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    leftovers: list[str]
    listening: list[int]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _run(row: Row, root: Path) -> Outcome:
    root.mkdir(parents=True)
    if row.layer == STACK:
        command, env, cwd, watched = [sys.executable, str(MAIN)], clean_env(**row.given), root, [root]
        ports: list[int] = []
    else:
        home, workspace = root / "home", root / "work"
        home.mkdir()
        ports = [_free_port()]
        variables = {
            "IPYTHON_NOTEBOOK_DIR": str(workspace),
            "IPYTHON_VIEWER_PORT": str(ports[0]),
            "IPYTHON_CONTROLLER_PORT": str(ports[0]),
            **row.given,
        }
        # as in the image: Python's tools and git, no ssh client
        tools = root / "tools"
        tools.mkdir()
        (tools / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
        env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{tools}", "HOME": str(home),
               "LANG": "C.UTF-8", **variables}
        command, cwd, watched = [sys.executable, str(ENTRYPOINT)], root, [home]
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    seconds = time.monotonic() - started
    leftovers = [str(path) for folder in watched for path in folder.iterdir()]
    if row.layer == IMAGE and (root / "work").exists() and not (row.at_start and not any((root / "work").iterdir())):
        leftovers.append(str(root / "work"))
    return Outcome(done.returncode, done.stdout, done.stderr, seconds, leftovers, [p for p in ports if _listening(p)])


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, request) -> dict[int, Outcome]:
    """Every selected subprocess row (``-k "not image"`` runs no image row), four at a time."""
    root = tmp_path_factory.mktemp("bad-input")
    selected = {item.callspec.params["index"] for item in request.session.items
                if item.path == request.path and hasattr(item, "callspec") and "index" in item.callspec.params}
    rows = [(index, row) for index, row in enumerate(ROWS) if row.layer != PROP and index in selected]
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {index: pool.submit(_run, row, root / f"row-{index}") for index, row in rows}
        return {index: future.result() for index, future in futures.items()}


def _construct(row: Row, tmp_path: Path):
    from cdktf import App, TerraformStack
    from ipython_k8s import EngineCluster, InvalidValue, NotebookViewer, Placement, Toleration

    stack = TerraformStack(App(outdir=str(tmp_path / "cdktf.out")), "stack")
    props = dict(row.given)
    kind = props.pop("construct")
    parts = {"placement": Placement, "toleration": Toleration, "engine_group": EngineGroup}
    with pytest.raises(InvalidValue) as caught:
        if kind == "viewer":
            NotebookViewer(stack, "viewer", domain="example.org", **props)
        elif kind in parts:
            parts[kind](**props)  # refused before any construct could be given it
        else:
            EngineCluster(stack, "cluster", **props)
    assert stack.node.children == [], "the refused construct left children in the stack"
    # cdktf makes its output folders when the App and the stack are created; no file is written
    assert [path for path in (tmp_path / "cdktf.out").rglob("*") if path.is_file()] == []
    return str(caught.value)


def _check_line(row: Row, line: str) -> None:
    prefix = "" if row.layer == PROP else "error: "
    expected_start = f"{prefix}{row.parameter}={row.shown}: "
    assert line.startswith(expected_start), f"{line!r} should start with {expected_start!r}"
    assert row.allowed in line[len(expected_start):], line
    if row.secret:
        assert row.secret not in line


def test_the_table_covers_every_layer_and_enough_mistakes():
    assert len(ROWS) >= 25
    assert {row.layer for row in ROWS} == {PROP, STACK, IMAGE}
    assert len({row.mistake for row in ROWS}) >= 12


@pytest.mark.parametrize("index", range(len(ROWS)), ids=IDS)
def test_bad_input_stops_with_one_line_and_leaves_nothing(index, outcomes, tmp_path):
    row = ROWS[index]
    if row.layer == PROP:
        message = _construct(row, tmp_path)
        assert "\n" not in message
        _check_line(row, message)
        return
    outcome = outcomes[index]
    assert outcome.returncode == 2, outcome.stderr
    assert outcome.stdout == ""
    lines = outcome.stderr.splitlines()
    if row.at_start:
        assert all(LOG_LINE.match(line) for line in lines[:-1]), outcome.stderr
        lines = lines[-1:]
    assert len(lines) == 1, outcome.stderr
    _check_line(row, lines[0])
    assert outcome.leftovers == [], "files were written"
    assert outcome.listening == [], "something listens on the role's port"
    if row.layer == IMAGE:
        assert outcome.seconds < FAST_EXIT_SECONDS, f"took {outcome.seconds:.1f} s"
