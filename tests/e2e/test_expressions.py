"""Terraform expressions in synthesized JSON evaluate as Terraform would, or fail by name."""

from __future__ import annotations

import pytest

from localrun.expressions import ExpressionError, Resolved, evaluate_string, evaluate_value


class Scope:
    """References as the stack evaluator answers them: a value and the steps it used."""

    values = {
        "var": {"password": "abcdefgh", "engines": 3, "on": True},
        "random_string": {"label": {"result": "k3x9q", "id": "k3x9q"}},
        "kubernetes_secret_v1": {"key": {"metadata": {"name": "ipcluster-k3x9q-key"}, "id": "default/ipcluster-k3x9q-key"}},
    }

    def resolve(self, root, traversal):
        if root == "var":
            if traversal[0] not in self.values["var"]:
                raise ExpressionError(f"var.{traversal[0]} is not declared")
            return Resolved(self.values["var"][traversal[0]], 1)
        return Resolved(self.values[root][traversal[0]], 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("${random_string.label.result}", "k3x9q"),
        ("ipcluster-${random_string.label.result}-key", "ipcluster-k3x9q-key"),
        ("${kubernetes_secret_v1.key.metadata[0].name}", "ipcluster-k3x9q-key"),  # a block is a list in the schema
        ("${kubernetes_secret_v1.key.metadata.name}", "ipcluster-k3x9q-key"),
        ("${var.engines}", 3),  # alone, the value keeps its type
        ("n=${var.engines}", "n=3"),
        ("${var.on}", True),
        ("${length(var.password) >= 8}", True),
        ("${length(var.password) >= 9}", False),
        ("${var.engines * 2 + 1}", 7),
        ("${var.engines > 2 ? \"many\" : \"few\"}", "many"),
        ("${!var.on || var.engines == 3}", True),
        ("${join(\"-\", [\"a\", random_string.label.result])}", "a-k3x9q"),
        ("${format(\"%s:%d\", \"port\", 10100)}", "port:10100"),
        ("${upper(\"x${var.password}\")}", "XABCDEFGH"),
        ("${{a = 1, \"b\" = [1, 2]}[\"b\"][1]}", 2),
        ("${try(var.missing, \"fallback\")}", "fallback"),
        ("${can(var.missing)}", False),
        ("$${not.interpolated}", "${not.interpolated}"),
        ("${base64encode(\"key\")}", "a2V5"),
        ("${replace(\"a.b.c\", \".\", \"-\")}", "a-b-c"),
    ],
)
def test_expressions(text, expected):
    assert evaluate_string(text, Scope()) == expected


def test_values_are_evaluated_deeply_keys_included():
    value = {"labels": {"cluster-${random_string.label.result}": "${var.engines}"}, "list": ["${var.on}"]}
    assert evaluate_value(value, Scope()) == {"labels": {"cluster-k3x9q": 3}, "list": [True]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${nosuchfunction(1)}", r"function nosuchfunction\(\) is not supported locally"),
        ("${[for x in var.list : x]}", r"for expressions are not supported locally"),
        ("${var.list[*].name}", r"splat expressions are not supported locally"),
        ("%{ if var.on }x%{ endif }", r"template directives"),
        ("${var.missing}", r"var.missing is not declared"),
        ("${random_string.label.nothing}", r"no attribute 'nothing'"),
        ("x-${var.engines", r"unterminated interpolation"),
        ("${var.password + 1}", r"a number is required"),
    ],
)
def test_what_cannot_be_evaluated_is_an_error_naming_it(text, message):
    with pytest.raises(ExpressionError, match=message):
        evaluate_string(text, Scope())
