"""Defaults and accepted values of the environment (the rejected ones are in
test_bad_configuration)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipython_roles.errors import ConfigError
from ipython_roles.repository_source import parse_repository
from ipython_roles.settings import load_settings

HOME = {"HOME": "/home/ipython"}


@pytest.mark.parametrize(
    "environ, expected",
    [
        (
            {"IPYTHON_CONTAINER_TYPE": "controller", "IPYTHON_CLUSTER_LABEL": "demo", "IPYTHON_CLUSTER_KEY": "k"},
            {
                "controller_host": "ipcluster-demo",
                "controller_port": 10100,
                "viewer_port": 8888,
                "notebook_dir": Path("/home/ipython/work"),
                "repository": None,
                "repository_required": False,
                "max_message_mib": 64,
                "max_message_bytes": 64 * 2**20,
            },
        ),
        (
            {
                "IPYTHON_CONTAINER_TYPE": "controller",
                "IPYTHON_CLUSTER_LABEL": "demo",
                "IPYTHON_CLUSTER_KEY": "k",
                "IPYTHON_MAX_MESSAGE_MIB": "4096",
            },
            {"max_message_mib": 4096, "max_message_bytes": 4096 * 2**20},
        ),
        (
            {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWORD": "pw-8char", "IPYTHON_MAX_MESSAGE_MIB": "1"},
            {"max_message_mib": 1},
        ),
        (
            {
                "IPYTHON_CONTAINER_TYPE": "engine",
                "IPYTHON_CLUSTER_LABEL": "a" * 53,
                "IPYTHON_CLUSTER_KEY": "k",
                "IPYTHON_CONTROLLER_HOST": "10.0.0.7",
                "IPYTHON_CONTROLLER_PORT": "65520",
            },
            {"controller_host": "10.0.0.7", "controller_port": 65520, "cluster_label": "a" * 53},
        ),
        (
            {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWORD": "pw-8char"},
            {"has_cluster": False, "controller_host": None, "allow_no_password": False, "password": "pw-8char"},
        ),
        (
            {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_ALLOW_NO_PASSWORD": "TRUE"},
            {"password": None, "allow_no_password": True},
        ),
        (
            {
                "IPYTHON_CONTAINER_TYPE": "viewer",
                "IPYTHON_USER_PASSWORD": "pw-8char",
                "IPYTHON_CLUSTER_LABEL": "x1",
                "IPYTHON_CLUSTER_KEY": "k",
                "IPYTHON_VIEWER_PORT": "80",
                "IPYTHON_NOTEBOOK_DIR": "/data",
                "IPYTHON_REPOSITORY_REQUIRED": "true",
                "IPYTHON_NOTEBOOK_REPOSITORY": "https://h/r.git#v2",
            },
            {
                "has_cluster": True,
                "controller_host": "ipcluster-x1",
                "viewer_port": 80,
                "notebook_dir": Path("/data"),
                "repository_required": True,
                "repository": parse_repository("https://h/r.git#v2"),
            },
        ),
        (
            {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWORD": "pw-8char", "IPYTHON_CLUSTER_KEY": "k"},
            {"has_cluster": False},
        ),
    ],
)
def test_settings_defaults_and_values(environ, expected):
    settings = load_settings({**HOME, **environ})
    assert {name: getattr(settings, name) for name in expected} == expected


def test_secrets_are_not_in_the_repr():
    settings = load_settings(
        {
            "IPYTHON_CONTAINER_TYPE": "engine",
            "IPYTHON_CLUSTER_LABEL": "d",
            "IPYTHON_CLUSTER_KEY": "topsecret",
            "IPYTHON_USER_PASSWORD": "pw-secret",
        }
    )
    assert "topsecret" not in repr(settings) and "pw-secret" not in repr(settings)


VIEWER = {"IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_USER_PASSWORD": "pw-8char"}


@pytest.mark.parametrize(
    "value, networks",
    [
        (None, ()),
        ("", ()),  # empty counts as unset, as for every variable
        ("127.0.0.0/8", ("127.0.0.0/8",)),
        ("10.0.0.0/8, 192.0.2.7,fd00::/8", ("10.0.0.0/8", "192.0.2.7/32", "fd00::/8")),
        ("2001:DB8::1", ("2001:db8::1/128",)),
    ],
)
def test_trusted_proxies_are_read_as_networks_and_handed_to_the_login(value, networks):
    from ipython_roles.viewer import viewer_config

    environ = {**HOME, **VIEWER} if value is None else {**HOME, **VIEWER, "IPYTHON_TRUSTED_PROXIES": value}
    settings = load_settings(environ)
    assert settings.trusted_proxies == networks
    config = viewer_config(settings, "argon2:hash")
    assert config["ViewerIdentityProvider"] == {"trusted_proxies": list(networks)}
    # tornado's own handling trusts the headers of any peer: it stays off
    assert config["ServerApp"]["trust_xheaders"] is False


@pytest.mark.parametrize(
    "value, url, ref, clone_url",
    [
        (
            "https://github.com/org/notebooks.git",
            "https://github.com/org/notebooks.git",
            None,
            "https://github.com/org/notebooks.git",
        ),
        ("http://git.local/n.git#v1.0", "http://git.local/n.git", "v1.0", "http://git.local/n.git"),
        ("git://git.local/n.git#release/2015", "git://git.local/n.git", "release/2015", "git://git.local/n.git"),
        (
            "ssh://git@git.local:2222/n.git#main",
            "ssh://git@git.local:2222/n.git",
            "main",
            "ssh://git@git.local:2222/n.git",
        ),
        (
            "git@github.com:org/notebooks.git",
            "git@github.com:org/notebooks.git",
            None,
            "git@github.com:org/notebooks.git",
        ),
        ("file:///srv/repos/n.git#feature_x", "file:///srv/repos/n.git", "feature_x", "file:///srv/repos/n.git"),
        ("/srv/repos/n#v2", "/srv/repos/n", "v2", "file:///srv/repos/n"),
        ("HTTPS://Example.org/N.git", "HTTPS://Example.org/N.git", None, "HTTPS://Example.org/N.git"),
    ],
)
def test_accepted_repositories(value, url, ref, clone_url):
    source = parse_repository(value)
    assert (source.url, source.ref, source.clone_url) == (url, ref, clone_url)


def test_rejected_repository_names_the_variable():
    with pytest.raises(ConfigError, match=r"^error: IPYTHON_NOTEBOOK_REPOSITORY=ext::sh: a git URL"):
        parse_repository("ext::sh")


@pytest.mark.parametrize(
    "value, kind, shown, clone_url, credentials",
    [
        ("https://ghp_T0KEN@github.com/org/n.git#main", "https", "https://<hidden>@github.com/org/n.git#main",
         "https://github.com/org/n.git", ("ghp_T0KEN", "")),
        ("https://alice:p@ss:w?rd@git.example.org/n.git", "https", "https://<hidden>@git.example.org/n.git",
         "https://git.example.org/n.git", ("alice", "p@ss:w?rd")),
        ("http://alice:p%40ss%2Fw%23rd@10.0.0.7:8080/n.git", "http", "http://<hidden>@10.0.0.7:8080/n.git",
         "http://10.0.0.7:8080/n.git", ("alice", "p@ss/w#rd")),
        ("https://[::1]:8443/n.git", "https", "https://[::1]:8443/n.git", "https://[::1]:8443/n.git", None),
        ("git@github.com:org/n.git", "scp", "<hidden>@github.com:org/n.git", "git@github.com:org/n.git", None),
        ("git.local:n.git", "scp", "git.local:n.git", "git.local:n.git", None),
        ("ssh://git@git.local:2222/n.git", "ssh", "ssh://<hidden>@git.local:2222/n.git",
         "ssh://git@git.local:2222/n.git", None),
        ("file://localhost/srv/n.git", "file", "file://localhost/srv/n.git", "file://localhost/srv/n.git", None),
        ("https://h/" + "x" * (2048 - len("https://h/")), "https", "https://h/" + "x" * 2038,
         "https://h/" + "x" * 2038, None),
    ],
    ids=["token", "password with specials", "percent-encoded", "ipv6", "scp-like", "scp-like without user",
         "ssh user", "file localhost", "2048 characters"],
)
def test_accepted_repositories_and_their_credentials(value, kind, shown, clone_url, credentials):
    source = parse_repository(value)
    assert (source.kind, source.describe(), source.clone_url, source.credentials()) == (
        kind, shown, clone_url, credentials
    )
    assert source.has_credentials is (credentials is not None)


def test_settings_never_show_the_credentials():
    settings = load_settings(
        {**HOME, "IPYTHON_CONTAINER_TYPE": "viewer", "IPYTHON_ALLOW_NO_PASSWORD": "true",
         "IPYTHON_NOTEBOOK_REPOSITORY": "https://ghp_T0KEN@github.com/org/n.git#main"}
    )
    assert "ghp_T0KEN" not in repr(settings)
    assert "RepositorySource('https://<hidden>@github.com/org/n.git#main')" in repr(settings)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("fatal: unable to access 'https://ghp_T0KEN@h/x/': 403", "fatal: unable to access 'https://<hidden>@h/x/': 403"),
        ("the token ghp_T0KEN alone", "the token <hidden> alone"),
        ("percent-encoded ghp%5FT0KEN", "percent-encoded <hidden>"),
    ],
)
def test_git_output_is_redacted(text, expected):
    assert parse_repository("https://ghp%5FT0KEN@h/x").redact(text) == expected


def test_an_ssh_login_name_is_hidden_only_before_its_host():
    source = parse_repository("git@h:x")
    assert source.redact("git@h: Permission denied; git-upload-pack 'x'") == "<hidden>@h: Permission denied; git-upload-pack 'x'"
