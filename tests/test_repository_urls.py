"""One table of repository URLs, checked by both places that check them: the image
(image/ipython_roles/repository_source.py, IPYTHON_NOTEBOOK_REPOSITORY at container start) and
the constructs (constructs/ipython_k8s/validation.py, the prop and the stack parameter at synth).

They share no code (the image does not ship the constructs), so this table is what keeps them
in agreement: the same values accepted, the same refused for the same reason, the same
credentials recognised, and the same part of a refused value hidden.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "image") not in sys.path:
    sys.path.insert(0, str(ROOT / "image"))

from ipython_k8s import validation  # noqa: E402
from ipython_roles import repository_source  # noqa: E402
from ipython_roles.errors import ConfigError  # noqa: E402

TOKEN = "ghp_SECRET0123456789"
OK, CREDENTIALS = "accepted", "accepted with credentials"
REFUSED, OPTION, LENGTH, NO_USER, SSH_PASSWORD, FILE_HOST = (
    "refused", "option-like", "too long", "no user", "ssh password", "file host"
)

TABLE = [
    # accepted, no credentials
    ("https://github.com/org/notebooks.git", OK),
    ("https://github.com/org/notebooks.git#main", OK),
    ("HTTPS://Example.org/N.git", OK),
    ("http://git.local:8080/n.git#v1.0", OK),
    ("https://[::1]:8443/n.git", OK),
    ("git://git.local/n.git#release/2015", OK),
    ("ssh://git@git.local:2222/n.git#main", OK),
    ("ssh://git.local/n.git", OK),
    ("git@github.com:org/notebooks.git", OK),
    ("git.local:n.git", OK),
    ("git@[::1]:n.git", OK),
    ("file:///srv/repos/n.git#feature_x", OK),
    ("file://localhost/srv/repos/n.git", OK),
    ("/srv/repos/n#v2", OK),
    ("https://h/" + "x" * (2048 - len("https://h/")), OK),
    # accepted, credentials (http(s) only)
    (f"https://{TOKEN}@github.com/org/n.git", CREDENTIALS),
    (f"https://alice:{TOKEN}@github.com/org/n.git#main", CREDENTIALS),
    (f"https://alice:p@ss-{TOKEN}@github.com/org/n.git", CREDENTIALS),
    (f"https://alice:p%40ss%2F{TOKEN}@github.com/org/n.git", CREDENTIALS),
    (f"http://alice:{TOKEN}!$&'()*+,;=?:x@git.local:8080/n.git", CREDENTIALS),
    (f"https://x-access-token:{TOKEN}@github.com/org/n.git", CREDENTIALS),
    # refused: option-like host or user, in every form
    ("-oProxyCommand@x:y", OPTION),
    ("-oProxyCommand=touch:y", OPTION),
    ("--upload-pack=/bin/false", OPTION),
    ("ssh://-oProxyCommand=touch/x", OPTION),
    ("ssh://%2doProxyCommand=touch/x", OPTION),
    ("ssh://-oProxyCommand=touch@h/x", OPTION),
    ("ssh://%2DoProxyCommand=touch@h/x", OPTION),
    ("git://-h/x.git", OPTION),
    ("https://-h/x.git", OPTION),
    ("https://%2Doops@h/x.git", OPTION),
    (f"https://-{TOKEN}@h/x.git", OPTION),
    # refused: length
    ("https://h/" + "x" * (2049 - len("https://h/")), LENGTH),
    ("https://example.org/" + "n" * 4980, LENGTH),
    # refused: credentials where they cannot be used
    (f"git://{TOKEN}@h/x.git", NO_USER),
    ("file://user@/srv/n.git", NO_USER),
    (f"ssh://git:{TOKEN}@h/x.git", SSH_PASSWORD),
    (f"git:{TOKEN}@h:x.git", SSH_PASSWORD),
    ("file://server/srv/n.git", FILE_HOST),
    ("file://", FILE_HOST),
    # refused: anything else
    ("", REFUSED),
    ("notebooks", REFUSED),
    ("./notebooks", REFUSED),
    ("/", REFUSED),
    ("ftp://example.org/n.git", REFUSED),
    ("ext::sh -c touch% /tmp/pwned", REFUSED),
    ("ext::/bin/false", REFUSED),
    ("fd::17", REFUSED),
    ("https://example.org/my repo.git", REFUSED),
    ("https://example.org/n.git\n", REFUSED),
    ("https://example.org/n.git#", REFUSED),
    ("https://example.org/n.git#a..b", REFUSED),
    ("https://example.org/n.git#-x", REFUSED),
    ("https://example.org:99999/n.git", REFUSED),
    ("https://exa_mple.org:port/n.git", REFUSED),
    ("https:///n.git", REFUSED),
    ("https://@h/n.git", REFUSED),
    (f"https://alice:p/{TOKEN}@h/n.git", REFUSED),
    (f"https://alice:p#{TOKEN}@h/n.git", REFUSED),
    (f"https://{TOKEN}@h/my repo.git", REFUSED),
    (f"x@{TOKEN}@h:p", REFUSED),
    ("https://h%2Fx/n.git", REFUSED),
]

IMAGE_MESSAGES = {
    OPTION: repository_source.OPTION_LIKE,
    NO_USER: repository_source.NO_USER,
    SSH_PASSWORD: repository_source.NO_SSH_PASSWORD,
    FILE_HOST: repository_source.FILE_HOST,
}
CONSTRUCT_MESSAGES = {
    OPTION: validation.REPOSITORY_OPTION_LIKE,
    NO_USER: validation.REPOSITORY_NO_USER,
    SSH_PASSWORD: validation.REPOSITORY_NO_SSH_PASSWORD,
    FILE_HOST: validation.REPOSITORY_FILE_HOST,
}


def _image(value: str) -> tuple[str, str | None, str | None]:
    """(verdict, what is allowed, how the value is shown) as the image sees the value."""
    try:
        source = repository_source.parse_repository(value)
    except ConfigError as error:
        return _verdict(error.allowed, IMAGE_MESSAGES, "at most 2048 characters"), error.allowed, error.value
    return (CREDENTIALS if source.has_credentials else OK), None, None


def _constructs(value: str) -> tuple[str, str | None, str | None]:
    """The same for the constructs' check (the prop, and the stack parameter)."""
    try:
        validation.repository_url("notebook_repository", value)
    except validation.InvalidValue as error:
        shown = ast.literal_eval(error.shown)  # the prop's error quotes it like a Python string
        return _verdict(error.allowed, CONSTRUCT_MESSAGES, "at most 2048 characters"), error.allowed, shown
    return (CREDENTIALS if validation.repository_has_credentials(value) else OK), None, None


def _verdict(allowed: str, messages: dict[str, str], too_long: str) -> str:
    if allowed.startswith(too_long):
        return LENGTH
    for verdict, message in messages.items():
        if allowed.startswith(message):
            return verdict
    return REFUSED


def _id(value: str) -> str:
    return value if len(value) < 60 else f"{value[:40]}...({len(value)})"


@pytest.mark.parametrize("value, expected", TABLE, ids=[_id(value) for value, _ in TABLE])
def test_image_and_constructs_agree(value, expected):
    image_verdict, image_allowed, image_shown = _image(value)
    construct_verdict, construct_allowed, construct_shown = _constructs(value)
    assert (image_verdict, construct_verdict) == (expected, expected)
    if expected not in (OK, CREDENTIALS):
        assert image_shown == construct_shown
        assert TOKEN not in image_shown
        assert "\n" not in image_allowed + construct_allowed


def test_the_table_has_every_form():
    verdicts = [expected for _, expected in TABLE]
    assert {OK, CREDENTIALS, REFUSED, OPTION, LENGTH, NO_USER, SSH_PASSWORD, FILE_HOST} == set(verdicts)
    assert repository_source.MAX_LENGTH == validation.MAX_REPOSITORY_LENGTH == 2048


@pytest.mark.parametrize(
    "value",
    [f"https://{TOKEN}@h/x y", f"https://a:p@ss{TOKEN}@h/x#y z", f"{TOKEN}@h:x y", f"ssh://{TOKEN}@h/x y",
     f"ftp://u:{TOKEN}@h/x", f"https://u:p#{TOKEN}@h/x"],
)
def test_both_hide_the_same_part_of_any_value(value):
    assert repository_source.redact_url(value) == validation.redacted_repository(value)
    assert TOKEN not in repository_source.redact_url(value)
