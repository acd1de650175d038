"""Command line of the image's entrypoint (``python entrypoint.py [COMMAND]``).

* no argument: start the role named by IPYTHON_CONTAINER_TYPE (viewer, controller, engine);
* ``assemble SRC_DIR``: the S2I build step (see assemble);
* ``healthcheck``: exit 0 when this container's role is healthy (see healthcheck);
* ``install-shim [--site-packages DIR]``: install the IPython.parallel alias (see shim_install);
* anything else is executed as a command, like any image entrypoint does (``docker run IMAGE
  bash``; the S2I ``run`` script relies on it).

Starting a role: the environment is validated first (settings); a bad value, or an unknown
IPYTHON_* variable, prints the one-line error and exits 2 before anything is written or
started. Then every role makes sure the environment of the interpreter running it has the
IPython.parallel alias (shim_install.ensure_shim: nothing to do in the image, installed at
build; installed at the first start from another environment, such as ``pipenv run python
image/entrypoint.py``), because the kernels and ipengine it starts run with that interpreter.
Viewer and engine then populate an empty workspace from IPYTHON_NOTEBOOK_REPOSITORY
(workspace, requirements_install), or pull the new commits into one that holds its clone
(repository_update), or, without a repository, copy the image's seed (workspace_seed);
every role writes what it needs (connection files, key file, viewer config) under HOME and
logs the exact command it runs. Viewer and controller are exec'd (they become the container's
main process); the engine runs under a supervisor (engine). The secret variables
IPYTHON_USER_PASSWORD and IPYTHON_CLUSTER_KEY are in no process's initial environment, PID 1
included (secret_handoff: as PID 1 the entrypoint hands them over through a pipe and execs
tini in front of itself), and they are removed from the environment of whatever is started:
the password lives on only as a hash in the viewer's config, the key in 0600 files.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import connection_info
from .assemble import copy_source
from .controller import controller_command, controller_environment, write_controller_config, write_key_file
from .curve_keys import client_socket_options, controller_keys
from .engine import STATE_FILE, EngineSupervisor
from .errors import ConfigError
from .healthcheck import check
from .logs import command_line, log
from .requirements_install import InstallError, default_installer, install_requirements, with_workspace_packages
from .repository_source import VARIABLE as REPOSITORY_VARIABLE
from .repository_source import without_credentials
from .repository_update import pull
from .runtime_paths import private_dir, runtime_dir, security_dir, workspace_packages_dir
from .secret_handoff import hand_off, should_hand_off, take
from .settings import SECRET_VARIABLES, Settings, load_settings, notebook_dir_from, workspace_seed_from
from .shim_install import ensure_shim, install_shim
from .viewer import viewer_command, write_viewer_config
from .workspace import NOTARY_DIR, Outcome, populate
from .workspace_seed import seed_entries, seed_workspace

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_CONFIGURATION = 2

USAGE = """\
usage: entrypoint.py                      start the role in IPYTHON_CONTAINER_TYPE
       entrypoint.py assemble SRC_DIR     S2I build: copy SRC_DIR into the workspace and the workspace seed,
                                          install requirements.txt
       entrypoint.py healthcheck          exit 0 when the role of this container is healthy
       entrypoint.py install-shim [--site-packages DIR]
                                          install the IPython.parallel -> ipyparallel alias
       entrypoint.py COMMAND [ARG...]     run COMMAND instead"""


#: Handed off like the secrets (secret_handoff): the repository URL may carry credentials.
HANDED_OFF = (*SECRET_VARIABLES, REPOSITORY_VARIABLE)


def without_secrets(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of what a role starts: no secret, the repository URL without credentials."""
    return without_credentials({name: value for name, value in environ.items() if name not in SECRET_VARIABLES})


def _exec(command: Sequence[str], environ: Mapping[str, str], cwd: Path) -> int:
    log(f"exec: {command_line(command)}")
    os.chdir(cwd)
    os.execvpe(command[0], list(command), dict(environ))
    return EXIT_FAILED  # not reached


def _repository_failure(settings: Settings, reason: str) -> ConfigError:
    return ConfigError(
        "IPYTHON_NOTEBOOK_REPOSITORY",
        settings.repository.describe(),
        f"{reason} (IPYTHON_REPOSITORY_REQUIRED=true, so not starting)",
    )


def prepare_workspace(settings: Settings, environ: dict[str, str]) -> dict[str, str]:
    """Populate the workspace; return the environment for the role (with workspace packages)."""
    workspace = settings.notebook_dir
    try:
        workspace.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            "IPYTHON_NOTEBOOK_DIR", str(workspace), f"a directory this user can create ({error.strerror})"
        ) from error
    source = settings.repository
    if source is None:
        copied = seed_workspace(settings.workspace_seed, workspace)
        if copied is not None:
            log(f"copied the workspace seed {settings.workspace_seed} ({copied} entries) into the empty {workspace}")
        return environ
    if seed_entries(settings.workspace_seed):
        log(f"IPYTHON_NOTEBOOK_REPOSITORY is set: the workspace seed {settings.workspace_seed} is not used")
    result = populate(source, workspace)
    if result.outcome is Outcome.FAILED:
        if settings.repository_required:
            raise _repository_failure(settings, f"could not be cloned: {result.message}")
        log(f"could not clone {source.describe()}: {result.message}; starting with the empty workspace {workspace}")
        return environ
    log(result.message)
    if result.outcome is Outcome.ALREADY_CLONED:
        if settings.repository_update == "pull":
            result = pull(source, workspace)
            log(result.message)
        else:
            log(f"IPYTHON_REPOSITORY_UPDATE={settings.repository_update}: keeping its files as they are")
    requirements = workspace / "requirements.txt"
    if not result.holds_clone or not requirements.is_file():
        return environ
    target = workspace_packages_dir()
    try:
        installer = default_installer()
        seconds = install_requirements(requirements, target=target, installer=installer, environ=environ)
    except InstallError as error:
        if settings.repository_required:
            raise _repository_failure(settings, f"requirements.txt could not be installed: {error}") from error
        log(f"could not install {requirements}: {error}; starting without those packages")
        return environ
    log(f"installed {requirements} with {installer.name} into {target} in {seconds:.1f} s (first on PYTHONPATH)")
    return with_workspace_packages(environ, target)


def curve_serverkey(settings: Settings) -> str | None:
    """The controller's public CurveZMQ key for the connection files (None: encryption off)."""
    return controller_keys(settings.cluster_key).public.decode("ascii") if settings.curve else None


def start_viewer(settings: Settings, environ: dict[str, str]) -> int:
    environ = prepare_workspace(settings, environ)
    # Jupyter does not create the notary's data_dir itself; group-writable like every path the
    # image writes, so that a pod under another UID of group 0 still reads its trust database
    notary = settings.notebook_dir / NOTARY_DIR
    notary.mkdir(exist_ok=True)
    notary.chmod(0o770)
    if settings.has_cluster:
        path = connection_info.write_client_file(
            security_dir(),
            settings.controller_host,
            settings.controller_port,
            settings.cluster_key,
            curve_serverkey(settings),
        )
        log(
            f"cluster {settings.cluster_label}: controller {settings.controller_host}:{settings.controller_port}, "
            f"encryption {settings.encryption}, client connection file {path}"
        )
    if settings.cull_idle_seconds:
        log(f"kernels idle for {settings.cull_idle_seconds} s are shut down (IPYTHON_CULL_IDLE_SECONDS)")
    if not settings.password:
        log("IPYTHON_ALLOW_NO_PASSWORD=true and no IPYTHON_USER_PASSWORD: the viewer has NO authentication")
    config = write_viewer_config(private_dir(runtime_dir()), settings)
    return _exec(viewer_command(config), environ, settings.notebook_dir)


def start_controller(settings: Settings, environ: dict[str, str]) -> int:
    key_file = write_key_file(security_dir(), settings.cluster_key)
    config_file = write_controller_config(private_dir(runtime_dir()), settings.cluster_key, curve=settings.curve)
    first = settings.controller_port
    log(
        f"cluster {settings.cluster_label}: controller advertised as {settings.controller_host}, "
        f"ports {first}-{first + 15} (registration {connection_info.registration_port(first)}), "
        f"encryption {settings.encryption}"
    )
    home = Path(os.path.expanduser("~"))
    return _exec(controller_command(settings, key_file, config_file), controller_environment(environ), home)


def start_engine(settings: Settings, environ: dict[str, str]) -> int:
    environ = prepare_workspace(settings, environ)
    host, first = settings.controller_host, settings.controller_port
    serverkey = curve_serverkey(settings)
    engine_file = connection_info.write_engine_file(security_dir(), host, first, settings.cluster_key, serverkey)
    log(
        f"cluster {settings.cluster_label}: controller {host}:{first}, encryption {settings.encryption}, "
        f"engine group {settings.engine_group}, engine connection file {engine_file}"
    )
    supervisor = EngineSupervisor(
        engine_file,
        controller_host=host,
        registration_port=connection_info.registration_port(first),
        ping_url=f"tcp://{host}:{connection_info.hb_ping_port(first)}",
        notification_url=f"tcp://{host}:{connection_info.notification_port(first)}",
        cluster_key=settings.cluster_key,
        state_file=private_dir(runtime_dir()) / STATE_FILE,
        cwd=settings.notebook_dir,
        environ=environ,
        socket_options=client_socket_options(serverkey.encode("ascii")) if serverkey else None,
        group=settings.engine_group,
    )
    return supervisor.run()


ROLE_STARTERS = {"viewer": start_viewer, "controller": start_controller, "engine": start_engine}


def run_role(environ: Mapping[str, str]) -> int:
    try:
        settings = load_settings(environ)
        log(f"starting the {settings.role} role")
        ensure_shim()
        return ROLE_STARTERS[settings.role](settings, without_secrets(environ))
    except ConfigError as error:
        print(error, file=sys.stderr, flush=True)
        return EXIT_BAD_CONFIGURATION


def run_assemble(arguments: Sequence[str], environ: Mapping[str, str]) -> int:
    try:
        if len(arguments) != 1 or not Path(arguments[0]).is_dir():
            value = " ".join(arguments) if arguments else None
            raise ConfigError("SRC_DIR", value, "one existing directory: entrypoint.py assemble SRC_DIR")
        workspace = notebook_dir_from(environ)
        seed = workspace_seed_from(environ)
    except ConfigError as error:
        print(error, file=sys.stderr, flush=True)
        return EXIT_BAD_CONFIGURATION
    source = Path(arguments[0])
    copied = copy_source(source, workspace)
    log(f"copied {len(copied)} entries from {source} into {workspace}")
    try:
        copy_source(source, seed)
    except OSError as error:
        print(f"error: IPYTHON_WORKSPACE_SEED={seed}: a directory the build user can write ({error})",
              file=sys.stderr, flush=True)
        return EXIT_FAILED
    log(f"recorded them as the workspace seed {seed}, copied into an empty workspace volume at start")
    requirements = source / "requirements.txt"
    if requirements.is_file():
        try:
            installer = default_installer()
            seconds = install_requirements(requirements, target=None, installer=installer, environ=environ)
        except InstallError as error:
            print(f"error: {requirements}: {error}", file=sys.stderr, flush=True)
            return EXIT_FAILED
        log(f"installed {requirements} with {installer.name} into {sys.prefix} in {seconds:.1f} s")
    return EXIT_OK


def run_healthcheck(environ: Mapping[str, str]) -> int:
    try:
        settings = load_settings(environ)
    except ConfigError as error:
        print(f"unhealthy: {error}", flush=True)
        return EXIT_FAILED
    healthy, detail = check(settings)
    print(f"{'healthy' if healthy else 'unhealthy'}: {settings.role}: {detail}", flush=True)
    return EXIT_OK if healthy else EXIT_FAILED


def run_install_shim(arguments: Sequence[str]) -> int:
    if arguments and (len(arguments) != 2 or arguments[0] != "--site-packages"):
        print(
            ConfigError("install-shim arguments", " ".join(arguments), "none, or --site-packages DIR"), file=sys.stderr
        )
        return EXIT_BAD_CONFIGURATION
    try:
        paths = install_shim(Path(arguments[1]) if arguments else None)
    except FileNotFoundError as error:
        print(f"error: --site-packages={arguments[1]}: an existing directory ({error})", file=sys.stderr)
        return EXIT_BAD_CONFIGURATION
    log("installed the IPython.parallel alias: " + ", ".join(str(path) for path in paths))
    return EXIT_OK


def main(argv: Sequence[str] | None = None, entrypoint: str | None = None) -> int:
    """``entrypoint``: the script to exec again when the secrets are handed off (see
    secret_handoff); the running one by default."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    environ: Mapping[str, str] = os.environ
    if should_hand_off(arguments, environ, HANDED_OFF, os.getpid()):
        try:
            hand_off(arguments, environ, HANDED_OFF, entrypoint or os.path.abspath(sys.argv[0]))
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr, flush=True)
            return EXIT_BAD_CONFIGURATION
    if not arguments:
        return run_role(take(environ))
    command, rest = arguments[0], arguments[1:]
    if command == "assemble":
        return run_assemble(rest, environ)
    if command == "healthcheck":
        return run_healthcheck(environ)
    if command == "install-shim":
        return run_install_shim(rest)
    if command in ("-h", "--help", "help"):
        print(USAGE)
        return EXIT_OK
    log(f"exec: {command_line(arguments)}")
    os.execvp(command, arguments)
    return EXIT_FAILED  # not reached
