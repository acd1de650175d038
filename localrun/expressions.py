"""Terraform's expression language, the subset that synthesized cdktf JSON uses.

WHY a parser and not a regular expression: cdktf writes references (``${random_string.x.result}``),
remote-state outputs, variable validations (``${length(var.user_password) >= 8}``) and, when a
construct uses ``Fn.*``, function calls; a construct change may bring any of them. A small
tokenizer and precedence parser evaluates all of them the way Terraform does, and everything
outside the subset (splat, ``for`` expressions, template directives, unknown functions) is a
clear error naming the expression instead of a wrong value.

Values are plain Python: str, int/float, bool, None, list, dict. References are resolved by a
``Scope`` given to ``evaluate``: it receives the root name and the traversal (attribute names
and index values) and returns a value.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import LocalRunError


class ExpressionError(LocalRunError):
    """An expression that cannot be evaluated locally; the message names it."""


class Scope(Protocol):
    def resolve(self, root: str, traversal: list[str | int]) -> Any:
        """The value of ``root.a.b[0]...``; may consume only a prefix of the traversal and
        return ``(value, consumed)`` via ``Resolved``."""


@dataclass(frozen=True)
class Resolved:
    """What a scope returns: the value and how many traversal steps it used."""

    value: Any
    consumed: int


# --------------------------------------------------------------------------------------------
# Tokens
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
  | (?P<string>")
  | (?P<heredoc><<-?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||=>|\.\.\.|[-+*/%<>!?:.,()\[\]{}=])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, ident, op, end
    value: Any
    position: int


def _read_string(text: str, start: int) -> tuple[str, int]:
    """The raw content of a quoted string starting after its opening quote; returns it with
    escapes kept (templates inside are parsed later) and the index after the closing quote."""
    i = start
    depth = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if text.startswith("${", i) or text.startswith("%{", i):
            depth += 1
            i += 2
            continue
        if ch == "}" and depth:
            depth -= 1
        elif ch == '"' and not depth:
            return text[start:i], i + 1
        i += 1
    raise ExpressionError(f"unterminated string in {text!r}")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        match = _TOKEN.match(text, i)
        if match is None:
            raise ExpressionError(f"unexpected {text[i]!r} at {i} in {text!r}")
        kind = match.lastgroup
        if kind == "space":
            i = match.end()
            continue
        if kind == "string":
            raw, i = _read_string(text, match.end())
            tokens.append(Token("string", raw, match.start()))
            continue
        if kind == "heredoc":
            raise ExpressionError(f"heredoc strings are not supported locally: {text!r}")
        value: Any = match.group()
        if kind == "number":
            value = float(value) if any(c in value for c in ".eE") else int(value)
        tokens.append(Token(kind, value, match.start()))
        i = match.end()
    tokens.append(Token("end", None, len(text)))
    return tokens


# --------------------------------------------------------------------------------------------
# Syntax tree
class Node:
    def evaluate(self, context: Context) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Literal(Node):
    value: Any

    def evaluate(self, context: Context) -> Any:
        return self.value


@dataclass(frozen=True)
class TemplateNode(Node):
    """A string with interpolations: literal parts (str) and expressions (Node)."""

    parts: tuple[str | Node, ...]

    def evaluate(self, context: Context) -> Any:
        if len(self.parts) == 1 and isinstance(self.parts[0], Node):
            return self.parts[0].evaluate(context)  # "${x}" alone keeps x's type
        out = []
        for part in self.parts:
            out.append(part if isinstance(part, str) else to_string(part.evaluate(context), context))
        return "".join(out)


@dataclass(frozen=True)
class Reference(Node):
    root: str
    steps: tuple[Node | str, ...]  # str: attribute name; Node: index expression

    def evaluate(self, context: Context) -> Any:
        traversal: list[str | int] = []
        for step in self.steps:
            if isinstance(step, str):
                traversal.append(step)
            else:
                index = step.evaluate(context)
                traversal.append(index)
        resolved = context.scope.resolve(self.root, traversal)
        if not isinstance(resolved, Resolved):
            resolved = Resolved(resolved, len(traversal))
        return traverse(resolved.value, traversal[resolved.consumed:], context.describe(self))


@dataclass(frozen=True)
class Postfix(Node):
    """``(expr).attr`` or ``(expr)[i]`` on something that is not a plain reference."""

    target: Node
    steps: tuple[Node | str, ...]

    def evaluate(self, context: Context) -> Any:
        value = self.target.evaluate(context)
        traversal = [s if isinstance(s, str) else s.evaluate(context) for s in self.steps]
        return traverse(value, traversal, context.text)


@dataclass(frozen=True)
class Call(Node):
    name: str
    arguments: tuple[Node, ...]
    expand_last: bool = False

    def evaluate(self, context: Context) -> Any:
        if self.name in ("try", "can"):
            return self._guarded(context)
        function = FUNCTIONS.get(self.name)
        if function is None:
            raise ExpressionError(
                f"function {self.name}() is not supported locally (in {context.text!r}); "
                f"supported: {', '.join(sorted([*FUNCTIONS, 'can', 'try']))}"
            )
        values = [argument.evaluate(context) for argument in self.arguments]
        if self.expand_last:
            values = values[:-1] + list(values[-1])
        try:
            return function(*values)
        except ExpressionError:
            raise
        except Exception as error:  # noqa: BLE001 - a function's failure names the expression
            raise ExpressionError(f"{self.name}() failed in {context.text!r}: {error}") from None

    def _guarded(self, context: Context) -> Any:
        """try() and can() evaluate lazily: an argument that fails is skipped, not raised."""
        for argument in self.arguments:
            try:
                value = argument.evaluate(context)
            except ExpressionError:
                if self.name == "can":
                    return False
                continue
            return True if self.name == "can" else value
        raise ExpressionError(f"try(): every argument failed in {context.text!r}")


@dataclass(frozen=True)
class Unary(Node):
    operator: str
    operand: Node

    def evaluate(self, context: Context) -> Any:
        value = self.operand.evaluate(context)
        if self.operator == "!":
            return not _bool(value)
        return -_number(value)


@dataclass(frozen=True)
class Binary(Node):
    operator: str
    left: Node
    right: Node

    def evaluate(self, context: Context) -> Any:
        op = self.operator
        if op == "&&":
            return _bool(self.left.evaluate(context)) and _bool(self.right.evaluate(context))
        if op == "||":
            return _bool(self.left.evaluate(context)) or _bool(self.right.evaluate(context))
        left, right = self.left.evaluate(context), self.right.evaluate(context)
        if op == "==":
            return _equal(left, right)
        if op == "!=":
            return not _equal(left, right)
        a, b = _number(left), _number(right)
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        if op == "<=":
            return a <= b
        if op == ">=":
            return a >= b
        if op == "+":
            return _tidy(a + b)
        if op == "-":
            return _tidy(a - b)
        if op == "*":
            return _tidy(a * b)
        if op == "/":
            return _tidy(a / b)
        if op == "%":
            return _tidy(a % b)
        raise ExpressionError(f"operator {op} is not supported locally")


@dataclass(frozen=True)
class Conditional(Node):
    condition: Node
    then: Node
    otherwise: Node

    def evaluate(self, context: Context) -> Any:
        return self.then.evaluate(context) if _bool(self.condition.evaluate(context)) else self.otherwise.evaluate(context)


@dataclass(frozen=True)
class ListNode(Node):
    items: tuple[Node, ...]

    def evaluate(self, context: Context) -> Any:
        return [item.evaluate(context) for item in self.items]


@dataclass(frozen=True)
class ObjectNode(Node):
    items: tuple[tuple[Node, Node], ...]

    def evaluate(self, context: Context) -> Any:
        return {to_string(k.evaluate(context), context): v.evaluate(context) for k, v in self.items}


# --------------------------------------------------------------------------------------------
# Parser
class _Parser:
    """Precedence climbing over HCL's operator table (lowest first)."""

    LEVELS: Sequence[tuple[str, ...]] = (("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%"))

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def accept(self, value: str) -> bool:
        token = self.peek()
        if token.kind == "op" and token.value == value:
            self.i += 1
            return True
        return False

    def expect(self, value: str) -> None:
        if not self.accept(value):
            token = self.peek()
            raise ExpressionError(f"expected {value!r} at {token.position} in {self.text!r}")

    def parse(self) -> Node:
        node = self.expression()
        if self.peek().kind != "end":
            raise ExpressionError(f"unexpected {self.peek().value!r} at {self.peek().position} in {self.text!r}")
        return node

    def expression(self) -> Node:
        condition = self.binary(0)
        if self.accept("?"):
            then = self.expression()
            self.expect(":")
            otherwise = self.expression()
            return Conditional(condition, then, otherwise)
        return condition

    def binary(self, level: int) -> Node:
        if level == len(self.LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while True:
            token = self.peek()
            if token.kind == "op" and token.value in self.LEVELS[level]:
                self.take()
                node = Binary(token.value, node, self.binary(level + 1))
            else:
                return node

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.value in ("!", "-"):
            self.take()
            return Unary(token.value, self.unary())
        return self.postfix(self.primary())

    def steps(self) -> list[Node | str]:
        steps: list[Node | str] = []
        while True:
            if self.accept("."):
                token = self.take()
                if token.kind == "ident":
                    steps.append(token.value)
                elif token.kind == "number" and isinstance(token.value, int):
                    steps.append(Literal(token.value))
                elif token.kind == "op" and token.value == "*":
                    raise ExpressionError(f"splat expressions are not supported locally: {self.text!r}")
                else:
                    raise ExpressionError(f"bad attribute at {token.position} in {self.text!r}")
            elif self.peek().kind == "op" and self.peek().value == "[":
                if self.peek(1).kind == "op" and self.peek(1).value == "*":
                    raise ExpressionError(f"splat expressions are not supported locally: {self.text!r}")
                self.take()
                steps.append(self.expression())
                self.expect("]")
            else:
                return steps

    def postfix(self, node: Node) -> Node:
        steps = self.steps()
        if not steps:
            return node
        if isinstance(node, Reference):
            return Reference(node.root, node.steps + tuple(steps))
        return Postfix(node, tuple(steps))

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Literal(token.value)
        if token.kind == "string":
            return parse_template(_unescape_quoted(token.value))
        if token.kind == "ident":
            if token.value in ("true", "false"):
                return Literal(token.value == "true")
            if token.value == "null":
                return Literal(None)
            if token.value == "for":
                raise ExpressionError(f"for expressions are not supported locally: {self.text!r}")
            if self.accept("("):
                return self.call(token.value)
            return Reference(token.value, ())
        if token.kind == "op":
            if token.value == "(":
                node = self.expression()
                self.expect(")")
                return node
            if token.value == "[":
                if self.peek().kind == "ident" and self.peek().value == "for":
                    raise ExpressionError(f"for expressions are not supported locally: {self.text!r}")
                items = []
                while not self.accept("]"):
                    items.append(self.expression())
                    if not self.accept(","):
                        self.expect("]")
                        break
                return ListNode(tuple(items))
            if token.value == "{":
                if self.peek().kind == "ident" and self.peek().value == "for":
                    raise ExpressionError(f"for expressions are not supported locally: {self.text!r}")
                items = []
                while not self.accept("}"):
                    key_token = self.peek()
                    if key_token.kind == "ident" and self.peek(1).kind == "op" and self.peek(1).value in ("=", ":"):
                        self.take()
                        key: Node = Literal(key_token.value)
                    else:
                        key = self.expression()
                    if not self.accept("="):
                        self.expect(":")
                    items.append((key, self.expression()))
                    if not self.accept(","):
                        self.expect("}")
                        break
                return ObjectNode(tuple(items))
        raise ExpressionError(f"unexpected {token.value!r} at {token.position} in {self.text!r}")

    def call(self, name: str) -> Node:
        arguments: list[Node] = []
        expand = False
        while not self.accept(")"):
            arguments.append(self.expression())
            if self.accept("..."):
                expand = True
            if not self.accept(","):
                self.expect(")")
                break
        return Call(name, tuple(arguments), expand)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unescape_quoted(raw: str) -> str:
    """Backslash escapes of a quoted HCL string; ``${``/``%{`` stay for the template parser."""
    out = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "u" and i + 6 <= len(raw):
                out.append(chr(int(raw[i + 2:i + 6], 16)))
                i += 6
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _interpolation_end(text: str, start: int) -> int:
    """Index of the ``}`` closing the interpolation whose expression starts at ``start``."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == '"':
            _, i = _read_string(text, i + 1)
            continue
        if ch in "{[(":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    raise ExpressionError(f"unterminated interpolation in {text!r}")


_TEMPLATE_CACHE: dict[str, TemplateNode] = {}


def parse_template(text: str) -> TemplateNode:
    """A JSON string value of a synthesized stack, as Terraform reads it."""
    cached = _TEMPLATE_CACHE.get(text)
    if cached is not None:
        return cached
    parts: list[str | Node] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$${", i) or text.startswith("%%{", i):
            literal.append(text[i + 1:i + 3])
            i += 3
            continue
        if text.startswith("%{", i):
            raise ExpressionError(f"template directives (%{{...}}) are not supported locally: {text!r}")
        if text.startswith("${", i):
            start = i + 2
            if text.startswith("~", start):
                start += 1
            end = _interpolation_end(text, start)
            inner = text[start:end]
            if inner.endswith("~"):
                inner = inner[:-1]
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(_Parser(inner).parse())
            i = end + 1
            continue
        literal.append(text[i])
        i += 1
    if literal or not parts:
        parts.append("".join(literal))
    template = TemplateNode(tuple(parts))
    _TEMPLATE_CACHE[text] = template
    return template


# --------------------------------------------------------------------------------------------
# Evaluation
@dataclass
class Context:
    scope: Scope
    text: str

    def describe(self, node: Node) -> str:
        return self.text


def has_interpolation(text: str) -> bool:
    return "${" in text or "%{" in text


def evaluate_string(text: str, scope: Scope) -> Any:
    """The value of one JSON string of the stack (``"${...}"`` alone keeps its type)."""
    if not has_interpolation(text):
        return text
    return parse_template(text).evaluate(Context(scope, text))


def evaluate_value(value: Any, scope: Scope) -> Any:
    """Every string in a JSON value evaluated, keys included."""
    if isinstance(value, str):
        return evaluate_string(value, scope)
    if isinstance(value, list):
        return [evaluate_value(item, scope) for item in value]
    if isinstance(value, dict):
        return {
            (evaluate_string(key, scope) if has_interpolation(key) else key): evaluate_value(item, scope)
            for key, item in value.items()
        }
    return value


def traverse(value: Any, traversal: Sequence[str | int], where: str) -> Any:
    """Apply attribute/index steps. A nested block is written as an object in JSON but is a
    list in the provider schema (``metadata[0].name``), so ``[0]`` on an object is the object."""
    for step in traversal:
        if isinstance(value, dict):
            if isinstance(step, int) and step == 0 and str(step) not in value:
                continue
            key = str(step)
            if key not in value:
                raise ExpressionError(f"{where}: no attribute {key!r} (there are: {', '.join(sorted(map(str, value))) or 'none'})")
            value = value[key]
        elif isinstance(value, list):
            if isinstance(step, str) and len(value) == 1 and isinstance(value[0], dict):
                value = value[0]  # a block list used like a single block
                value = traverse(value, [step], where)
                continue
            if not isinstance(step, int) and not (isinstance(step, str) and step.isdigit()):
                raise ExpressionError(f"{where}: cannot use {step!r} on a list")
            index = int(step)
            if not 0 <= index < len(value):
                raise ExpressionError(f"{where}: index {index} out of range (length {len(value)})")
            value = value[index]
        else:
            raise ExpressionError(f"{where}: cannot read {step!r} from {type(value).__name__}")
    return value


def to_string(value: Any, context: Context | None = None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number_text(value)
    if isinstance(value, str):
        return value
    where = f" in {context.text!r}" if context else ""
    if value is None:
        raise ExpressionError(f"null value cannot be interpolated{where}")
    raise ExpressionError(f"a {type(value).__name__} cannot be interpolated into a string{where}")


def _number_text(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _tidy(value: float | int) -> float | int:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _number(value: Any) -> float | int:
    if isinstance(value, bool):
        raise ExpressionError(f"a number is required, got {value!r}")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return _tidy(float(value)) if re.fullmatch(r"-?[0-9.eE+-]+", value) else _fail_number(value)
        except ValueError:
            _fail_number(value)
    return _fail_number(value)


def _fail_number(value: Any) -> float:
    raise ExpressionError(f"a number is required, got {value!r}")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ExpressionError(f"a bool is required, got {value!r}")


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, (int, float)) and isinstance(right, (int, float)) and not isinstance(left, bool) and not isinstance(right, bool):
        return float(left) == float(right)
    return left == right and type(left) is type(right)


# --------------------------------------------------------------------------------------------
# Functions: the ones a construct plausibly uses through cdktf's Fn.*
def _length(value: Any) -> int:
    if isinstance(value, (str, list, dict)):
        return len(value)
    raise ExpressionError(f"length() needs a string, list or map, got {type(value).__name__}")


def _format(spec: str, *args: Any) -> str:
    values = iter(args)

    def substitute(match: re.Match) -> str:
        verb = match.group(1)
        if verb == "%":
            return "%"
        value = next(values)
        if verb == "d":
            return str(int(_number(value)))
        if verb == "q":
            return json.dumps(to_string(value))
        if verb == "v" and not isinstance(value, (str, int, float, bool)):
            return json.dumps(value)
        return to_string(value)

    return re.sub(r"%([%sdvq])", substitute, spec)


def _replace(text: str, search: str, replacement: str) -> str:
    if len(search) > 1 and search.startswith("/") and search.endswith("/"):
        return re.sub(search[1:-1], re.sub(r"\$(\d+)", r"\\\1", replacement), text)
    return text.replace(search, replacement)


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value is not None and value != "":
            return value
    raise ExpressionError("coalesce(): no non-null, non-empty argument")


def _lookup(mapping: dict, key: str, *default: Any) -> Any:
    if key in mapping:
        return mapping[key]
    if default:
        return default[0]
    raise ExpressionError(f"lookup(): no key {key!r}")


def _tonumber(value: Any) -> Any:
    return None if value is None else _number(value)


def _tobool(value: Any) -> Any:
    return None if value is None else _bool(value)


def _merge(*maps: dict) -> dict:
    merged: dict = {}
    for mapping in maps:
        merged.update(mapping or {})
    return merged


def _substr(text: str, offset: int, length: int) -> str:
    offset = int(offset)
    if offset < 0:
        offset += len(text)
    return text[offset:] if int(length) < 0 else text[offset:offset + int(length)]


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": lambda x: abs(_number(x)),
    "base64decode": lambda s: base64.b64decode(s).decode(),
    "base64encode": lambda s: base64.b64encode(to_string(s).encode()).decode(),
    "ceil": lambda x: -int(-_number(x) // 1),
    "coalesce": _coalesce,
    "concat": lambda *lists: [item for items in lists for item in items],
    "contains": lambda items, value: value in items,
    "element": lambda items, index: items[int(index) % len(items)],
    "floor": lambda x: int(_number(x) // 1),
    "format": _format,
    "join": lambda separator, *lists: separator.join(to_string(i) for items in lists for i in items),
    "jsonencode": lambda value: json.dumps(value, separators=(",", ":")),
    "jsondecode": json.loads,
    "keys": lambda mapping: sorted(mapping),
    "length": _length,
    "lookup": _lookup,
    "lower": lambda s: s.lower(),
    "max": lambda *xs: max(_number(x) for x in xs),
    "merge": _merge,
    "min": lambda *xs: min(_number(x) for x in xs),
    "nonsensitive": lambda x: x,
    "replace": _replace,
    "sensitive": lambda x: x,
    "split": lambda separator, text: text.split(separator),
    "substr": _substr,
    "title": lambda s: s.title(),
    "tobool": _tobool,
    "tolist": lambda x: list(x),
    "tomap": lambda x: dict(x),
    "tonumber": _tonumber,
    "toset": lambda x: sorted(set(x), key=str),
    "tostring": lambda x: None if x is None else to_string(x),
    "trim": lambda s, chars: s.strip(chars),
    "trimprefix": lambda s, p: s[len(p):] if s.startswith(p) else s,
    "trimspace": lambda s: s.strip(),
    "trimsuffix": lambda s, p: s[: -len(p)] if p and s.endswith(p) else s,
    "upper": lambda s: s.upper(),
    "values": lambda mapping: [mapping[k] for k in sorted(mapping)],
}
