"""The environment the entrypoint reads, validated in one place before anything starts.

A container that is misconfigured must say so in one line and stop (exit status 2), not start
half-way and fail later in a log nobody reads. :func:`load_settings` therefore checks every
variable that is set, whatever the role, plus what the chosen role requires, and returns an
immutable :class:`Settings`; the roles never read ``os.environ`` for these names themselves.

Variables (defaults in brackets):

``IPYTHON_CONTAINER_TYPE``       (required) ``viewer``, ``controller`` or ``engine``.
``IPYTHON_USER_PASSWORD``        viewer login password (empty = unset), at least 8 characters,
                                 no leading or trailing whitespace (the login form strips it).
                                 Secret.
``IPYTHON_ALLOW_NO_PASSWORD``    [false] ``true`` lets a viewer start without a password.
``IPYTHON_VIEWER_PORT``          [8888] viewer HTTP port, 1-65535.
``IPYTHON_NOTEBOOK_DIR``         [$HOME/work] absolute path of the workspace.
``IPYTHON_CLUSTER_LABEL``        cluster label, a DNS label of at most 53 characters, so that
                                 ``ipcluster-<label>`` is still a DNS label (63). Required for
                                 controller and engine.
``IPYTHON_CLUSTER_KEY``          HMAC key signing ipyparallel messages: printable ASCII, no
                                 whitespace. Required for controller and engine, and for a
                                 viewer with a cluster label. Secret.
``IPYTHON_CONTROLLER_HOST``      [ipcluster-<label>] hostname or IPv4 address the controller
                                 advertises and engines/clients connect to.
``IPYTHON_CONTROLLER_PORT``      [10100] first of the controller's 16 ports, 1-65520.
``IPYTHON_CLUSTER_ENCRYPTION``   [curve] ``curve``: the controller's sockets use CurveZMQ
                                 (encrypted, the controller authenticated by a key pair derived
                                 from IPYTHON_CLUSTER_KEY, see curve_keys); ``none``: plain TCP,
                                 messages only signed. Controller, engines and viewers of one
                                 cluster must agree.
``IPYTHON_MAX_MESSAGE_MIB``      [64] the largest message part, in MiB (1-4096), any socket of the
                                 controller accepts; a peer that sends a longer one is
                                 disconnected before it is read (see message_limit). Raise it
                                 when tasks send a larger single argument or result, with the
                                 controller's memory limit (the controller role only).
``IPYTHON_CULL_IDLE_SECONDS``    [3600] the viewer shuts down kernels idle for this many seconds
                                 (checked every minute, or every timeout/2 if shorter); 0 never.
``IPYTHON_NOTEBOOK_REPOSITORY``  git ``URL[#ref]`` cloned into an empty workspace at the start
                                 of a viewer or an engine, then its requirements.txt installed
                                 (see repository_source, workspace); the controller ignores it.
``IPYTHON_REPOSITORY_REQUIRED``  [false] ``true`` refuses to start (exit 2, one-line error) when
                                 the repository cannot be cloned or its requirements.txt cannot
                                 be installed; by default the role logs one line and starts with
                                 the (empty) workspace. A workspace that already holds other
                                 files is left alone either way: it is the user's data. A pull
                                 that fails (IPYTHON_REPOSITORY_UPDATE) never stops the start: the
                                 workspace holds the repository, only older.
``IPYTHON_WORKSPACE_SEED``       [/opt/ipython/workspace-seed] a directory baked into the image
                                 (S2I assemble writes it; a derived image may COPY notebooks
                                 into it) that is copied into an EMPTY workspace at the start
                                 of a viewer or an engine, so notebooks survive a volume mounted
                                 on the workspace. IPYTHON_NOTEBOOK_REPOSITORY, when set, wins
                                 and the seed is not used (see workspace_seed).
``IPYTHON_REPOSITORY_UPDATE``    [pull] what a start does when the workspace already holds the
                                 clone of IPYTHON_NOTEBOOK_REPOSITORY: ``pull`` merges the new
                                 upstream commits with nbgitpuller's rules (the user's edits
                                 win, a file the user deleted comes back, new files appear; see
                                 repository_update); ``never`` leaves every file as it is.
``IPYTHON_ENGINE_GROUP``         [default] the engine's group, a DNS label of at most 63
                                 characters; an engine puts it into its namespace as
                                 ``engine_group`` (see engine); the other roles ignore it.
``IPYTHON_TRUSTED_PROXIES``      [none] comma-separated IP addresses or CIDR networks (IPv4 or
                                 IPv6) of the proxies in front of the viewer whose
                                 ``X-Forwarded-For``/``X-Real-IP`` are believed: a login whose
                                 TCP peer is one of them is throttled by the client address
                                 those headers name (see login_throttle.client_address); unset,
                                 by the TCP peer. Not ``0.0.0.0/0`` or ``::/0``. Only safe when
                                 nothing but those proxies can reach the viewer's port. The
                                 viewer role only.

Any other ``IPYTHON_*`` variable is refused (exit 2) with a did-you-mean suggestion: a typo such
as ``IPYTHON_CLUSTER_ENCRYPTON=none`` would otherwise be ignored silently. (IPYTHONDIR is not
``IPYTHON_*``; Kubernetes service links would inject ``IPCLUSTER_*``/``NBVIEWER_*`` names, and the
constructs turn them off anyway.)

Read as well, with their usual meaning: HOME, IPYTHONDIR, JUPYTER_RUNTIME_DIR (where files are
written, see runtime_paths), PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, PIP_NO_INDEX
and uv's UV_* variables (package sources, see requirements_install).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError
from .login_throttle import proxy_network
from .repository_source import RepositorySource, parse_repository, redact_url

ROLES = ("viewer", "controller", "engine")
SECRET_VARIABLES = ("IPYTHON_USER_PASSWORD", "IPYTHON_CLUSTER_KEY")

DEFAULT_WORKSPACE_SEED = "/opt/ipython/workspace-seed"
KNOWN_VARIABLES = (
    "IPYTHON_CONTAINER_TYPE",
    "IPYTHON_USER_PASSWORD",
    "IPYTHON_ALLOW_NO_PASSWORD",
    "IPYTHON_VIEWER_PORT",
    "IPYTHON_NOTEBOOK_DIR",
    "IPYTHON_CLUSTER_LABEL",
    "IPYTHON_CLUSTER_KEY",
    "IPYTHON_CONTROLLER_HOST",
    "IPYTHON_CONTROLLER_PORT",
    "IPYTHON_CLUSTER_ENCRYPTION",
    "IPYTHON_CULL_IDLE_SECONDS",
    "IPYTHON_MAX_MESSAGE_MIB",
    "IPYTHON_NOTEBOOK_REPOSITORY",
    "IPYTHON_REPOSITORY_REQUIRED",
    "IPYTHON_WORKSPACE_SEED",
    "IPYTHON_REPOSITORY_UPDATE",
    "IPYTHON_ENGINE_GROUP",
    "IPYTHON_TRUSTED_PROXIES",
)
OWN_PREFIX = "IPYTHON_"
_SECRET_LOOKING = re.compile(r"PASS|SECRET|KEY|TOKEN")

DEFAULT_VIEWER_PORT = 8888
DEFAULT_CONTROLLER_PORT = 10100
MIN_PASSWORD_LENGTH = 8
ENCRYPTIONS = ("curve", "none")
DEFAULT_ENCRYPTION = "curve"
DEFAULT_CULL_IDLE_SECONDS = 3600
MAX_CULL_IDLE_SECONDS = 365 * 24 * 3600
CONTROLLER_PORT_COUNT = 16
DEFAULT_MAX_MESSAGE_MIB = 64
MAX_MAX_MESSAGE_MIB = 4096
LABEL_MAX_LENGTH = 63 - len("ipcluster-")
REPOSITORY_UPDATES = ("pull", "never")
DEFAULT_REPOSITORY_UPDATE = "pull"
DEFAULT_ENGINE_GROUP = "default"
ENGINE_GROUP_MAX_LENGTH = 63
TRUSTED_PROXIES_ALLOWED = (
    "comma-separated IP addresses or CIDR networks of trusted proxies, IPv4 or IPv6 (10.0.0.0/8,fd00::/8), "
    "no host bits after a network's prefix, not 0.0.0.0/0 or ::/0 (every client could pick its address)"
)

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_KEY = re.compile(r"^[\x21-\x7e]+$")


@dataclass(frozen=True)
class Settings:
    role: str
    viewer_port: int
    allow_no_password: bool
    notebook_dir: Path
    controller_port: int
    repository_required: bool
    encryption: str = DEFAULT_ENCRYPTION
    cull_idle_seconds: int = DEFAULT_CULL_IDLE_SECONDS
    max_message_mib: int = DEFAULT_MAX_MESSAGE_MIB
    cluster_label: str | None = None
    controller_host: str | None = None
    repository: RepositorySource | None = None
    workspace_seed: Path = Path(DEFAULT_WORKSPACE_SEED)
    repository_update: str = DEFAULT_REPOSITORY_UPDATE
    engine_group: str = DEFAULT_ENGINE_GROUP
    #: the trusted proxies' networks, normalized (``192.0.2.7`` -> ``192.0.2.7/32``)
    trusted_proxies: tuple[str, ...] = ()
    password: str | None = field(default=None, repr=False)
    cluster_key: str | None = field(default=None, repr=False)

    @property
    def has_cluster(self) -> bool:
        return self.cluster_label is not None

    @property
    def curve(self) -> bool:
        return self.encryption == "curve"

    @property
    def max_message_bytes(self) -> int:
        return self.max_message_mib * 2**20


def _get(environ: Mapping[str, str], name: str) -> str | None:
    """The variable's value; an empty string counts as unset (templates often pass "")."""
    value = environ.get(name)
    return value if value else None


def _boolean(environ: Mapping[str, str], name: str) -> bool:
    value = _get(environ, name)
    if value is None:
        return False
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(name, value, "true or false")


def _port(environ: Mapping[str, str], name: str, default: int, highest: int) -> int:
    value = _get(environ, name)
    if value is None:
        return default
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= highest:
        raise ConfigError(name, value, f"a port number from 1 to {highest}")
    return int(value)


def _choice(environ: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = _get(environ, name)
    if value is None:
        return default
    if value not in allowed:
        raise ConfigError(name, value, "one of " + ", ".join(allowed))
    return value


def _seconds(environ: Mapping[str, str], name: str, default: int, highest: int) -> int:
    value = _get(environ, name)
    if value is None:
        return default
    if not value.isascii() or not value.isdigit() or int(value) > highest:
        raise ConfigError(name, value, f"a whole number of seconds from 0 to {highest} (0: never)")
    return int(value)


def _mebibytes(environ: Mapping[str, str], name: str, default: int, highest: int) -> int:
    value = _get(environ, name)
    if value is None:
        return default
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= highest:
        raise ConfigError(name, value, f"a whole number of MiB from 1 to {highest}")
    return int(value)


def _role(environ: Mapping[str, str]) -> str:
    value = _get(environ, "IPYTHON_CONTAINER_TYPE")
    if value not in ROLES:
        raise ConfigError("IPYTHON_CONTAINER_TYPE", value, "one of " + ", ".join(ROLES))
    return value


def notebook_dir_from(environ: Mapping[str, str]) -> Path:
    """IPYTHON_NOTEBOOK_DIR validated (absolute), else $HOME/work; also used by assemble."""
    value = _get(environ, "IPYTHON_NOTEBOOK_DIR")
    if value is None:
        home = _get(environ, "HOME") or os.path.expanduser("~")
        return Path(home) / "work"
    if not value.startswith("/") or not value.isprintable():
        raise ConfigError("IPYTHON_NOTEBOOK_DIR", value, "an absolute path")
    return Path(value)


def workspace_seed_from(environ: Mapping[str, str]) -> Path:
    """IPYTHON_WORKSPACE_SEED validated (absolute), else the image's default; also used by assemble."""
    value = _get(environ, "IPYTHON_WORKSPACE_SEED")
    if value is None:
        return Path(DEFAULT_WORKSPACE_SEED)
    if not value.startswith("/") or not value.isprintable():
        raise ConfigError("IPYTHON_WORKSPACE_SEED", value, "an absolute path")
    return Path(value)


def check_known_variables(environ: Mapping[str, str]) -> None:
    """Refuse the first unknown IPYTHON_* variable, suggesting the closest known name."""
    for name in sorted(environ):
        if not name.startswith(OWN_PREFIX) or name in KNOWN_VARIABLES:
            continue
        # compare what follows the shared prefix, or every IPYTHON_* name would look alike
        suffixes = {known[len(OWN_PREFIX):]: known for known in KNOWN_VARIABLES}
        close = difflib.get_close_matches(name[len(OWN_PREFIX):], list(suffixes), n=1, cutoff=0.6)
        hint = f"did you mean {suffixes[close[0]]}?" if close else "see the image's README for its variables"
        secret = _SECRET_LOOKING.search(name) is not None  # a misspelt password must not be printed
        # nor the credentials of a misspelt IPYTHON_NOTEBOOK_REPOSITORY
        raise ConfigError(name, redact_url(environ[name]), f"not a variable of the image; {hint}", secret=secret)


def _label(environ: Mapping[str, str]) -> str | None:
    value = _get(environ, "IPYTHON_CLUSTER_LABEL")
    if value is not None and (len(value) > LABEL_MAX_LENGTH or not _DNS_LABEL.match(value)):
        raise ConfigError(
            "IPYTHON_CLUSTER_LABEL",
            value,
            f"a DNS label [a-z0-9]([-a-z0-9]*[a-z0-9])? of at most {LABEL_MAX_LENGTH} characters",
        )
    return value


def _engine_group(environ: Mapping[str, str]) -> str:
    value = _get(environ, "IPYTHON_ENGINE_GROUP")
    if value is None:
        return DEFAULT_ENGINE_GROUP
    if len(value) > ENGINE_GROUP_MAX_LENGTH or not _DNS_LABEL.match(value):
        raise ConfigError(
            "IPYTHON_ENGINE_GROUP",
            value,
            f"a DNS label [a-z0-9]([-a-z0-9]*[a-z0-9])? of at most {ENGINE_GROUP_MAX_LENGTH} characters",
        )
    return value


def _trusted_proxies(environ: Mapping[str, str]) -> tuple[str, ...]:
    value = _get(environ, "IPYTHON_TRUSTED_PROXIES")
    if value is None:
        return ()
    try:
        return tuple(str(proxy_network(item.strip())) for item in value.split(","))
    except ValueError:
        raise ConfigError("IPYTHON_TRUSTED_PROXIES", value, TRUSTED_PROXIES_ALLOWED) from None


def _key(environ: Mapping[str, str]) -> str | None:
    value = _get(environ, "IPYTHON_CLUSTER_KEY")
    if value is not None and not _KEY.match(value):
        raise ConfigError("IPYTHON_CLUSTER_KEY", value, "printable ASCII characters without whitespace", secret=True)
    return value


def _password(environ: Mapping[str, str]) -> str | None:
    value = _get(environ, "IPYTHON_USER_PASSWORD")
    if value is not None and len(value) < MIN_PASSWORD_LENGTH:
        # the same floor as the constructs and stacks (and Terraform's variable validation)
        raise ConfigError(
            "IPYTHON_USER_PASSWORD", value, f"at least {MIN_PASSWORD_LENGTH} characters", secret=True
        )
    if value is not None and value != value.strip():
        # Jupyter's login form strips what is typed: such a password could never be entered
        raise ConfigError("IPYTHON_USER_PASSWORD", value, "must not start or end with whitespace", secret=True)
    return value


def _controller_host(environ: Mapping[str, str], label: str | None) -> str | None:
    value = _get(environ, "IPYTHON_CONTROLLER_HOST")
    if value is None:
        return f"ipcluster-{label}" if label else None
    if not _HOSTNAME.match(value):
        raise ConfigError("IPYTHON_CONTROLLER_HOST", value, "a hostname or IPv4 address")
    return value


def _repository(environ: Mapping[str, str]) -> RepositorySource | None:
    value = environ.get("IPYTHON_NOTEBOOK_REPOSITORY")
    return None if not value else parse_repository(value)


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Validate the environment for a role; raise ConfigError on the first bad value."""
    check_known_variables(environ)
    role = _role(environ)
    viewer_port = _port(environ, "IPYTHON_VIEWER_PORT", DEFAULT_VIEWER_PORT, 65535)
    controller_port = _port(environ, "IPYTHON_CONTROLLER_PORT", DEFAULT_CONTROLLER_PORT, 65536 - CONTROLLER_PORT_COUNT)
    allow_no_password = _boolean(environ, "IPYTHON_ALLOW_NO_PASSWORD")
    repository_required = _boolean(environ, "IPYTHON_REPOSITORY_REQUIRED")
    encryption = _choice(environ, "IPYTHON_CLUSTER_ENCRYPTION", ENCRYPTIONS, DEFAULT_ENCRYPTION)
    cull_idle_seconds = _seconds(
        environ, "IPYTHON_CULL_IDLE_SECONDS", DEFAULT_CULL_IDLE_SECONDS, MAX_CULL_IDLE_SECONDS
    )
    max_message_mib = _mebibytes(environ, "IPYTHON_MAX_MESSAGE_MIB", DEFAULT_MAX_MESSAGE_MIB, MAX_MAX_MESSAGE_MIB)
    notebook_dir = notebook_dir_from(environ)
    workspace_seed = workspace_seed_from(environ)
    label = _label(environ)
    key = _key(environ)
    host = _controller_host(environ, label)
    repository = _repository(environ)
    repository_update = _choice(environ, "IPYTHON_REPOSITORY_UPDATE", REPOSITORY_UPDATES, DEFAULT_REPOSITORY_UPDATE)
    engine_group = _engine_group(environ)
    trusted_proxies = _trusted_proxies(environ)
    password = _password(environ)

    if role in ("controller", "engine"):
        if label is None:
            raise ConfigError("IPYTHON_CLUSTER_LABEL", None, f"required for the {role} role")
        if key is None:
            raise ConfigError("IPYTHON_CLUSTER_KEY", None, f"required for the {role} role")
    if role == "viewer":
        if label is not None and key is None:
            raise ConfigError("IPYTHON_CLUSTER_KEY", None, "required for a viewer that has IPYTHON_CLUSTER_LABEL")
        if password is None and not allow_no_password:
            raise ConfigError(
                "IPYTHON_USER_PASSWORD",
                None,
                "required for the viewer role (or set IPYTHON_ALLOW_NO_PASSWORD=true)",
            )

    return Settings(
        role=role,
        viewer_port=viewer_port,
        allow_no_password=allow_no_password,
        notebook_dir=notebook_dir,
        controller_port=controller_port,
        repository_required=repository_required,
        encryption=encryption,
        cull_idle_seconds=cull_idle_seconds,
        max_message_mib=max_message_mib,
        cluster_label=label,
        controller_host=host,
        repository=repository,
        workspace_seed=workspace_seed,
        repository_update=repository_update,
        engine_group=engine_group,
        trusted_proxies=trusted_proxies,
        password=password,
        cluster_key=key,
    )
