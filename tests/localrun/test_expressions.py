"""Terraform expressions in synthesized JSON evaluate as Terraform would, or fail by name.

The evaluator is compared with Terraform itself, function by function, in
tests/localrun/test_expressions_against_terraform.py; these are the cases of the stacks' own
shape (references into resources and variables) and the contract of the errors.
"""

from __future__ import annotations

import pytest

from localrun.expressions import (
    ExpressionError,
    ReferenceFailure,
    Resolved,
    UnsupportedExpression,
    evaluate_string,
    evaluate_value,
)


class Scope:
    """References as the stack evaluator answers them: a value and the steps it used."""

    values = {
        "var": {"password": "abcdefgh", "engines": 3, "on": True},
        "random_string": {"label": {"result": "k3x9q", "id": "k3x9q"}},
        "kubernetes_secret_v1": {"key": {"metadata": {"name": "ipcluster-k3x9q-key"}, "id": "default/ipcluster-k3x9q-key"}},
    }

    def __init__(self, **extra):
        self.values = {**self.values, "local": extra}

    def resolve(self, root, traversal):
        if root == "local":
            return Resolved(self.values["local"][traversal[0]], 1)
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
        ("${try(random_string.label.nothing, \"fallback\")}", "fallback"),
        ("${can(random_string.label.nothing)}", False),
        ("${can(random_string.label.result)}", True),
        ("$${not.interpolated}", "${not.interpolated}"),
        ("${base64encode(\"key\")}", "a2V5"),
        ("${replace(\"a.b.c\", \".\", \"-\")}", "a-b-c"),
        # issue 11, with Terraform's values (terraform console, Terraform 1.11)
        ("${title(\"hELLO wORLD\")}", "HELLO WORLD"),
        ("${jsonencode({b = 1, a = \"<>&é\"})}", '{"a":"\\u003c\\u003e\\u0026é","b":1}'),
        ("${format(\"%5d|%.2f\", 42, 3.14159)}", "   42|3.14"),
        ("${upper(\"straße\")}", "STRAßE"),
        ("${0.1 + 0.2}", 0.3),
        ("${-7 % 3}", -1),
    ],
)
def test_expressions(text, expected):
    assert evaluate_string(text, Scope()) == expected


def test_values_are_evaluated_deeply_keys_included():
    value = {"labels": {"cluster-${random_string.label.result}": "${var.engines}"}, "list": ["${var.on}"]}
    assert evaluate_value(value, Scope()) == {"labels": {"cluster-k3x9q": 3}, "list": [True]}


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        # what Terraform might evaluate but the local run does not reproduce
        ("${nosuchfunction(1)}", UnsupportedExpression, r"function nosuchfunction\(\) is not supported locally"),
        ("${[for x in var.list : x]}", UnsupportedExpression, r"for expressions are not supported locally"),
        ("${var.list[*].name}", UnsupportedExpression, r"splat expressions are not supported locally"),
        ("%{ if var.on }x%{ endif }", UnsupportedExpression, r"template directives"),
        ("${1 / 0}", UnsupportedExpression, r"infinities are not reproduced locally"),
        ("${length(\"q\u0301\")}", UnsupportedExpression, r"grapheme clusters"),
        # ... and try() lets it through: Terraform's value could have been the first argument
        ("${try([for x in var.list : x], [])}", UnsupportedExpression, r"for expressions"),
        # what Terraform rejects too
        ("${var.missing}", ReferenceFailure, r"var.missing is not declared"),
        ("${try(var.missing, \"x\")}", ReferenceFailure, r"var.missing is not declared"),  # before evaluating
        ("${random_string.label.nothing}", ExpressionError, r"no attribute 'nothing'"),
        ("x-${var.engines", ExpressionError, r"unterminated interpolation"),
        ("${var.password + 1}", ExpressionError, r"a number is required"),
        ("${format(\"%d\", 3.7)}", ExpressionError, r"an integer is required"),
        ("${true ? 1 : true}", ExpressionError, r"inconsistent conditional result types"),
    ],
)
def test_what_cannot_be_evaluated_is_an_error_naming_it(text, error, message):
    with pytest.raises(error, match=message) as raised:
        evaluate_string(text, Scope())
    assert repr(text) in str(raised.value)


def test_a_value_read_back_through_a_reference_is_the_value_terraform_would_hold():
    """Numbers leave the evaluator as int/float but keep their exact Terraform value, so what
    a local or an attribute holds does not change when another expression reads it."""
    third = evaluate_string("${1 / 3}", Scope())
    assert isinstance(third, float) and third == 1 / 3
    assert evaluate_string("${local.x * 3 == 1}", Scope(x=third)) is True  # as in Terraform
    assert evaluate_string("${local.x * 3 == 1}", Scope(x=1 / 3)) is False  # a plain float is not 1/3
    assert evaluate_string("${jsonencode(local.x)}", Scope(x=evaluate_string("${0 * -1}", Scope()))) == "-0"
    short = evaluate_string("${length(\"a\") / length(\"abc\")}", Scope())
    assert evaluate_string("v${local.x}", Scope(x=short)) == "v0.33333333333333333334"  # 64 bits
    as_list = evaluate_string("${tolist([1, \"a\"])}", Scope())
    assert as_list == ["1", "a"]
    assert evaluate_string("${local.x == tolist([\"1\", \"a\"])}", Scope(x=as_list)) is True
    assert evaluate_string("${local.x == [\"1\", \"a\"]}", Scope(x=as_list)) is False  # a list is not a tuple
