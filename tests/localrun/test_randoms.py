"""random_* values follow the hashicorp/random provider's rules (length, classes, minimums)."""

from __future__ import annotations

import re
import string

import pytest

from localrun.randoms import DEFAULT_SPECIAL, RandomConfigError, generate


@pytest.mark.parametrize(
    ("resource_type", "config", "pattern"),
    [
        # the stacks' labels: DNS-label characters only
        ("random_string", {"length": 5, "lower": True, "numeric": True, "special": False, "upper": False}, r"[a-z0-9]{5}"),
        # the stacks' key and password: letters and digits, at least one of each class
        ("random_password", {"length": 48, "min_lower": 1, "min_numeric": 1, "min_upper": 1, "special": False},
         r"(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])[A-Za-z0-9]{48}"),
        ("random_password", {"length": 12, "override_special": "_%", "min_special": 3, "upper": False, "lower": False, "numeric": False},
         r"[_%]{12}"),
        ("random_string", {"length": 6, "special": True, "override_special": "-", "min_special": 6}, r"-{6}"),
        ("random_string", {"length": 8, "upper": False, "lower": False, "special": False, "min_upper": 2}, r"(?=(.*[A-Z]){2})[A-Z0-9]{8}"),
        ("random_string", {"length": 30, "number": False, "special": False}, r"[A-Za-z]{30}"),  # legacy `number`
    ],
)
def test_characters_follow_the_arguments(resource_type, config, pattern):
    for _ in range(20):
        result = generate(resource_type, config, address="t")["result"]
        assert re.fullmatch(pattern, result), result


def test_default_classes_include_the_providers_special_characters():
    seen = set()
    for _ in range(50):
        seen |= set(generate("random_string", {"length": 64}, address="t")["result"])
    assert seen & set(DEFAULT_SPECIAL)
    assert seen & set(string.ascii_uppercase) and seen & set(string.ascii_lowercase) and seen & set(string.digits)


def test_random_id_encodings_agree():
    values = generate("random_id", {"byte_length": 8, "prefix": "p-"}, address="t")
    raw = bytes.fromhex(values["hex"].removeprefix("p-"))
    assert len(raw) == 8
    assert values["dec"] == "p-" + str(int.from_bytes(raw, "big"))
    assert not values["id"].startswith("p-") and "=" not in values["id"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"length": 0}, r"length=0: at least 1"),
        ({"length": 3, "min_upper": 2, "min_lower": 2}, r"length=3 is less than the sum of the min_\* arguments \(4\)"),
        ({"length": 4, "upper": False, "lower": False, "numeric": False, "special": False}, r"every character class is disabled"),
        ({"length": "x"}, r"length='x': a whole number"),
        ({"length": 4, "min_upper": -1}, r"min_upper=-1: must not be negative"),
    ],
)
def test_arguments_the_provider_rejects_are_errors(config, message):
    with pytest.raises(RandomConfigError, match=message):
        generate("random_string", config, address="t")
