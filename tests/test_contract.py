"""The image's contract (image/contract.json) is written once: everything that repeats it agrees.

Variable names, ports, paths, the user and the defaults are repeated, for good reasons, in
constructs/ipython_k8s/defaults.py (the library is a separate distribution and cannot read the
image's files at run time), image/ipython_roles/settings.py (the image reads its environment
without this repository around it), image/Dockerfile (ENV/EXPOSE/USER/ENTRYPOINT) and
localrun/plan.py (the names it links a viewer to its engines by). This test proves each of them
equal to the contract; a change starts in image/contract.json.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import shlex
import sys
from pathlib import Path

import pytest

from tests.container import containers
from tests.container.conftest import docker_client, image  # noqa: F401 - fixtures of the container test

REPO = Path(__file__).resolve().parent.parent
CONTRACT = json.loads((REPO / "image" / "contract.json").read_text())
DOCKERFILE = (REPO / "image" / "Dockerfile").read_text()


@pytest.fixture(scope="module")
def image_settings():
    """image/ipython_roles/settings.py, imported the way the image does (image/ on sys.path)."""
    sys.path.insert(0, str(REPO / "image"))
    try:
        return importlib.import_module("ipython_roles.settings")
    finally:
        sys.path.remove(str(REPO / "image"))


# -- constructs/ipython_k8s/defaults.py ---------------------------------------------------------------

def test_the_library_defaults_are_the_contracts():
    from ipython_k8s import defaults
    from ipython_k8s.security import PodSecurity

    c = CONTRACT
    assert defaults.DEFAULT_VIEWER_PORT == c["ports"]["viewer"]
    assert defaults.CONTROLLER_FIRST_PORT == c["ports"]["controller_first"]
    assert defaults.CONTROLLER_PORT_COUNT == c["ports"]["controller_count"]
    assert defaults.IMAGE_PYTHON == c["paths"]["python"]
    assert defaults.IMAGE_PYTHON.startswith(c["paths"]["venv"] + "/")
    assert defaults.IMAGE_ENTRYPOINT == c["paths"]["entrypoint"]
    assert defaults.HOME_DIR == c["paths"]["home"]
    assert defaults.WORKSPACE_DIR == c["paths"]["workspace"]
    assert defaults.TMP_DIR == c["paths"]["tmp"]
    assert defaults.DEFAULT_CULL_IDLE_SECONDS == c["defaults"]["cull_idle_seconds"]
    assert defaults.MAX_CULL_IDLE_SECONDS == c["defaults"]["max_cull_idle_seconds"]
    assert defaults.DEFAULT_CLUSTER_ENCRYPTION == c["defaults"]["cluster_encryption"]
    assert list(defaults.CLUSTER_ENCRYPTIONS) == c["defaults"]["cluster_encryptions"]
    assert defaults.DEFAULT_MAX_MESSAGE_MIB == c["defaults"]["max_message_mib"]
    assert defaults.MAX_MESSAGE_MIB == c["defaults"]["max_max_message_mib"]
    assert defaults.MIN_USER_PASSWORD_LENGTH == c["defaults"]["min_password_length"]
    assert defaults.DEFAULT_PASSWORD_LENGTH == c["defaults"]["generated_password_length"]
    assert defaults.SHARED_DIR == c["paths"]["shared"]
    assert defaults.DEFAULT_REPOSITORY_UPDATE == c["defaults"]["repository_update"]
    assert list(defaults.REPOSITORY_UPDATES) == c["defaults"]["repository_updates"]
    assert defaults.DEFAULT_ENGINE_GROUP == c["defaults"]["engine_group"]
    restricted = PodSecurity()
    assert (restricted.run_as_user, restricted.run_as_group) == (c["user"]["uid"], c["user"]["gid"])


# -- image/ipython_roles/settings.py ------------------------------------------------------------------

def test_the_images_settings_are_the_contracts(image_settings):
    s, c = image_settings, CONTRACT
    assert list(s.KNOWN_VARIABLES) == c["variables"]
    assert list(s.SECRET_VARIABLES) == c["secret_variables"]
    assert list(s.ROLES) == c["roles"]
    assert s.DEFAULT_VIEWER_PORT == c["ports"]["viewer"]
    assert s.DEFAULT_CONTROLLER_PORT == c["ports"]["controller_first"]
    assert s.CONTROLLER_PORT_COUNT == c["ports"]["controller_count"]
    assert s.DEFAULT_WORKSPACE_SEED == c["paths"]["workspace_seed"]
    assert s.MIN_PASSWORD_LENGTH == c["defaults"]["min_password_length"]
    assert list(s.ENCRYPTIONS) == c["defaults"]["cluster_encryptions"]
    assert s.DEFAULT_ENCRYPTION == c["defaults"]["cluster_encryption"]
    assert s.DEFAULT_CULL_IDLE_SECONDS == c["defaults"]["cull_idle_seconds"]
    assert s.MAX_CULL_IDLE_SECONDS == c["defaults"]["max_cull_idle_seconds"]
    assert s.DEFAULT_MAX_MESSAGE_MIB == c["defaults"]["max_message_mib"]
    assert s.MAX_MAX_MESSAGE_MIB == c["defaults"]["max_max_message_mib"]
    assert s.DEFAULT_REPOSITORY_UPDATE == c["defaults"]["repository_update"]
    assert list(s.REPOSITORY_UPDATES) == c["defaults"]["repository_updates"]
    assert s.DEFAULT_ENGINE_GROUP == c["defaults"]["engine_group"]
    # the workspace is $HOME/work: with the contract's HOME it is the contract's workspace
    assert str(s.notebook_dir_from({"HOME": c["paths"]["home"]})) == c["paths"]["workspace"]


def test_the_images_defaults_are_what_an_empty_environment_gets(image_settings):
    """The defaults are the ones load_settings applies, not only constants that name them."""
    c = CONTRACT
    settings = image_settings.load_settings({"IPYTHON_CONTAINER_TYPE": "engine", "IPYTHON_CLUSTER_LABEL": "demo",
                                             "IPYTHON_CLUSTER_KEY": "k3y"})
    assert settings.repository_update == c["defaults"]["repository_update"]
    assert settings.engine_group == c["defaults"]["engine_group"]
    for value in c["defaults"]["repository_updates"]:
        assert image_settings.load_settings({"IPYTHON_CONTAINER_TYPE": "engine", "IPYTHON_CLUSTER_LABEL": "demo",
                                             "IPYTHON_CLUSTER_KEY": "k3y",
                                             "IPYTHON_REPOSITORY_UPDATE": value}).repository_update == value


def test_the_images_booleans_are_the_contracts(image_settings):
    from ipython_roles.errors import ConfigError

    booleans = CONTRACT["booleans"]
    for value in booleans["true"] + [v.upper() for v in booleans["true"]]:
        assert image_settings._boolean({"X": value}, "X") is True
    for value in booleans["false"] + [v.title() for v in booleans["false"]]:
        assert image_settings._boolean({"X": value}, "X") is False
    for value in ("yes", "no", "1", "0"):
        with pytest.raises(ConfigError, match=booleans["allowed"]):
            image_settings._boolean({"X": value}, "X")


def test_the_stacks_booleans_are_the_contracts():
    from infra.parameters import BOOLEAN, BOOLEAN_ALLOWED

    booleans = CONTRACT["booleans"]
    assert BOOLEAN_ALLOWED == booleans["allowed"]
    for value in booleans["true"] + [v.upper() for v in booleans["true"]]:
        assert BOOLEAN("X", value) is True
    for value in booleans["false"] + [v.title() for v in booleans["false"]]:
        assert BOOLEAN("X", value) is False


# -- the "did you mean" rule of the stacks and the image ------------------------------------------------

TYPOS = [
    "IPYTHON_CLUSTER_ENCRYPTON",
    "IPYTHON_NOTEBOOK_REPOSITRY",
    "IPYTHON_USER_PASSWROD",
    "IPYTHON_PASSWORD",
    "IPYTHON_CLUSTER_LABLE",
    "IPYTHON_CULL_IDLE_SECOND",
    "IPYTHON_REPOSITORY_REQURED",
    "IPYTHON_MAX_MESSAGE_MB",
    "IPYTHON_FROBNICATE",
]


def _image_suggestion(image_settings, name: str) -> str | None:
    from ipython_roles.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        image_settings.check_known_variables({name: "x"})
    found = re.search(r"did you mean (IPYTHON_[A-Z_]+)\?", str(caught.value))
    return found.group(1) if found else None


@pytest.mark.parametrize("typo", TYPOS)
def test_stacks_and_image_suggest_the_same_name(image_settings, typo):
    from infra.parameters import DID_YOU_MEAN_CUTOFF, suggestion

    assert DID_YOU_MEAN_CUTOFF == CONTRACT["did_you_mean_cutoff"]
    # the same rule over the same names gives the same answer; over each one's own names, the
    # typos of a name both know are answered alike
    assert suggestion(typo, CONTRACT["variables"]) == _image_suggestion(image_settings, typo)


def test_the_suggestions_of_shared_names_agree_with_each_ones_own_names(image_settings):
    from infra.parameters import KNOWN, suggestion

    for typo in TYPOS[:7]:
        assert suggestion(typo, KNOWN) == _image_suggestion(image_settings, typo), typo


# -- image/Dockerfile ---------------------------------------------------------------------------------

def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines, current = [], ""
    for line in text.splitlines():
        if not current and line.lstrip().startswith("#"):
            continue
        if current and line.lstrip().startswith("#"):
            continue
        current += line.rstrip("\\").strip() + " " if line.endswith("\\") else line.strip()
        if not line.endswith("\\"):
            if current.strip():
                word, _, rest = current.strip().partition(" ")
                lines.append((word.upper(), rest.strip()))
            current = ""
    return lines


INSTRUCTIONS = _instructions(DOCKERFILE)


def _env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in INSTRUCTIONS:
        if word == "ENV":
            for item in shlex.split(rest):
                name, _, value = item.partition("=")
                env[name] = value
    return env


def test_the_dockerfile_env_is_the_contracts():
    env, c = _env(), CONTRACT
    assert env["HOME"] == c["paths"]["home"]
    assert env["USER"] == c["user"]["name"]
    assert env["VIRTUAL_ENV"] == c["paths"]["venv"]
    assert env["PATH"].split(":")[0] == c["paths"]["venv"] + "/bin"
    assert env["IPYTHON_NOTEBOOK_DIR"] == c["paths"]["workspace"]
    assert env["IPYTHON_WORKSPACE_SEED"] == c["paths"]["workspace_seed"]
    assert env["IPYTHON_VIEWER_PORT"] == str(c["ports"]["viewer"])
    assert env["IPYTHON_CONTROLLER_PORT"] == str(c["ports"]["controller_first"])
    assert env["IPYTHON_ALLOW_NO_PASSWORD"] == str(c["defaults"]["allow_no_password"]).lower()
    assert {name for name in env if name.startswith("IPYTHON_")} <= set(c["variables"])


def test_the_dockerfile_ports_user_and_entrypoint_are_the_contracts():
    c = CONTRACT
    ports = c["ports"]
    exposed = [rest for word, rest in INSTRUCTIONS if word == "EXPOSE"]
    last = ports["controller_first"] + ports["controller_count"] - 1
    assert exposed == [f"{ports['viewer']} {ports['controller_first']}-{last}"]
    users = [rest for word, rest in INSTRUCTIONS if word == "USER"]
    assert users[-1] == str(c["user"]["uid"])
    entrypoint = [json.loads(rest) for word, rest in INSTRUCTIONS if word == "ENTRYPOINT"]
    assert entrypoint == [[c["paths"]["python"], c["paths"]["entrypoint"]]]
    assert f"COPY entrypoint.py {c['paths']['entrypoint']}" in DOCKERFILE
    assert f"python3 -m venv {c['paths']['venv']}" in DOCKERFILE
    useradd = re.search(r"useradd --uid (\d+) --gid (\d+) --home-dir (\S+) .* (\w+);", DOCKERFILE)
    assert useradd is not None
    assert useradd.groups() == (str(c["user"]["uid"]), str(c["user"]["gid"]), c["paths"]["home"], c["user"]["name"])
    viewer_port, uid = ports["viewer"], c["user"]["uid"]
    assert f'io.openshift.expose-services="{viewer_port}:http"' in DOCKERFILE
    assert f'io.openshift.s2i.assemble-user="{uid}"' in DOCKERFILE
    workdir = [rest for word, rest in INSTRUCTIONS if word == "WORKDIR"]
    assert workdir == [c["paths"]["home"]]
    healthcheck = [rest for word, rest in INSTRUCTIONS if word == "HEALTHCHECK"]
    assert json.loads(healthcheck[0].split("CMD", 1)[1]) == [c["paths"]["python"], c["paths"]["entrypoint"], "healthcheck"]


def test_the_dockerfile_makes_the_contracts_directories_group_writable():
    """The workspace and the shared directory exist in the image, owned by the contract's user and
    group with the owner's rights for the group (g=u), so any UID of group 0 can write them and a
    volume mounted there starts out the same (a container engine copies the directory's owner)."""
    c = CONTRACT
    run = " ".join(rest for word, rest in INSTRUCTIONS if word == "RUN" and "useradd" in rest)
    made = re.search(r"mkdir -p ([^;]+);", run)
    assert made is not None
    directories = made.group(1).split()
    home = c["paths"]["home"]
    for path in (c["paths"]["workspace"], c["paths"]["shared"]):
        assert path in directories
        assert path.startswith(home + "/")
    user = f"{c['user']['uid']}:{c['user']['gid']}"
    assert re.search(rf"chown -R {user} {re.escape(home)}[ ;]", run)
    assert re.search(rf"chmod -R g=u {re.escape(home)}[ ;]", run)


@pytest.mark.container
def test_the_shared_directory_is_writable_by_any_uid_of_group_0_in_the_image(docker_client, image):
    shared, gid = CONTRACT["paths"]["shared"], CONTRACT["user"]["gid"]
    probe = f"{shared}/probe"
    output = docker_client.containers.run(
        image, ["sh", "-c", f"stat -c '%u:%g %A' {shared} && touch {probe} && stat -c %g {probe}"],
        user=f"123456:{gid}", remove=True, labels=containers.labels(),
    ).decode().split("\n")
    assert output[0] == f"{CONTRACT['user']['uid']}:{gid} drwxrwxr-x"
    assert output[1] == str(gid)


# -- localrun/plan.py -----------------------------------------------------------------------------------

def test_the_local_runner_uses_the_contracts_names():
    """plan.py links a viewer to its engines by the image's variables and role names (literals in
    its code: it imports none of the image's constants)."""
    import localrun.plan  # noqa: F401 - it must import

    tree = ast.parse((REPO / "localrun" / "plan.py").read_text())
    literals = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    variables = {value for value in literals if re.fullmatch(r"IPYTHON_[A-Z_]+", value)}
    assert variables == {"IPYTHON_CLUSTER_LABEL", "IPYTHON_CONTAINER_TYPE"}
    assert variables <= set(CONTRACT["variables"])
    assert "engine" in literals and "engine" in CONTRACT["roles"]
