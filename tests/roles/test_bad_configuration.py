"""Every bad configuration stops the entrypoint at once: one line on stderr,
``error: IPYTHON_X=<value>: <what is allowed>``, exit status 2, no secret shown, nothing
written or started (the process's HOME stays empty)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from .processes import ENTRYPOINT, PYTHON, base_environment

SECRET = "s3cret-value-that-must-not-leak"
CLUSTER = {"IPYTHON_CLUSTER_LABEL": "demo", "IPYTHON_CLUSTER_KEY": SECRET}
VIEWER = {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWORD": SECRET}
CONTROLLER = {"IPYTHON_CONTAINER_TYPE": "controller", **CLUSTER}

TRUSTED_PROXIES_ALLOWED = (
    "comma-separated IP addresses or CIDR networks of trusted proxies, IPv4 or IPv6 (10.0.0.0/8,fd00::/8), "
    "no host bits after a network's prefix, not 0.0.0.0/0 or ::/0 (every client could pick its address)"
)

# (id, environment, expected stderr line)
CASES = [
    ("role unset", {}, "error: IPYTHON_CONTAINER_TYPE=<unset>: one of viewer, controller, engine"),
    (
        "role unknown",
        {"IPYTHON_CONTAINER_TYPE": "worker"},
        "error: IPYTHON_CONTAINER_TYPE=worker: one of viewer, controller, engine",
    ),
    (
        "role wrong case",
        {"IPYTHON_CONTAINER_TYPE": "Viewer"},
        "error: IPYTHON_CONTAINER_TYPE=Viewer: one of viewer, controller, engine",
    ),
    (
        "role with newline",
        {"IPYTHON_CONTAINER_TYPE": "viewer\nengine"},
        "error: IPYTHON_CONTAINER_TYPE=viewer\\nengine: one of viewer, controller, engine",
    ),
    (
        "controller without label",
        {"IPYTHON_CONTAINER_TYPE": "controller", "IPYTHON_CLUSTER_KEY": SECRET},
        "error: IPYTHON_CLUSTER_LABEL=<unset>: required for the controller role",
    ),
    (
        "controller without key",
        {"IPYTHON_CONTAINER_TYPE": "controller", "IPYTHON_CLUSTER_LABEL": "demo"},
        "error: IPYTHON_CLUSTER_KEY=<unset>: required for the controller role",
    ),
    (
        "engine without label",
        {"IPYTHON_CONTAINER_TYPE": "engine", "IPYTHON_CLUSTER_KEY": SECRET},
        "error: IPYTHON_CLUSTER_LABEL=<unset>: required for the engine role",
    ),
    (
        "engine without key",
        {"IPYTHON_CONTAINER_TYPE": "engine", "IPYTHON_CLUSTER_LABEL": "demo"},
        "error: IPYTHON_CLUSTER_KEY=<unset>: required for the engine role",
    ),
    (
        "engine with empty key",
        {"IPYTHON_CONTAINER_TYPE": "engine", "IPYTHON_CLUSTER_LABEL": "demo", "IPYTHON_CLUSTER_KEY": ""},
        "error: IPYTHON_CLUSTER_KEY=<unset>: required for the engine role",
    ),
    (
        "label with capitals",
        {**CONTROLLER, "IPYTHON_CLUSTER_LABEL": "My_Cluster"},
        "error: IPYTHON_CLUSTER_LABEL=My_Cluster: a DNS label [a-z0-9]([-a-z0-9]*[a-z0-9])? of at most 53 characters",
    ),
    (
        "label with leading dash",
        {**CONTROLLER, "IPYTHON_CLUSTER_LABEL": "-demo"},
        "error: IPYTHON_CLUSTER_LABEL=-demo: a DNS label [a-z0-9]([-a-z0-9]*[a-z0-9])? of at most 53 characters",
    ),
    (
        "label too long",
        {**CONTROLLER, "IPYTHON_CLUSTER_LABEL": "a" * 54},
        f"error: IPYTHON_CLUSTER_LABEL={'a' * 54}: a DNS label [a-z0-9]([-a-z0-9]*[a-z0-9])? of at most 53 characters",
    ),
    (
        "key with whitespace",
        {**CONTROLLER, "IPYTHON_CLUSTER_KEY": SECRET + " x"},
        "error: IPYTHON_CLUSTER_KEY=<hidden>: printable ASCII characters without whitespace",
    ),
    (
        "key not ascii",
        {**CONTROLLER, "IPYTHON_CLUSTER_KEY": SECRET + "é"},
        "error: IPYTHON_CLUSTER_KEY=<hidden>: printable ASCII characters without whitespace",
    ),
    (
        "viewer port not a number",
        {**VIEWER, "IPYTHON_VIEWER_PORT": "eighty"},
        "error: IPYTHON_VIEWER_PORT=eighty: a port number from 1 to 65535",
    ),
    (
        "viewer port zero",
        {**VIEWER, "IPYTHON_VIEWER_PORT": "0"},
        "error: IPYTHON_VIEWER_PORT=0: a port number from 1 to 65535",
    ),
    (
        "viewer port too high",
        {**VIEWER, "IPYTHON_VIEWER_PORT": "65536"},
        "error: IPYTHON_VIEWER_PORT=65536: a port number from 1 to 65535",
    ),
    (
        "viewer port negative",
        {**VIEWER, "IPYTHON_VIEWER_PORT": "-1"},
        "error: IPYTHON_VIEWER_PORT=-1: a port number from 1 to 65535",
    ),
    (
        "controller port not a number",
        {**CONTROLLER, "IPYTHON_CONTROLLER_PORT": "10100/tcp"},
        "error: IPYTHON_CONTROLLER_PORT=10100/tcp: a port number from 1 to 65520",
    ),
    (
        "controller port leaves no room for 16",
        {**CONTROLLER, "IPYTHON_CONTROLLER_PORT": "65521"},
        "error: IPYTHON_CONTROLLER_PORT=65521: a port number from 1 to 65520",
    ),
    (
        "controller host with space",
        {**CONTROLLER, "IPYTHON_CONTROLLER_HOST": "ipcluster demo"},
        "error: IPYTHON_CONTROLLER_HOST=ipcluster demo: a hostname or IPv4 address",
    ),
    (
        "controller host url",
        {**CONTROLLER, "IPYTHON_CONTROLLER_HOST": "tcp://ipcluster-demo"},
        "error: IPYTHON_CONTROLLER_HOST=tcp://ipcluster-demo: a hostname or IPv4 address",
    ),
    (
        "viewer with label but no key",
        {**VIEWER, "IPYTHON_CLUSTER_LABEL": "demo"},
        "error: IPYTHON_CLUSTER_KEY=<unset>: required for a viewer that has IPYTHON_CLUSTER_LABEL",
    ),
    (
        "viewer without password",
        {"IPYTHON_CONTAINER_TYPE": "viewer"},
        "error: IPYTHON_USER_PASSWORD=<unset>: required for the viewer role (or set IPYTHON_ALLOW_NO_PASSWORD=true)",
    ),
    (
        "viewer with empty password",
        {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWORD": ""},
        "error: IPYTHON_USER_PASSWORD=<unset>: required for the viewer role (or set IPYTHON_ALLOW_NO_PASSWORD=true)",
    ),
    (
        "viewer opt-out false",
        {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_ALLOW_NO_PASSWORD": "false"},
        "error: IPYTHON_USER_PASSWORD=<unset>: required for the viewer role (or set IPYTHON_ALLOW_NO_PASSWORD=true)",
    ),
    (
        "password with trailing space",
        {**VIEWER, "IPYTHON_USER_PASSWORD": SECRET + " "},
        "error: IPYTHON_USER_PASSWORD=<hidden>: must not start or end with whitespace",
    ),
    (
        "password shorter than 8",
        {**VIEWER, "IPYTHON_USER_PASSWORD": "seven77"},
        "error: IPYTHON_USER_PASSWORD=<hidden>: at least 8 characters",
    ),
    (
        "encryption unknown",
        {**CONTROLLER, "IPYTHON_CLUSTER_ENCRYPTION": "tls"},
        "error: IPYTHON_CLUSTER_ENCRYPTION=tls: one of curve, none",
    ),
    (
        "encryption wrong case",
        {**CONTROLLER, "IPYTHON_CLUSTER_ENCRYPTION": "CURVE"},
        "error: IPYTHON_CLUSTER_ENCRYPTION=CURVE: one of curve, none",
    ),
    (
        "cull seconds negative",
        {**VIEWER, "IPYTHON_CULL_IDLE_SECONDS": "-1"},
        "error: IPYTHON_CULL_IDLE_SECONDS=-1: a whole number of seconds from 0 to 31536000 (0: never)",
    ),
    (
        "cull seconds with unit",
        {**VIEWER, "IPYTHON_CULL_IDLE_SECONDS": "1h"},
        "error: IPYTHON_CULL_IDLE_SECONDS=1h: a whole number of seconds from 0 to 31536000 (0: never)",
    ),
    (
        "cull seconds more than a year",
        {**VIEWER, "IPYTHON_CULL_IDLE_SECONDS": "31536001"},
        "error: IPYTHON_CULL_IDLE_SECONDS=31536001: a whole number of seconds from 0 to 31536000 (0: never)",
    ),
    (
        "max message size zero",
        {**CONTROLLER, "IPYTHON_MAX_MESSAGE_MIB": "0"},
        "error: IPYTHON_MAX_MESSAGE_MIB=0: a whole number of MiB from 1 to 4096",
    ),
    (
        "max message size with unit",
        {**CONTROLLER, "IPYTHON_MAX_MESSAGE_MIB": "64MiB"},
        "error: IPYTHON_MAX_MESSAGE_MIB=64MiB: a whole number of MiB from 1 to 4096",
    ),
    (
        "max message size too high",
        {**CONTROLLER, "IPYTHON_MAX_MESSAGE_MIB": "4097"},
        "error: IPYTHON_MAX_MESSAGE_MIB=4097: a whole number of MiB from 1 to 4096",
    ),
    (
        "max message size negative",
        {**VIEWER, "IPYTHON_MAX_MESSAGE_MIB": "-1"},
        "error: IPYTHON_MAX_MESSAGE_MIB=-1: a whole number of MiB from 1 to 4096",
    ),
    (
        "opt-out not a boolean",
        {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_ALLOW_NO_PASSWORD": "yes"},
        "error: IPYTHON_ALLOW_NO_PASSWORD=yes: true or false",
    ),
    (
        "repository-required not a boolean",
        {**VIEWER, "IPYTHON_REPOSITORY_REQUIRED": "1"},
        "error: IPYTHON_REPOSITORY_REQUIRED=1: true or false",
    ),
    (
        "repository update not one of the choices",
        {**VIEWER, "IPYTHON_REPOSITORY_UPDATE": "always"},
        "error: IPYTHON_REPOSITORY_UPDATE=always: one of pull, never",
    ),
    (
        "engine group with capitals",
        {"IPYTHON_CONTAINER_TYPE": "engine", **CLUSTER, "IPYTHON_ENGINE_GROUP": "GPU"},
        "error: IPYTHON_ENGINE_GROUP=GPU: a DNS label [a-z0-9]([-a-z0-9]*[a-z0-9])? of at most 63 characters",
    ),
    (
        "engine group with an underscore",
        {"IPYTHON_CONTAINER_TYPE": "engine", **CLUSTER, "IPYTHON_ENGINE_GROUP": "big_mem"},
        "error: IPYTHON_ENGINE_GROUP=big_mem: a DNS label [a-z0-9]([-a-z0-9]*[a-z0-9])? of at most 63 characters",
    ),
    (
        "engine group too long",
        {"IPYTHON_CONTAINER_TYPE": "engine", **CLUSTER, "IPYTHON_ENGINE_GROUP": "g" * 64},
        f"error: IPYTHON_ENGINE_GROUP={'g' * 64}: a DNS label [a-z0-9]([-a-z0-9]*[a-z0-9])? of at most 63 characters",
    ),
    (
        "typo in a variable name",
        {**CONTROLLER, "IPYTHON_CLUSTER_ENCRYPTON": "none"},
        "error: IPYTHON_CLUSTER_ENCRYPTON=none: not a variable of the image; did you mean IPYTHON_CLUSTER_ENCRYPTION?",
    ),
    (
        "typo in the role variable wins over the missing role",
        {"IPYTHON_CONTAINER_TPYE": "viewer"},
        "error: IPYTHON_CONTAINER_TPYE=viewer: not a variable of the image; did you mean IPYTHON_CONTAINER_TYPE?",
    ),
    (
        "misspelt password is not shown",
        {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWROD": SECRET},
        "error: IPYTHON_USER_PASSWROD=<hidden>: not a variable of the image; did you mean IPYTHON_USER_PASSWORD?",
    ),
    (
        "unknown variable without a close name",
        {**VIEWER, "IPYTHON_FROBNICATE": "1"},
        "error: IPYTHON_FROBNICATE=1: not a variable of the image; see the image's README for its variables",
    ),
    (
        "stack parameter given to the image",
        {**VIEWER, "IPYTHON_ENGINES": "2"},
        # the closest of the image's names is the engine's group (the same rule as the stacks')
        "error: IPYTHON_ENGINES=2: not a variable of the image; did you mean IPYTHON_ENGINE_GROUP?",
    ),
    *[
        (f"trusted proxies {why}", {**VIEWER, "IPYTHON_TRUSTED_PROXIES": value},
         f"error: IPYTHON_TRUSTED_PROXIES={value}: {TRUSTED_PROXIES_ALLOWED}")
        for why, value in [
            ("a host name", "ingress-nginx"),
            ("a network with host bits", "10.0.0.1/8"),
            ("a prefix too long", "10.0.0.0/33"),
            ("with an empty item", "10.0.0.0/8,,fd00::/8"),
            ("every IPv4 address", "0.0.0.0/0"),
            ("every IPv6 address", "10.0.0.0/8,::/0"),
        ]
    ],
    (
        "workspace seed relative",
        {**VIEWER, "IPYTHON_WORKSPACE_SEED": "seed"},
        "error: IPYTHON_WORKSPACE_SEED=seed: an absolute path",
    ),
    (
        "notebook dir relative",
        {**VIEWER, "IPYTHON_NOTEBOOK_DIR": "work"},
        "error: IPYTHON_NOTEBOOK_DIR=work: an absolute path",
    ),
]

REPOSITORY_ALLOWED = (
    "a git URL (https://, http://, git://, ssh://, file://, user@host:path or an absolute path) "
    "without spaces, optionally followed by #branch-or-tag"
)
REF_HINT = " (a ref has letters, digits, '.', '_', '-', '/')"
OPTION_LIKE = "a git URL whose host and user name do not start with '-' (git and ssh would read them as options)"
ENCODING_HINT = " (in a user name or password, write '/' as %2F and '#' as %23)"
TOKEN = "ghp_" + SECRET.replace("-", "")
LONG = "https://example.org/" + "n" * 4980
# (id, value, how the error shows it, what is allowed)
BAD_REPOSITORIES = [
    ("space", "https://example.org/notebooks repo.git", "https://example.org/notebooks repo.git", REPOSITORY_ALLOWED),
    ("trailing newline", "https://example.org/n.git\n", "https://example.org/n.git\\n", REPOSITORY_ALLOWED),
    ("ftp scheme", "ftp://example.org/n.git", "ftp://example.org/n.git", REPOSITORY_ALLOWED),
    ("ext transport", "ext::sh -c touch% /tmp/pwned", "ext::sh -c touch% /tmp/pwned", REPOSITORY_ALLOWED),
    ("ext transport without space", "ext::/bin/false", "ext::/bin/false", REPOSITORY_ALLOWED),
    ("relative path", "notebooks", "notebooks", REPOSITORY_ALLOWED),
    ("git option", "--upload-pack=/bin/false", "--upload-pack=/bin/false", OPTION_LIKE),
    ("empty ref", "https://example.org/n.git#", "https://example.org/n.git#", REPOSITORY_ALLOWED + REF_HINT),
    ("ref with dots", "https://example.org/n.git#a..b", "https://example.org/n.git#a..b", REPOSITORY_ALLOWED + REF_HINT),
    ("ref as option", "https://example.org/n.git#-x", "https://example.org/n.git#-x", REPOSITORY_ALLOWED + REF_HINT),
    # option-like hosts and user names, in every form (git blocks some itself; the check refuses all)
    ("option as scp-like user", "-oProxyCommand@x:y", "<hidden>@x:y", OPTION_LIKE),
    ("option as scp-like host", "-oProxyCommand=touch:y", "-oProxyCommand=touch:y", OPTION_LIKE),
    ("option as ssh host", "ssh://-oProxyCommand=touch/x", "ssh://-oProxyCommand=touch/x", OPTION_LIKE),
    ("percent-encoded option as ssh host", "ssh://%2doProxyCommand=touch/x", "ssh://%2doProxyCommand=touch/x",
     OPTION_LIKE),
    ("option as ssh user", "ssh://-oProxyCommand=touch@h/x", "ssh://<hidden>@h/x", OPTION_LIKE),
    ("percent-encoded option as https user", "https://%2Doops@h/x.git", "https://<hidden>@h/x.git", OPTION_LIKE),
    ("option as git host", "git://-h/x.git", "git://-h/x.git", OPTION_LIKE),
    ("too long", LONG, LONG[:60] + f"...({len(LONG)} characters)", f"at most 2048 characters (this one has {len(LONG)})"),
    ("credentials on git://", f"git://{TOKEN}@h/x.git", "git://<hidden>@h/x.git",
     "a git:// or file:// URL without user name or password (git:// has no authentication; "
     "for a private repository use https://TOKEN@host/path)"),
    ("password in an ssh URL", f"ssh://git:{SECRET}@h/x.git", "ssh://<hidden>@h/x.git",
     "an ssh URL without password (ssh authenticates with a key; for a private repository use "
     "https://TOKEN@host/path)"),
    ("password in a scp-like address", f"git:{SECRET}@h:x.git", "<hidden>@h:x.git",
     "an ssh URL without password (ssh authenticates with a key; for a private repository use "
     "https://TOKEN@host/path)"),
    ("file URL with a host", "file://server/srv/n.git", "file://server/srv/n.git",
     "a file:// URL naming a path in the container: file:///path"),
    # a refused URL hides its credentials in every form
    ("password in url", f"https://user:{SECRET}@example.org/n y.git", "https://<hidden>@example.org/n y.git",
     REPOSITORY_ALLOWED),
    ("token as user name", f"https://{TOKEN}@example.org/n y.git", "https://<hidden>@example.org/n y.git",
     REPOSITORY_ALLOWED),
    ("password with @", f"https://user:p@ss-{SECRET}@example.org/n y.git", "https://<hidden>@example.org/n y.git",
     REPOSITORY_ALLOWED),
    ("password with unencoded slash", f"https://user:p/{SECRET}@example.org/n.git", "https://<hidden>@example.org/n.git",
     REPOSITORY_ALLOWED + ENCODING_HINT),
    ("password with unencoded hash", f"https://user:p#{SECRET}@example.org/n.git", "https://<hidden>@example.org/n.git",
     REPOSITORY_ALLOWED + ENCODING_HINT),
    ("percent-encoded password", f"https://user:p%40{SECRET}@example.org/n y.git", "https://<hidden>@example.org/n y.git",
     REPOSITORY_ALLOWED),
    ("scp-like token", f"{TOKEN}@example.org:n y.git", "<hidden>@example.org:n y.git", REPOSITORY_ALLOWED),
]
CASES.append(
    (
        "misspelt repository variable does not show the credentials",
        {**VIEWER, "IPYTHON_NOTEBOOK_REPOSITRY": f"https://{TOKEN}@example.org/n.git"},
        "error: IPYTHON_NOTEBOOK_REPOSITRY=https://<hidden>@example.org/n.git: not a variable of the image; "
        "did you mean IPYTHON_NOTEBOOK_REPOSITORY?",
    )
)
for name, value, shown, allowed in BAD_REPOSITORIES:
    CASES.append(
        (
            f"repository {name}",
            {**VIEWER, "IPYTHON_NOTEBOOK_REPOSITORY": value},
            f"error: IPYTHON_NOTEBOOK_REPOSITORY={shown}: {allowed}",
        )
    )


def run_entrypoint(home: Path, environment: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, str(ENTRYPOINT), *arguments],
        env=base_environment(home, **environment),
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize("environment, expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_configuration_is_one_line_and_exit_2(tmp_path: Path, environment: dict, expected: str):
    home = tmp_path / "home"
    home.mkdir()
    workspace = tmp_path / "work"
    environment = {"IPYTHON_NOTEBOOK_DIR": str(workspace), **environment}
    result = run_entrypoint(home, environment)
    assert result.returncode == 2
    assert result.stderr == expected + "\n"
    assert result.stdout == ""
    assert SECRET not in result.stderr
    assert TOKEN not in result.stderr
    assert list(home.iterdir()) == [], "nothing may be written"
    assert not workspace.exists(), "nothing may be created"


def test_workspace_that_cannot_be_created_is_a_one_line_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    home = tmp_path / "home"
    home.mkdir()
    result = run_entrypoint(home, {**VIEWER, "IPYTHON_NOTEBOOK_DIR": str(blocker / "work")})
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"error: IPYTHON_NOTEBOOK_DIR={blocker / 'work'}: a directory this user can create (Not a directory)"
    )
    assert "exec:" not in result.stderr


@pytest.mark.parametrize(
    "arguments, expected",
    [
        (["assemble"], r"^error: SRC_DIR=<unset>: one existing directory: entrypoint.py assemble SRC_DIR\n$"),
        (["assemble", "/nonexistent/src"], r"^error: SRC_DIR=/nonexistent/src: one existing directory"),
        (["assemble", "/tmp", "/tmp"], r"^error: SRC_DIR=/tmp /tmp: one existing directory"),
        (["install-shim", "--bogus"], r"^error: install-shim arguments=--bogus: none, or --site-packages DIR\n$"),
        (
            ["install-shim", "--site-packages", "/nonexistent"],
            r"^error: --site-packages=/nonexistent: an existing directory",
        ),
    ],
)
def test_bad_command_arguments_exit_2(tmp_path: Path, arguments: list[str], expected: str):
    result = run_entrypoint(tmp_path, {"IPYTHON_NOTEBOOK_DIR": str(tmp_path / "work")}, *arguments)
    assert result.returncode == 2
    assert re.match(expected, result.stderr), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "work").exists()
