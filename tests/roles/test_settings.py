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
