"""Terraform's expression language, the subset that synthesized cdktf JSON uses, evaluated the
way Terraform 1.x evaluates it.

WHY a parser and not a regular expression: cdktf writes references (``${random_string.x.result}``),
remote-state outputs, variable validations (``${length(var.user_password) >= 8}``) and, when a
construct uses ``Fn.*``, function calls; a construct change may bring any of them. A small
tokenizer and precedence parser evaluates all of them.

WHY the care with numbers, strings and types: what the local run computes goes into the
containers, and a value that differs from the one Terraform would have computed is a silent
divergence between `local up` and a real apply. So the functions and operators implemented here
reproduce Terraform exactly, down to its arithmetic (Go's ``math/big`` floats with the
precisions cty gives them: 512 bits for literals, 64 for ``length()``), its strings (NFC, Go's
one-rune case mapping, grapheme clusters), its JSON (Go's escaping, sorted keys) and its type
conversions and unifications (cty's). What is not reproduced is an ``UnsupportedExpression``
naming the expression, never a different value: splat and ``for`` expressions, template
directives, heredocs, unknown functions, text whose grapheme clusters are not single characters
where a function counts them, infinities, and type unifications beyond the common ones.
``ExpressionError`` itself is what Terraform too would reject (``format("%d", 3.7)``).
tests/localrun/test_expressions_against_terraform.py compares every function and operator here
with ``terraform console``.

Values are plain Python for the callers: str, int/float, bool, None, list, dict. Inside, numbers
are ``Number`` and the typed collections of cty (lists, sets, maps, as opposed to the tuples and
objects that ``[...]`` and ``{...}`` make) are ``CtyList``/``CtySet``/``CtyMap``; what
``evaluate_string`` returns carries them along (numbers as ``int``/``float`` subclasses that
remember their exact value), so a value read back through a reference is the value Terraform
would have. References are resolved by a ``Scope`` given to ``evaluate``: it receives the root
name and the traversal (attribute names and index values) and returns a value.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

from .errors import LocalRunError


class ExpressionError(LocalRunError):
    """An expression that cannot be evaluated, locally or by Terraform; the message names it."""


class UnsupportedExpression(ExpressionError):
    """An expression Terraform may well evaluate but this module does not reproduce exactly.

    ``try()`` and ``can()`` let it through: it says nothing about what Terraform would do."""


class ReferenceFailure(ExpressionError):
    """A reference the scope could not resolve (undeclared, or its own value failed).

    Terraform rejects those before it evaluates anything, so ``try()`` and ``can()`` do not
    catch them either."""


class Scope(Protocol):
    def resolve(self, root: str, traversal: list[str | int]) -> Any:
        """The value of ``root.a.b[0]...``; may consume only a prefix of the traversal and
        return ``(value, consumed)`` via ``Resolved``."""


@dataclass(frozen=True)
class Resolved:
    """What a scope returns: the value and how many traversal steps it used."""

    value: Any
    consumed: int


# ============================================================================================
# Numbers: Go's big.Float as cty uses it
#
# cty keeps every number as a *big.Float. Literals and strings are parsed with 512 bits of
# mantissa, length() and its kind return 64-bit integers, and each operation rounds to the
# larger precision of its operands (to nearest, ties to even). A number becomes text with
# Text('f', -1): the shortest decimal that identifies it at its own precision. Reproducing all
# of that is what makes 1/3, 0.1 + 0.2 and length("a") / length("abc") come out as Terraform
# prints them.

LITERAL_PRECISION = 512  # big.ParseFloat(s, 10, 512, ToNearestEven): literals, strings, JSON
INT_PRECISION = 64  # cty.NumberIntVal: length(), and the like


def _round(q: Fraction, prec: int) -> Fraction:
    """q rounded to prec significant bits, ties to even (big.Float's ToNearestEven)."""
    if q == 0:
        return q
    n, d = abs(q.numerator), q.denominator
    k = n.bit_length() - d.bit_length()
    if (n < (d << k)) if k >= 0 else ((n << -k) < d):
        k -= 1
    e = k - prec + 1  # 2**k <= |q| < 2**(k+1); the result is m * 2**e, m of prec bits
    scaled = Fraction(n << -e, d) if e < 0 else Fraction(n, d << e)
    m = round(scaled)  # Fraction rounds half to even
    r = Fraction(m << e) if e >= 0 else Fraction(m, 1 << -e)
    return r if q > 0 else -r


def _dyadic(q: Fraction) -> tuple[int, int]:
    """(m, e) with |q| == m * 2**e and m odd, for a nonzero binary fraction q."""
    n, d = abs(q.numerator), q.denominator
    e = -(d.bit_length() - 1)
    zeros = (n & -n).bit_length() - 1
    return n >> zeros, e + zeros


def _min_prec(q: Fraction) -> int:
    return 0 if q == 0 else _dyadic(q)[0].bit_length()


def _pow5(n: int, prec: int) -> Fraction:
    """big.Float.pow5 at precision prec: exact up to 5**27, then squared with rounding."""
    if n <= 27:
        return Fraction(5**n)
    z = Fraction(5**27)
    n -= 27
    f = Fraction(5)
    while n > 0:
        if n & 1:
            z = _round(z * f, prec)
        f = _round(f * f, prec + 64)
        n >>= 1
    return z


_DECIMAL = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")


class Number:
    """A Terraform number: the value of a Go big.Float, its precision in bits and its sign
    (which a zero has too: ``0 * -1`` is ``-0`` in Terraform)."""

    __slots__ = ("value", "prec", "negative")

    def __init__(self, value: Fraction, prec: int, negative: bool | None = None):
        self.value = value
        self.prec = prec
        self.negative = value < 0 if negative is None or value != 0 else negative

    @classmethod
    def parse(cls, text: str, prec: int = LITERAL_PRECISION) -> Number | None:
        """big.ParseFloat(text, 10, prec, ToNearestEven) as cty parses literals, strings and
        JSON; None when Terraform would not take the text for a number."""
        match = _DECIMAL.fullmatch(text)
        if match is None or not (match.group(2) or match.group(3)):
            return None
        sign, whole, fraction, exponent = match.groups()
        fraction = fraction or ""
        digits = int((whole or "") + fraction or "0")
        exp10 = int(exponent or 0) - len(fraction)
        negative = sign == "-"
        if digits == 0:
            return cls(Fraction(0), prec, negative)
        if abs(exp10) > 100_000:
            raise UnsupportedExpression(f"the number {text} is too large to reproduce locally")
        if exp10 == 0:
            value = _round(Fraction(digits), prec)
        elif exp10 > 0:
            value = _round(digits * Fraction(2) ** exp10 * _pow5(exp10, prec + 64), prec)
        else:
            value = _round(digits * Fraction(2) ** exp10 / _pow5(-exp10, prec + 64), prec)
        return cls(-value if negative else value, prec, negative)

    @classmethod
    def of_int(cls, value: int, prec: int = INT_PRECISION) -> Number:
        """cty.NumberIntVal: what length() returns."""
        return cls(_round(Fraction(value), prec), prec)

    # -- cty's Value.Add, Subtract, Multiply, Divide, Modulo, Negate over big.Float --------------
    def __neg__(self) -> Number:
        return Number(-self.value, self.prec, not self.negative)

    def add(self, other: Number) -> Number:
        prec = max(self.prec, other.prec)
        if self.value == 0 and other.value == 0:
            return Number(Fraction(0), prec, self.negative and other.negative)
        exact = self.value + other.value
        return Number(_round(exact, prec), prec, False if exact == 0 else None)

    def sub(self, other: Number) -> Number:
        return self.add(-other)

    def mul(self, other: Number) -> Number:
        value = _round(self.value * other.value, LITERAL_PRECISION)
        prec = max(self.prec, other.prec, _min_prec(value))
        return Number(value, prec, self.negative != other.negative)

    def div(self, other: Number) -> Number:
        if other.value == 0:
            if self.value == 0:
                raise ExpressionError("can't divide zero by zero")
            raise UnsupportedExpression("a division by zero is an infinity in Terraform; infinities are not reproduced locally")
        prec = max(self.prec, other.prec)
        return Number(_round(self.value / other.value, prec), prec, self.negative != other.negative)

    def mod(self, other: Number) -> Number:
        """a - b * trunc(a / b), at a's precision; a % 0 is a."""
        if other.value == 0:
            return self
        whole = int(self.div(other).value)  # big.Float.Int truncates toward zero
        prec = self.prec
        work = _round(Fraction(whole), prec)
        product = Number(_round(other.value * work, prec), prec, other.negative != (work < 0))
        if self.value == 0 and product.value == 0:
            return Number(Fraction(0), prec, self.negative and not product.negative)
        exact = self.value - product.value
        return Number(_round(exact, prec), prec, False if exact == 0 else None)

    def compare(self, other: Number) -> int:
        return (self.value > other.value) - (self.value < other.value)

    def is_integer(self) -> bool:
        return self.value.denominator == 1

    def text(self) -> str:
        """big.Float.Text('f', -1): a number as cty makes it a string and writes it in JSON."""
        return _float_text(self, "f", -1)

    def __repr__(self) -> str:
        return f"Number({self.text()}, prec={self.prec})"


class _Decimal:
    """Go's math/big decimal: the exact digits of a binary fraction, 0.mant * 10**exp."""

    __slots__ = ("mant", "exp")

    def __init__(self, value: Fraction):
        if value == 0:
            self.mant, self.exp = "", 0
            return
        m, e = _dyadic(value)
        digits, point = (str(m << e), 0) if e >= 0 else (str(m * 5**-e), -e)
        self.exp = len(digits) - point
        self.mant = digits.rstrip("0")

    def at(self, i: int) -> str:
        return self.mant[i] if 0 <= i < len(self.mant) else "0"

    def round(self, n: int) -> None:
        if n < 0 or n >= len(self.mant):
            return
        if self.mant[n] == "5" and n + 1 == len(self.mant):
            up = n > 0 and int(self.mant[n - 1]) % 2 == 1  # exactly halfway: to even
        else:
            up = self.mant[n] >= "5"
        self.round_up(n) if up else self.round_down(n)

    def round_up(self, n: int) -> None:
        if n < 0 or n >= len(self.mant):
            return
        while n > 0 and self.mant[n - 1] >= "9":
            n -= 1
        if n == 0:
            self.mant, self.exp = "1", self.exp + 1
            return
        self.mant = self.mant[: n - 1] + chr(ord(self.mant[n - 1]) + 1)

    def round_down(self, n: int) -> None:
        if n < 0 or n >= len(self.mant):
            return
        self.mant = self.mant[:n].rstrip("0")
        if not self.mant:
            self.exp = 0


def _round_shortest(d: _Decimal, x: Number) -> None:
    """Go's roundShortest: the fewest digits that still identify x at x's precision."""
    if not d.mant:
        return
    m, e = _dyadic(x.value)
    mant = m << (x.prec + 1 - m.bit_length())  # x.prec + 1 bits: the last one is half an ulp
    exp = m.bit_length() + e - x.prec - 1
    lower = _Decimal(Fraction(mant - 1) * Fraction(2) ** exp)
    upper = _Decimal(Fraction(mant + 1) * Fraction(2) ** exp)
    inclusive = mant & 2 == 0
    for i, digit in enumerate(d.mant):
        low, high = lower.at(i), upper.at(i)
        ok_down = low != digit or (inclusive and i + 1 == len(lower.mant))
        ok_up = digit != high and (inclusive or chr(ord(digit) + 1) < high or i + 1 < len(upper.mant))
        if ok_down and ok_up:
            d.round(i + 1)
            return
        if ok_down:
            d.round_down(i + 1)
            return
        if ok_up:
            d.round_up(i + 1)
            return


def _float_text(x: Number, fmt: str, prec: int) -> str:
    """big.Float.Text for 'e', 'E', 'f', 'g', 'G'; prec < 0 is the shortest form."""
    sign = "-" if x.negative else ""
    d = _Decimal(x.value)
    shortest = prec < 0
    if shortest:
        _round_shortest(d, x)
        prec = {"e": len(d.mant) - 1, "E": len(d.mant) - 1, "f": max(len(d.mant) - d.exp, 0)}.get(fmt, len(d.mant))
    elif fmt in "eE":
        d.round(1 + prec)
    elif fmt == "f":
        d.round(d.exp + prec)
    else:
        prec = prec or 1
        d.round(prec)
    if fmt in "eE":
        return sign + _text_e(fmt, prec, d)
    if fmt == "f":
        return sign + _text_f(prec, d)
    eprec = len(d.mant) if prec > len(d.mant) and len(d.mant) >= d.exp else prec
    if shortest:
        eprec = 6
    exp = d.exp - 1
    if exp < -4 or exp >= eprec:
        return sign + _text_e("e" if fmt == "g" else "E", min(prec, len(d.mant)) - 1, d)
    if prec > d.exp:
        prec = len(d.mant)
    return sign + _text_f(max(prec - d.exp, 0), d)


def _text_e(fmt: str, prec: int, d: _Decimal) -> str:
    out = d.mant[0] if d.mant else "0"
    if prec > 0:
        out += "." + d.mant[1 : prec + 1] + "0" * max(0, prec + 1 - max(len(d.mant), 1))
    exp = d.exp - 1 if d.mant else 0
    return f"{out}{fmt}{'-' if exp < 0 else '+'}{abs(exp):02d}"


def _text_f(prec: int, d: _Decimal) -> str:
    if d.exp > 0:
        m = min(len(d.mant), d.exp)
        out = d.mant[:m] + "0" * (d.exp - m)
    else:
        out = "0"
    if prec > 0:
        out += "." + "".join(d.at(d.exp + i) for i in range(prec))
    return out


# -- numbers at the boundary: Python ints and floats in, and back out -------------------------
class TerraformInt(int):
    """An integer result; ``terraform_number`` is its exact Terraform value."""

    terraform_number: Number


class TerraformFloat(float):
    """A non-integer (or negative-zero) result; ``terraform_number`` is its exact value."""

    terraform_number: Number


def _number_from_python(value: int | float) -> Number:
    carried = getattr(value, "terraform_number", None)
    if isinstance(carried, Number):
        return carried
    if isinstance(value, int):
        return Number(_round(Fraction(value), LITERAL_PRECISION), LITERAL_PRECISION)
    if value != value or value in (float("inf"), float("-inf")):
        raise UnsupportedExpression(f"the number {value} has no Terraform equivalent")
    return Number.parse(repr(value)) or Number(Fraction(0), LITERAL_PRECISION)  # as JSON text was parsed


def _number_to_python(number: Number) -> int | float:
    if number.is_integer() and not (number.value == 0 and number.negative):
        out: int | float = TerraformInt(int(number.value))
    else:
        out = TerraformFloat(float(number.value) if number.value else -0.0)
    out.terraform_number = number  # type: ignore[union-attr]
    return out


# ============================================================================================
# Strings: NFC, Go's case mapping, grapheme clusters

def _nfc(text: str) -> str:
    """cty.StringVal: every Terraform string is NFC-normalized."""
    if text.isascii():
        return text
    if any(unicodedata.category(c) == "Cn" for c in text):
        raise UnsupportedExpression(
            f"{text!r} holds characters unassigned in this Python's Unicode "
            f"{unicodedata.unidata_version}; Terraform's Unicode tables may differ"
        )
    return unicodedata.normalize("NFC", text)


#: Characters that join a grapheme cluster with a neighbour (UAX #29) although their general
#: category is not a mark or a format character.
_CLUSTER_JOINERS = re.compile(
    "[\u0d4e\u0e33\u0eb3\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff\uff9e\uff9f"
    "\U000111c2\U000111c3\U0001193f\U00011941\U00011a3a\U00011a84-\U00011a89\U00011d46\U00011f02"
    "\U0001f1e6-\U0001f1ff\U0001f3fb-\U0001f3ff]|\r\n"
)


def _single_char_clusters(text: str) -> bool:
    """Whether each character of text is a grapheme cluster of its own, as Terraform counts."""
    if text.isascii():
        return "\r\n" not in text
    return not _CLUSTER_JOINERS.search(text) and not any(
        unicodedata.category(c)[0] == "M" or unicodedata.category(c) in ("Cf", "Cs", "Cn") for c in text
    )


def _graphemes(text: str, what: str) -> str:
    if not _single_char_clusters(text):
        raise UnsupportedExpression(
            f"{what} counts grapheme clusters, and {text!r} has clusters of several characters (not reproduced locally)"
        )
    return text


def _go_upper(c: str) -> str:
    """unicode.ToUpper: the one-rune (simple) mapping, not Python's full one (ß stays ß)."""
    upper = c.upper()
    if len(upper) == 1:
        return upper
    title = c.title()
    return title if len(title) == 1 else c


def _go_lower(c: str) -> str:
    lower = c.lower()
    if len(lower) == 1:
        return lower
    return "i" if c == "\u0130" else c


def _go_title_rune(c: str) -> str:
    title = c.title()
    return title if len(title) == 1 else c


_GO_SPACE = set("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {chr(c) for c in range(0x2000, 0x200B)}


def _go_is_separator(c: str) -> bool:
    """strings.Title's word boundary."""
    if c <= "\x7f":
        return not (c.isascii() and (c.isalnum() or c == "_"))
    category = unicodedata.category(c)
    if category[0] == "L" or category == "Nd":
        return False
    return c in _GO_SPACE


def _go_title(text: str) -> str:
    out, previous = [], " "
    for c in text:
        out.append(_go_title_rune(c) if _go_is_separator(previous) else c)
        previous = c
    return "".join(out)


# ============================================================================================
# Types: the tuples and objects of [...] and {...}, and cty's lists, sets and maps

class CtyList(list):
    """A Terraform list (tolist(), split(), keys() of a map...), as opposed to a tuple."""

    def __init__(self, items: Sequence[Any] = (), element_type: Any = "dynamic"):
        super().__init__(items)
        self.element_type = element_type


class CtySet(list):
    """A Terraform set: no duplicates, in cty's order."""

    def __init__(self, items: Sequence[Any] = (), element_type: Any = "dynamic"):
        super().__init__(items)
        self.element_type = element_type


class CtyMap(dict):
    """A Terraform map, as opposed to an object."""

    def __init__(self, items: Any = (), element_type: Any = "dynamic"):
        super().__init__(items)
        self.element_type = element_type


PRIMITIVES = ("string", "number", "bool")


def type_of(value: Any) -> Any:
    """The cty type of a value: "string", "number", "bool", "dynamic" (an untyped null),
    ("list"|"set"|"map", element type), ("tuple", element types), ("object", ((name, type), ...))."""
    if value is None:
        return "dynamic"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Number):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, CtyList):
        return ("list", value.element_type)
    if isinstance(value, CtySet):
        return ("set", value.element_type)
    if isinstance(value, CtyMap):
        return ("map", value.element_type)
    if isinstance(value, list):
        return ("tuple", tuple(type_of(v) for v in value))
    if isinstance(value, dict):
        return ("object", tuple(sorted((k, type_of(v)) for k, v in value.items())))
    raise UnsupportedExpression(f"a {type(value).__name__} value has no Terraform type")


def _friendly(t: Any) -> str:
    return t if isinstance(t, str) else t[0]


class _NoUnification(Exception):
    """No type the given ones all convert to (Terraform's NilType)."""


def unify(types: Sequence[Any]) -> Any:
    """cty's convert.UnifyUnsafe for the kinds it is reproduced for; raises _NoUnification
    where Terraform finds no common type and UnsupportedExpression where this is not known."""
    distinct = list(dict.fromkeys(types))
    if len(distinct) == 1:
        return distinct[0]
    known = [t for t in distinct if t != "dynamic"]
    if len(known) == len(distinct):
        return _unify_known(known)
    if not known:
        return "dynamic"
    # With a null (or an unknown) among them, Terraform leaves collections as they are and
    # falls back to no conversion at all where the others have no common type.
    if any(isinstance(t, tuple) for t in known):
        return "dynamic"
    try:
        return _unify_known(known)
    except _NoUnification:
        return "dynamic"


def _unify_known(known: list[Any]) -> Any:
    if len(known) == 1:
        return known[0]
    if all(t in PRIMITIVES for t in known):
        if "string" in known:
            return "string"
        raise _NoUnification()
    kinds = {t[0] if isinstance(t, tuple) else t for t in known}
    if kinds & set(PRIMITIVES) or {"object", "tuple"} <= kinds:
        raise _NoUnification()  # a primitive and a collection, an object and a tuple: never
    if kinds <= {"list"} or kinds <= {"set"} or kinds <= {"map"}:
        return (known[0][0], _element_unify([t[1] for t in known]))
    if kinds <= {"tuple"}:
        lengths = {len(t[1]) for t in known}
        if len(lengths) == 1:
            return ("tuple", tuple(unify(column) for column in zip(*(t[1] for t in known))))
        elements = [e for t in known for e in t[1]]
        return ("list", _element_unify(elements, from_tuples=True) if elements else "dynamic")
    if kinds <= {"object"}:
        names = {tuple(name for name, _ in t[1]) for t in known}
        if len(names) == 1:
            columns = zip(*([a for _, a in t[1]] for t in known))
            return ("object", tuple(zip(next(iter(names)), (unify(list(c)) for c in columns))))
        return ("map", _element_unify([a for t in known for _, a in t[1]]))
    if kinds <= {"object", "map"}:
        try:
            return ("map", _element_unify([a for t in known for a in ([x for _, x in t[1]] if t[0] == "object" else [t[1]])]))
        except _NoUnification:
            pass  # Terraform then looks further, and this does not follow it
    raise UnsupportedExpression(
        f"unifying {' and '.join(sorted(_friendly(t) for t in known))} types is not reproduced locally"
    )


def _element_unify(types: list[Any], *, from_tuples: bool = False) -> Any:
    """The element type of a collection unified from the given types. Where nulls leave it
    open, Terraform's conversions are followed only for tuples of primitives made a list."""
    element = unify(types)
    if element == "dynamic" and any(t != "dynamic" and (isinstance(t, tuple) or not from_tuples) for t in types):
        raise UnsupportedExpression("a collection type unified from nulls and other values is not reproduced locally")
    return element


def convert(value: Any, target: Any) -> Any:
    """cty's convert.Convert for the types unify() produces and the functions' parameters;
    raises ExpressionError where Terraform's conversion fails."""
    if target == "dynamic" or value is None:
        return value
    current = type_of(value)
    if current == target:
        return value
    if target == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, Number):
            return value.text()
        raise ExpressionError(f"a string is required, got a {_friendly(current)}")
    if target == "number":
        if isinstance(value, str):
            number = Number.parse(value)
            if number is None:
                raise ExpressionError(f"a number is required, got {value!r}")
            return number
        raise ExpressionError(f"a number is required, got a {_friendly(current)}")
    if target == "bool":
        if value in ("true", "false", "1", "0"):
            return value in ("true", "1")
        raise ExpressionError(f"a bool is required, got {value!r}" if isinstance(value, str) else f"a bool is required, got a {_friendly(current)}")
    kind = target[0]
    if kind in ("list", "set"):
        if not isinstance(value, list):
            raise ExpressionError(f"a {kind} is required, got a {_friendly(current)}")
        element_type = target[1]
        if element_type == "dynamic" and isinstance(value, (CtyList, CtySet)):
            element_type = value.element_type
        elif element_type == "dynamic":
            try:
                element_type = unify([type_of(v) for v in value]) if value else "dynamic"
            except _NoUnification:
                raise ExpressionError(f"all elements of a {kind} must have the same type") from None
            if element_type == "dynamic" and any(v is not None for v in value):
                raise ExpressionError(f"cannot convert a {_friendly(current)} of nulls and collections to a {kind}")
        items = [convert(v, element_type) for v in value]
        return CtyList(items, element_type) if kind == "list" else _make_set(items, element_type)
    if kind == "map":
        if not isinstance(value, dict):
            raise ExpressionError(f"a map is required, got a {_friendly(current)}")
        element_type = target[1]
        if element_type == "dynamic" and isinstance(value, CtyMap):
            element_type = value.element_type
        elif element_type == "dynamic":
            try:
                element_type = unify([type_of(v) for v in value.values()]) if value else "dynamic"
            except _NoUnification:
                raise ExpressionError("all elements of a map must have the same type") from None
            if element_type == "dynamic" and any(v is not None for v in value.values()):
                raise UnsupportedExpression(f"converting an {_friendly(current)} of nulls and collections to a map is not reproduced locally")
        return CtyMap({k: convert(v, element_type) for k, v in value.items()}, element_type)
    if kind == "tuple":
        if not isinstance(value, list) or isinstance(value, CtySet) or len(value) != len(target[1]):
            raise UnsupportedExpression(f"converting a {_friendly(current)} to a tuple type is not reproduced locally")
        return [convert(v, t) for v, t in zip(value, target[1])]
    if kind == "object":
        names = [name for name, _ in target[1]]
        if not isinstance(value, dict) or sorted(value) != names:
            raise UnsupportedExpression(f"converting a {_friendly(current)} to an object type is not reproduced locally")
        return {name: convert(value[name], t) for name, t in target[1]}
    raise UnsupportedExpression(f"converting to {target!r} is not reproduced locally")


def _make_set(items: list[Any], element_type: Any) -> CtySet:
    """A cty set: duplicates dropped, strings and numbers in order, null last."""
    unique: list[Any] = []
    for item in items:  # numbers by their text: -0 and 0 are two elements of a set
        if not any(item.text() == seen.text() if isinstance(item, Number) and isinstance(seen, Number)
                   else equal(item, seen) for seen in unique):
            unique.append(item)
    if element_type not in PRIMITIVES + ("dynamic",) and len(unique) > 1:
        raise UnsupportedExpression("the order of a set of collections is not reproduced locally")
    present = [i for i in unique if i is not None]
    if element_type == "number":
        present.sort(key=lambda n: (n.value, not n.negative))
    elif element_type in ("bool", "string"):
        present.sort()  # false before true; strings by code point, as Go compares them
    elif len(present) > 1:
        raise UnsupportedExpression("the order of a set of mixed values is not reproduced locally")
    return CtySet(present + [None] * (len(unique) - len(present)), element_type)


def equal(left: Any, right: Any) -> bool:
    """cty's Equals: nulls are equal to each other, other values only at the same type."""
    if left is None or right is None:
        return left is None and right is None
    if type_of(left) != type_of(right):
        return False
    if isinstance(left, Number):
        return _number_key(left) == _number_key(right)
    if isinstance(left, list):
        return len(left) == len(right) and all(equal(a, b) for a, b in zip(left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(equal(left[k], right[k]) for k in left)
    return left == right


def _number_key(number: Number) -> str:
    """cty compares numbers by their text (so a 64-bit and a 512-bit third differ); -0 is 0."""
    text = number.text()
    return "0" if text == "-0" else text


# ============================================================================================
# Values in and out

def import_value(value: Any) -> Any:
    """A Python value from a scope as Terraform holds it: numbers exact, strings NFC."""
    if value is None or isinstance(value, (bool, Number)):
        return value
    if isinstance(value, (int, float)):
        return _number_from_python(value)
    if isinstance(value, str):
        return _nfc(value)
    if isinstance(value, (CtyList, CtySet)):
        return type(value)([import_value(v) for v in value], value.element_type)
    if isinstance(value, CtyMap):
        return CtyMap({_nfc(str(k)): import_value(v) for k, v in value.items()}, value.element_type)
    if isinstance(value, (list, tuple)):
        return [import_value(v) for v in value]
    if isinstance(value, dict):
        return {_nfc(str(k)): import_value(v) for k, v in value.items()}
    raise UnsupportedExpression(f"a {type(value).__name__} value has no Terraform equivalent")


def export_value(value: Any) -> Any:
    """A value for the callers: numbers as int/float (subclasses that keep the exact value)."""
    if isinstance(value, Number):
        return _number_to_python(value)
    if isinstance(value, (CtyList, CtySet)):
        return type(value)([export_value(v) for v in value], value.element_type)
    if isinstance(value, CtyMap):
        return CtyMap({k: export_value(v) for k, v in value.items()}, value.element_type)
    if isinstance(value, list):
        return [export_value(v) for v in value]
    if isinstance(value, dict):
        return {k: export_value(v) for k, v in value.items()}
    return value


# ============================================================================================
# JSON as cty writes it (Go's encoding/json) and reads it

def _json_string(text: str) -> str:
    out = ['"']
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif c in "<>&" or c in "\u2028\u2029" or (c < " " and c not in "\b\f\n\r\t"):
            out.append(f"\\u{ord(c):04x}")
        elif c < " ":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[c])
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def json_encode(value: Any) -> str:
    """cty's json.Marshal: sorted keys, no spaces, <, > and & escaped, numbers exact."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Number):
        return value.text()
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, list):
        return "[" + ",".join(json_encode(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_json_string(k)}:{json_encode(value[k])}" for k in sorted(value)) + "}"
    raise UnsupportedExpression(f"a {type(value).__name__} cannot be written as JSON")


def _json_number(text: str) -> Number:
    number = Number.parse(text)
    if number is None:  # pragma: no cover - the JSON decoder only passes numbers here
        raise ExpressionError(f"invalid JSON number {text}")
    return number


def _json_constant(text: str) -> Any:
    raise ExpressionError(f"invalid JSON: {text} is not a JSON value")


_SURROGATES = re.compile("[\ud800-\udfff]")


def json_decode(text: str) -> Any:
    """cty's json.Unmarshal with its implied types: objects, tuples, 512-bit numbers."""
    try:
        value = json.loads(text, parse_float=_json_number, parse_int=_json_number, parse_constant=_json_constant)
    except ValueError as error:
        raise ExpressionError(f"invalid JSON: {error}") from None

    def clean(v: Any) -> Any:
        if isinstance(v, str):
            return _nfc(_SURROGATES.sub("\ufffd", v))  # Go's decoder replaces lone surrogates
        if isinstance(v, list):
            return [clean(x) for x in v]
        if isinstance(v, dict):
            return {clean(k): clean(x) for k, x in v.items()}
        return v

    return clean(value)


# ============================================================================================
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
        if (text.startswith("$${", i) or text.startswith("%%{", i)) and not depth:
            i += 3
            continue
        if text.startswith("${", i) or text.startswith("%{", i):
            depth += 1
            i += 2
            continue
        if ch == '"' and depth:
            _, i = _read_string(text, i + 1)
            continue
        if ch == "{" and depth:
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        elif ch == '"' and not depth:
            return text[start:i], i + 1
        i += 1
    raise ExpressionError(f"unterminated string in {text!r}")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        if text.startswith(("#", "//", "/*"), i):
            raise UnsupportedExpression(f"comments in expressions are not supported locally: {text!r}")
        match = _TOKEN.match(text, i)
        if match is None:
            raise UnsupportedExpression(f"unexpected {text[i]!r} at {i} in {text!r}")
        kind = match.lastgroup
        if kind == "space":
            i = match.end()
            continue
        if kind == "string":
            raw, i = _read_string(text, match.end())
            tokens.append(Token("string", raw, match.start()))
            continue
        if kind == "heredoc":
            raise UnsupportedExpression(f"heredoc strings are not supported locally: {text!r}")
        value: Any = match.group()
        if kind == "number":
            value = Number.parse(value)
        tokens.append(Token(kind, value, match.start()))
        i = match.end()
    tokens.append(Token("end", None, len(text)))
    return tokens


# ============================================================================================
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
            if isinstance(part, str):
                out.append(part)
                continue
            value = part.evaluate(context)
            if value is None:
                raise ExpressionError(f"a null value cannot be interpolated into a string (in {context.text!r})")
            try:
                out.append(convert(value, "string"))
            except ExpressionError:
                raise ExpressionError(
                    f"a {_friendly(type_of(value))} cannot be interpolated into a string (in {context.text!r})"
                ) from None
        return _nfc("".join(out))


@dataclass(frozen=True)
class Reference(Node):
    root: str
    steps: tuple[Node | str, ...]  # str: attribute name; Node: index expression

    def evaluate(self, context: Context) -> Any:
        traversal = [step if isinstance(step, str) else _Index(step.evaluate(context)) for step in self.steps]
        try:
            resolved = context.scope.resolve(self.root, [_scope_key(step) for step in traversal])
        except (UnsupportedExpression, ReferenceFailure):
            raise
        except ExpressionError as error:
            raise ReferenceFailure(str(error)) from None
        if not isinstance(resolved, Resolved):
            resolved = Resolved(resolved, len(traversal))
        # A nested block is an object in the JSON of a resource but a list in its provider's
        # schema (metadata[0].name): references into resources and data sources allow both.
        lenient = self.root not in ("var", "local")
        return traverse(import_value(resolved.value), traversal[resolved.consumed:], context.text, lenient=lenient)


@dataclass(frozen=True)
class Postfix(Node):
    """``(expr).attr`` or ``(expr)[i]`` on something that is not a plain reference."""

    target: Node
    steps: tuple[Node | str, ...]

    def evaluate(self, context: Context) -> Any:
        value = self.target.evaluate(context)
        traversal = [s if isinstance(s, str) else _Index(s.evaluate(context)) for s in self.steps]
        return traverse(value, traversal, context.text)


def _scope_key(step: Any) -> Any:
    """A traversal step as a scope receives it: a name, or an index as int or str."""
    if isinstance(step, _Index):
        value = step.value
        if isinstance(value, Number) and value.is_integer():
            return int(value.value)
        return value
    return step


@dataclass(frozen=True)
class _Index:
    """An index step (``[expr]``, ``.0``) of a traversal, as opposed to an attribute name."""

    value: Any


@dataclass(frozen=True)
class Call(Node):
    name: str
    arguments: tuple[Node, ...]
    expand_last: bool = False

    def evaluate(self, context: Context) -> Any:
        if self.name in ("try", "can"):
            return self._guarded(context)
        spec = FUNCTIONS.get(self.name)
        if spec is None:
            raise UnsupportedExpression(
                f"function {self.name}() is not supported locally (in {context.text!r}); "
                f"supported: {', '.join(sorted([*FUNCTIONS, *SPECIAL_FUNCTIONS]))}"
            )
        values = [argument.evaluate(context) for argument in self.arguments]
        if self.expand_last:
            last = values.pop() if values else None
            if not isinstance(last, list):
                raise ExpressionError(f"{self.name}(): the argument expanded with ... must be a list, set or tuple (in {context.text!r})")
            values.extend(last)
        return spec.call(self.name, values, context.text)

    def _guarded(self, context: Context) -> Any:
        """try() and can() evaluate lazily: an argument that fails is skipped, not raised;
        one this module cannot evaluate is raised (Terraform might have succeeded), and so is
        a reference that does not resolve (Terraform rejects it outright)."""
        if self.expand_last or (self.name == "can" and len(self.arguments) != 1) or not self.arguments:
            raise ExpressionError(
                f"{self.name}() takes {'one argument' if self.name == 'can' else 'at least one argument'}, "
                f"without ... (in {context.text!r})"
            )
        for argument in self.arguments:
            try:
                value = argument.evaluate(context)
            except (UnsupportedExpression, ReferenceFailure):
                raise
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
        value = _operand(self.operand.evaluate(context), "bool" if self.operator == "!" else "number", self.operator, context)
        return (not value) if self.operator == "!" else -value


def _operand(value: Any, kind: str, operator: str, context: Context) -> Any:
    if value is None:
        raise ExpressionError(f"operator {operator}: a null value is not a {kind} (in {context.text!r})")
    try:
        return convert(value, kind)
    except ExpressionError as error:
        raise ExpressionError(f"operator {operator}: {error} (in {context.text!r})") from None


@dataclass(frozen=True)
class Binary(Node):
    operator: str
    left: Node
    right: Node

    def evaluate(self, context: Context) -> Any:
        op = self.operator
        left, right = self.left.evaluate(context), self.right.evaluate(context)  # no short-circuit in HCL
        if op in ("&&", "||"):
            a, b = _operand(left, "bool", op, context), _operand(right, "bool", op, context)
            return (a and b) if op == "&&" else (a or b)
        if op == "==":
            return equal(left, right)
        if op == "!=":
            return not equal(left, right)
        a, b = _operand(left, "number", op, context), _operand(right, "number", op, context)
        if op in ("<", ">", "<=", ">="):
            c = a.compare(b)
            return {"<": c < 0, ">": c > 0, "<=": c <= 0, ">=": c >= 0}[op]
        try:
            return {"+": a.add, "-": a.sub, "*": a.mul, "/": a.div, "%": a.mod}[op](b)
        except UnsupportedExpression as error:
            raise UnsupportedExpression(f"{error} (in {context.text!r})") from None
        except ExpressionError as error:
            raise ExpressionError(f"operator {op}: {error} (in {context.text!r})") from None


@dataclass(frozen=True)
class Conditional(Node):
    condition: Node
    then: Node
    otherwise: Node

    def evaluate(self, context: Context) -> Any:
        condition = _operand(self.condition.evaluate(context), "bool", "?:", context)
        chosen, other = (self.then, self.otherwise) if condition else (self.otherwise, self.then)
        value = chosen.evaluate(context)
        try:
            other_type = _branch_type(other, context)  # its type counts, its errors do not
        except ReferenceFailure:
            raise  # an undeclared reference is an error wherever it is
        except UnsupportedExpression:
            raise UnsupportedExpression(
                f"the result type of a conditional depends on a branch not evaluated locally (in {context.text!r})"
            ) from None
        if value is None or other_type == "dynamic":
            return value  # an untyped null, or a failed call or reference: no unification
        try:
            result_type = unify([type_of(value), other_type])
        except _NoUnification:
            raise ExpressionError(
                f"inconsistent conditional result types: {_friendly(type_of(value))} and "
                f"{_friendly(other_type)} (in {context.text!r})"
            ) from None
        except UnsupportedExpression as error:
            raise UnsupportedExpression(f"{error} (in {context.text!r})") from None
        return convert(value, result_type)


_BOOL_OPERATORS = ("==", "!=", "<", ">", "<=", ">=", "&&", "||")


def _branch_type(node: Node, context: Context) -> Any:
    """The type of the conditional's other branch, as Terraform unifies it: a part that fails
    is an unknown value, of the type Terraform gives it (a failed call or reference: any type;
    an operator: its result type; a template: string; a tuple or an object keeps its shape)."""
    try:
        return type_of(node.evaluate(context))
    except (UnsupportedExpression, ReferenceFailure):
        raise
    except ExpressionError:
        pass
    if isinstance(node, Binary):
        return "bool" if node.operator in _BOOL_OPERATORS else "number"
    if isinstance(node, Unary):
        return "bool" if node.operator == "!" else "number"
    if isinstance(node, TemplateNode):
        only = node.parts[0] if len(node.parts) == 1 else None
        return _branch_type(only, context) if isinstance(only, Node) else "string"
    if isinstance(node, ListNode):
        return ("tuple", tuple(_branch_type(item, context) for item in node.items))
    if isinstance(node, ObjectNode):
        attributes = {}
        for key_node, value_node in node.items:
            try:
                key = key_node.evaluate(context)
                key = None if key is None else convert(key, "string")
            except (UnsupportedExpression, ReferenceFailure):
                raise
            except ExpressionError:
                return "dynamic"
            if key is None:
                return "dynamic"
            attributes[key] = _branch_type(value_node, context)
        return ("object", tuple(sorted(attributes.items())))
    if isinstance(node, Conditional):  # an unknown of the unified type of its branches
        then, otherwise = _branch_type(node.then, context), _branch_type(node.otherwise, context)
        if "dynamic" in (then, otherwise):
            return "dynamic"
        try:
            return unify([then, otherwise])
        except _NoUnification:
            return "dynamic"
    return "dynamic"  # a call, a reference, an index: Terraform's unknown of any type


@dataclass(frozen=True)
class ListNode(Node):
    items: tuple[Node, ...]

    def evaluate(self, context: Context) -> Any:
        return [item.evaluate(context) for item in self.items]


@dataclass(frozen=True)
class ObjectNode(Node):
    items: tuple[tuple[Node, Node], ...]

    def evaluate(self, context: Context) -> Any:
        out = {}
        for key_node, value_node in self.items:
            key = key_node.evaluate(context)
            if key is None:
                raise ExpressionError(f"an object key cannot be null (in {context.text!r})")
            try:
                key = convert(key, "string")
            except ExpressionError:
                raise ExpressionError(f"an object key must be a string (in {context.text!r})") from None
            out[key] = value_node.evaluate(context)
        return out


# ============================================================================================
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
            raise ExpressionError(f"unexpected {self._show(self.peek())} at {self.peek().position} in {self.text!r}")
        return node

    @staticmethod
    def _show(token: Token) -> str:
        return repr(token.value.text() if isinstance(token.value, Number) else token.value)

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
                elif token.kind == "number" and token.value.is_integer() and token.value.value >= 0:
                    steps.append(Literal(token.value))
                elif token.kind == "op" and token.value == "*":
                    raise UnsupportedExpression(f"splat expressions are not supported locally: {self.text!r}")
                else:
                    raise ExpressionError(f"bad attribute at {token.position} in {self.text!r}")
            elif self.peek().kind == "op" and self.peek().value == "[":
                if self.peek(1).kind == "op" and self.peek(1).value == "*":
                    raise UnsupportedExpression(f"splat expressions are not supported locally: {self.text!r}")
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
            return parse_template(_unescape_quoted(token.value, self.text))
        if token.kind == "ident":
            if token.value in ("true", "false"):
                return Literal(token.value == "true")
            if token.value == "null":
                return Literal(None)
            if token.value == "for":
                raise UnsupportedExpression(f"for expressions are not supported locally: {self.text!r}")
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
                    raise UnsupportedExpression(f"for expressions are not supported locally: {self.text!r}")
                items = []
                while not self.accept("]"):
                    items.append(self.expression())
                    if not self.accept(","):
                        self.expect("]")
                        break
                return ListNode(tuple(items))
            if token.value == "{":
                if self.peek().kind == "ident" and self.peek().value == "for":
                    raise UnsupportedExpression(f"for expressions are not supported locally: {self.text!r}")
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
        raise ExpressionError(f"unexpected {self._show(token)} at {token.position} in {self.text!r}")

    def call(self, name: str) -> Node:
        arguments: list[Node] = []
        expand = False
        while not self.accept(")"):
            if expand:
                raise ExpressionError(f"... must be on the last argument of {name}() in {self.text!r}")
            arguments.append(self.expression())
            if self.accept("..."):
                expand = True
            if not self.accept(","):
                self.expect(")")
                break
        return Call(name, tuple(arguments), expand)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unescape_quoted(raw: str, where: str) -> str:
    """Backslash escapes of a quoted HCL string; ``${``/``%{`` stay for the template parser.
    Escapes only apply to the literal parts, not inside interpolations."""
    out = []
    i = 0
    depth = 0
    while i < len(raw):
        ch = raw[i]
        if depth == 0 and (raw.startswith("$${", i) or raw.startswith("%%{", i)):
            out.append(raw[i : i + 3])
            i += 3
            continue
        if raw.startswith("${", i) or raw.startswith("%{", i):
            end = _interpolation_end(raw, i + 2)
            out.append(raw[i : end + 1])
            i = end + 1
            continue
        if ch == "\\":
            nxt = raw[i + 1 : i + 2]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            width = {"u": 4, "U": 8}.get(nxt)
            digits = raw[i + 2 : i + 2 + width] if width else ""
            if width and re.fullmatch(r"[0-9A-Fa-f]+", digits) and len(digits) == width:
                code = int(digits, 16)
                if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
                    raise ExpressionError(f"invalid escape sequence \\{nxt}{digits} in {where!r}")
                out.append(chr(code))
                i += 2 + width
                continue
            raise ExpressionError(f"invalid escape sequence \\{nxt} in {where!r}")
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
_STRIPPED = re.compile(r"[\s\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")


def parse_template(text: str) -> TemplateNode:
    """A JSON string value of a synthesized stack, as Terraform reads it."""
    cached = _TEMPLATE_CACHE.get(text)
    if cached is not None:
        return cached
    parts: list[str | Node] = []
    literal: list[str] = []
    strip_next = False
    i = 0
    while i < len(text):
        if text.startswith("$${", i) or text.startswith("%%{", i):
            literal.append(text[i + 1 : i + 3])
            i += 3
            continue
        if text.startswith("%{", i):
            raise UnsupportedExpression(f"template directives (%{{...}}) are not supported locally: {text!r}")
        if text.startswith("${", i):
            start = i + 2
            chunk = "".join(literal)
            if text.startswith("~", start):
                start += 1
                chunk = _rstrip_space(chunk)
            if strip_next:
                chunk = _lstrip_space(chunk)
            if chunk:
                parts.append(chunk)
            literal = []
            end = _interpolation_end(text, start)
            inner = text[start:end]
            strip_next = inner.endswith("~")
            if strip_next:
                inner = inner[:-1]
            parts.append(_Parser(inner).parse())
            i = end + 1
            continue
        literal.append(text[i])
        i += 1
    chunk = "".join(literal)
    if strip_next:
        chunk = _lstrip_space(chunk)
    if chunk or not parts:
        parts.append(chunk)
    template = TemplateNode(tuple(_nfc(p) if isinstance(p, str) else p for p in parts))
    _TEMPLATE_CACHE[text] = template
    return template


def _lstrip_space(text: str) -> str:
    match = _STRIPPED.match(text)
    return text[match.end():] if match else text


def _rstrip_space(text: str) -> str:
    i = len(text)
    while i > 0 and _STRIPPED.fullmatch(text[i - 1]):
        i -= 1
    return text[:i]


# ============================================================================================
# Evaluation
@dataclass
class Context:
    scope: Scope
    text: str


def has_interpolation(text: str) -> bool:
    return "${" in text or "%{" in text


def evaluate_string(text: str, scope: Scope) -> Any:
    """The value of one JSON string of the stack (``"${...}"`` alone keeps its type).

    Every ExpressionError raised from here names ``text``."""
    if not has_interpolation(text):
        return _nfc(text)
    try:
        return export_value(parse_template(text).evaluate(Context(scope, text)))
    except ExpressionError as error:
        if repr(text) in str(error):
            raise
        raise type(error)(f"{error} (in {text!r})") from None


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


def traverse(value: Any, traversal: Sequence[Any], where: str, *, lenient: bool = False) -> Any:
    """Apply attribute (str) and index steps the way Terraform does. ``lenient`` also lets a
    nested block, an object in the JSON of a resource but a list in its provider's schema, be
    read either way: ``metadata[0].name`` and ``metadata.name``."""
    for step in traversal:
        key = step.value if isinstance(step, _Index) else step
        if value is None:
            raise ExpressionError(f"{where}: cannot read {_show_key(key)} from a null value")
        if isinstance(value, dict):
            if lenient and isinstance(key, (int, Number)) and _is_zero(key) and "0" not in value:
                continue
            try:
                name = key if isinstance(key, str) and not isinstance(step, _Index) else convert(key, "string")
            except ExpressionError:
                raise ExpressionError(f"{where}: an object or map key must be a string, got a {_friendly(type_of(key))}") from None
            if name is None:
                raise ExpressionError(f"{where}: an index cannot be null")
            if name not in value:
                raise ExpressionError(f"{where}: no attribute {name!r} (there are: {', '.join(sorted(map(str, value))) or 'none'})")
            value = value[name]
        elif isinstance(value, list) and not isinstance(value, CtySet):
            if isinstance(step, str) and not step.isdigit():
                if lenient and len(value) == 1 and isinstance(value[0], dict):
                    value = traverse(value[0], [step], where, lenient=lenient)  # a block list used like a block
                    continue
                raise ExpressionError(f"{where}: cannot read attribute {step!r} from a list")
            value = value[_list_index(key, len(value), where)]
        else:
            raise ExpressionError(f"{where}: cannot read {_show_key(key)} from a {_friendly(type_of(value))}")
    return value


def _is_zero(key: Any) -> bool:
    return (isinstance(key, Number) and key.value == 0) or key == 0


def _show_key(key: Any) -> str:
    return repr(key.text() if isinstance(key, Number) else key)


def _list_index(key: Any, length: int, where: str) -> int:
    if key is None:
        raise ExpressionError(f"{where}: an index cannot be null")
    try:
        number = convert(import_value(key), "number")
    except ExpressionError:
        raise ExpressionError(f"{where}: a list index must be a number, got {_show_key(key)}") from None
    if not number.is_integer() or number.value < 0:
        raise ExpressionError(f"{where}: a list index must be a whole number, not negative; got {number.text()}")
    if number.value >= length:
        raise ExpressionError(f"{where}: index {number.text()} out of range (length {length})")
    return int(number.value)


# ============================================================================================
# format(): cty's format verbs over Go's fmt

_VERB = re.compile(r"%(?P<flags>[-+# 0]*)(?:\[(?P<index>[1-9][0-9]*)\])?(?P<width>[1-9][0-9]*|\*)?(?:\.(?P<prec>[0-9]*|\*))?(?P<verb>[A-Za-z])?")


def _format(spec: str, *args: Any) -> str:
    if any(arg is None for arg in args):
        raise UnsupportedExpression(
            "format() with a null argument: Terraform's result depends on the null's type "
            "(an error, \"null\", or unknown until apply)"
        )
    out: list[str] = []
    next_arg = 1
    used = 0
    i = 0
    while i < len(spec):
        c = spec[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        if spec.startswith("%%", i):
            out.append("%")
            i += 2
            continue
        match = _VERB.match(spec, i)
        assert match is not None
        if match.group("verb") is None:
            end = match.end()
            if end < len(spec):
                raise ExpressionError(f"unrecognized format character {spec[end]!r} at offset {end}")
            raise ExpressionError(f"invalid format string starting at offset {i}")
        if match.group("width") == "*" or match.group("prec") == "*":
            raise ExpressionError(f"width and precision from arguments (*) are not allowed in {match.group()!r}")
        arg_num = int(match.group("index")) if match.group("index") else next_arg
        if arg_num > len(args):
            raise ExpressionError(
                f"not enough arguments for {match.group()!r} at {i}: need index {arg_num} but have {len(args)} total"
            )
        out.append(_format_verb(match, args[arg_num - 1], i))
        next_arg = arg_num + 1
        used = max(used, arg_num)
        i = match.end()
    if used < len(args):
        raise ExpressionError(f"too many arguments; only {used} used by format string")
    return "".join(out)


def _format_verb(match: re.Match, arg: Any, offset: int) -> str:
    raw = match.group()
    flags = match.group("flags")
    verb = match.group("verb")
    width = int(match.group("width")) if match.group("width") else None
    prec_text = match.group("prec")
    prec = (int(prec_text) if prec_text else 0) if prec_text is not None else None
    if (width or 0) > 1_000_000 or (prec or 0) > 1_000_000:
        raise UnsupportedExpression(f"the width or precision of {raw!r} is too large to reproduce locally")
    sharp, zero, minus = "#" in flags, "0" in flags, "-" in flags

    def pad(text: str) -> str:  # cty's formatPadWidth: grapheme clusters, '0' kept with '-'
        if width is None:
            return text
        length = len(_graphemes(text, f"format width in {raw!r}"))
        if length >= width:
            return text
        pads = ("0" if zero else " ") * (width - length)
        return text + pads if minus else pads + text

    def converted(kind: str) -> Any:
        try:
            return convert(arg, kind)
        except ExpressionError as error:
            raise ExpressionError(f"unsupported value for {raw!r} at {offset}: {error}") from None

    if verb == "v":
        if not sharp and isinstance(arg, str):
            return pad(arg)
        if not sharp and isinstance(arg, Number):
            return pad(_float_text(arg, "g", -1))
        return pad(json_encode(arg))
    if verb == "t":
        return "true" if converted("bool") else "false"
    if verb in "bdoxX":
        number = converted("number")
        if not number.is_integer():
            raise ExpressionError(f"unsupported value for {raw!r} at {offset}: an integer is required")
        return _go_format_int(int(number.value), verb, flags, width, prec)
    if verb in "eEfgG":
        return _go_format_float(converted("number"), verb, flags, width, prec)
    if verb in "sq":
        text = converted("string")
        if prec is not None and prec > 0:
            text = _graphemes(text, f"format precision in {raw!r}")[:prec]
        return pad(text if verb == "s" else json_encode(text))
    raise ExpressionError(f"unsupported format verb {verb!r} in {raw!r} at offset {offset}")


def _go_flags(flags: str) -> tuple[bool, bool, bool, bool, bool]:
    """Go's fmt flags as a Formatter sees them: '0' and '-' both reported, each formatter
    decides (big.Int pads right for '-', big.Float pads with zeros for '0')."""
    return "-" in flags, "0" in flags, "+" in flags, " " in flags, "#" in flags


def _go_format_int(value: int, verb: str, flags: str, width: int | None, prec: int | None) -> str:
    """big.Int.Format."""
    minus, zero, plus, space, sharp = _go_flags(flags)
    base = {"b": 2, "o": 8, "d": 10, "x": 16, "X": 16}[verb]
    sign = "-" if value < 0 else "+" if plus else " " if space else ""
    prefix = {"b": "0b", "o": "0", "x": "0x", "X": "0X"}.get(verb, "") if sharp else ""
    magnitude = abs(value)
    digits = {2: format(magnitude, "b"), 8: format(magnitude, "o"), 10: str(magnitude), 16: format(magnitude, "x")}[base]
    if verb == "X":
        digits = digits.upper()
    zeros = left = right = 0
    if prec is not None:
        if len(digits) < prec:
            zeros = prec - len(digits)
        elif digits == "0" and prec == 0:
            return ""
    length = len(sign) + len(prefix) + zeros + len(digits)
    if width is not None and length < width:
        if minus:
            right = width - length
        elif zero and prec is None:
            zeros = width - length
        else:
            left = width - length
    return " " * left + sign + prefix + "0" * zeros + digits + " " * right


def _go_format_float(number: Number, verb: str, flags: str, width: int | None, prec: int | None) -> str:
    """big.Float.Format."""
    minus, zero, plus, space, _ = _go_flags(flags)
    if prec is None:
        prec = -1 if verb in "gG" else 6
    text = _float_text(number, verb, prec)
    sign = ""
    if text.startswith("-"):
        sign, text = "-", text[1:]
    elif plus:
        sign = "+"
    elif space:
        sign = " "
    padding = max(0, (width or 0) - len(sign) - len(text))
    if zero:
        return sign + "0" * padding + text
    if minus:
        return sign + text + " " * padding
    return " " * padding + sign + text


# ============================================================================================
# replace() with a /regular expression/: Go's RE2 where Python's re agrees with it

def _go_regex(pattern: str, subject: str) -> re.Pattern:
    """Python's compilation of an RE2 pattern, for the syntax both read alike; what differs
    is unsupported, what RE2 rejects is an error."""
    out: list[str] = []
    flags = re.ASCII  # RE2's \d, \s, \w and \b are ASCII
    i = 0
    multiline = False
    ignorecase = False
    lead = re.match(r"\(\?([imsU]+)\)", pattern)
    if lead:
        if "U" in lead.group(1):
            raise UnsupportedExpression("the regular expression flag U is not reproduced locally")
        multiline = "m" in lead.group(1)
        ignorecase = "i" in lead.group(1)
        out.append(lead.group())
        i = lead.end()
    in_class = False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1 : i + 2]
            if nxt == "z":
                out.append("\\Z")
            elif nxt == "Z" or (nxt.isdigit() and nxt != "0"):
                raise ExpressionError(f"invalid escape sequence \\{nxt} in the regular expression {pattern!r}")
            elif nxt in ("p", "P", "Q", "E", "C", "0") or (nxt == "x" and pattern[i + 2 : i + 3] == "{"):
                raise UnsupportedExpression(f"\\{nxt} in the regular expression {pattern!r} is not reproduced locally")
            elif nxt == "":
                raise ExpressionError(f"trailing backslash in the regular expression {pattern!r}")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if pattern.startswith("[:", i):
                raise UnsupportedExpression(f"POSIX classes in the regular expression {pattern!r} are not reproduced locally")
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            if pattern[i : i + 1] == "^":
                out.append("^")
                i += 1
            if pattern[i : i + 1] == "]":
                out.append("\\]")
                i += 1
            continue
        if c == "(" and pattern.startswith("(?", i):
            if re.match(r"\(\?(=|!|<=|<!)", pattern[i:]):
                raise ExpressionError(f"lookaround is not valid in Terraform's regular expressions: {pattern!r}")
            if not (pattern.startswith("(?:", i) or pattern.startswith("(?P<", i)):
                raise UnsupportedExpression(f"the group syntax at {i} of the regular expression {pattern!r} is not reproduced locally")
        if c in "*+?}" and pattern[i + 1 : i + 2] == "+":
            raise UnsupportedExpression(f"possessive quantifiers in {pattern!r} are not reproduced locally")
        if c == "{" and re.match(r"\{,", pattern[i:]):
            raise UnsupportedExpression(f"{{,n}} in the regular expression {pattern!r} is not reproduced locally")
        if c == "{":
            bounds = re.match(r"\{(\d+)(?:,(\d*))?\}", pattern[i:])
            if bounds and max(int(b) for b in bounds.groups() if b) > 1000:
                raise ExpressionError(f"invalid repeat count in the regular expression {pattern!r}")
        if c == "$" and not multiline:
            out.append("\\Z")
            i += 1
            continue
        out.append(c)
        i += 1
    if ignorecase and not (pattern.isascii() and subject.isascii()):
        raise UnsupportedExpression("case-insensitive matching of non-ASCII text is not reproduced locally")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile("".join(out), flags)
    except re.error as error:
        raise ExpressionError(f"invalid regular expression {pattern!r}: {error}") from None


def _go_expand(template: str, match: re.Match) -> str:
    """regexp.Expand: $1, ${1}, $name, ${name}, $$."""
    out: list[str] = []
    while template:
        before, dollar, after = template.partition("$")
        if not dollar:
            break
        out.append(before)
        template = after
        if template.startswith("$"):
            out.append("$")
            template = template[1:]
            continue
        brace = template.startswith("{")
        rest = template[1:] if brace else template
        n = 0
        while n < len(rest) and (rest[n] == "_" or unicodedata.category(rest[n])[0] == "L" or unicodedata.category(rest[n]) == "Nd"):
            n += 1
        if n == 0 or (brace and rest[n : n + 1] != "}"):
            out.append("$")
            continue
        name = rest[:n]
        template = rest[n + 1 :] if brace else rest[n:]
        number = int(name) if name.isascii() and name.isdigit() and not (name[0] == "0" and len(name) > 1) and len(name) < 9 else -1
        try:
            if number >= 0:
                group = match.group(number) if number <= (match.re.groups or 0) else None
            else:
                group = match.group(name) if name in match.re.groupindex else None
        except IndexError:  # pragma: no cover - checked above
            group = None
        out.append(group or "")
    out.append(template)
    return "".join(out)


def _go_replace_all(pattern: re.Pattern, subject: str, template: str) -> str:
    """Regexp.ReplaceAllString, with its rule for empty matches next to a previous match."""
    out: list[str] = []
    last_end = 0
    search = 0
    while search <= len(subject):
        match = pattern.search(subject, search)
        if match is None:
            break
        start, end = match.span()
        out.append(subject[last_end:start])
        if end > last_end or start == 0:
            out.append(_go_expand(template, match))
        last_end = end
        search = search + 1 if search + 1 > end else end
    out.append(subject[last_end:])
    return "".join(out)


# ============================================================================================
# Functions: the ones a construct plausibly uses through cdktf's Fn.*

@dataclass(frozen=True)
class Function:
    """A function and its arity; the implementation converts and checks its arguments."""

    implementation: Callable[..., Any]
    min_args: int
    max_args: int | None  # None: variadic

    def call(self, name: str, values: list[Any], where: str) -> Any:
        if len(values) < self.min_args or (self.max_args is not None and len(values) > self.max_args):
            expected = (
                f"{self.min_args}" if self.max_args == self.min_args
                else f"at least {self.min_args}" if self.max_args is None
                else f"{self.min_args} to {self.max_args}"
            )
            raise ExpressionError(f"{name}() takes {expected} arguments, got {len(values)} (in {where!r})")
        try:
            return _nfc_strings(self.implementation(*values))  # every cty string is NFC, JSON text too
        except UnsupportedExpression as error:
            raise UnsupportedExpression(f"{name}(): {error} (in {where!r})") from None
        except ExpressionError as error:
            raise ExpressionError(f"{name}() failed in {where!r}: {error}") from None
        except Exception as error:  # noqa: BLE001 - a case this module does not foresee
            raise UnsupportedExpression(f"{name}() cannot be evaluated locally in {where!r}: {type(error).__name__}: {error}") from None


def _nfc_strings(value: Any) -> Any:
    if isinstance(value, str):
        return _nfc(value)
    if isinstance(value, (CtyList, CtySet)):
        return type(value)([_nfc_strings(v) for v in value], value.element_type)
    if isinstance(value, list):
        return [_nfc_strings(v) for v in value]
    if isinstance(value, CtyMap):
        return CtyMap({_nfc(k): _nfc_strings(v) for k, v in value.items()}, value.element_type)
    if isinstance(value, dict):
        return {_nfc(k): _nfc_strings(v) for k, v in value.items()}
    return value


def _arg(value: Any, kind: Any, what: str = "argument") -> Any:
    """A parameter of a cty type: null refused, the value converted."""
    if value is None:
        raise ExpressionError(f"{what} must not be null")
    try:
        return convert(value, kind)
    except ExpressionError as error:
        raise ExpressionError(f"{what}: {error}") from None


def _integer(value: Any, what: str) -> int:
    number = _arg(value, "number", what)
    if not number.is_integer():
        raise ExpressionError(f"{what}: a whole number is required, got {number.text()}")
    return int(number.value)


def _collection(value: Any, what: str = "argument") -> Any:
    if value is None:
        raise ExpressionError(f"{what} must not be null")
    return value


def _abs(x: Any) -> Number:
    number = _arg(x, "number")
    return Number(abs(number.value), number.prec, False)


def _ceil_floor(up: bool) -> Callable[[Any], Number]:
    def implementation(x: Any) -> Number:
        number = _arg(x, "number")
        value = number.value
        whole = int(value)  # toward zero
        if value != whole:
            whole += 1 if (up and value > 0) else -1 if (not up and value < 0) else 0
        return Number(_round(Fraction(whole), number.prec), number.prec, False)

    return implementation


def _base64decode(text: Any) -> str:
    encoded = _arg(text, "string").replace("\r", "").replace("\n", "")
    try:
        decoded = base64.b64decode(encoded.encode("ascii"), validate=True) if encoded.isascii() else None
    except (binascii.Error, ValueError):
        decoded = None
    if decoded is None:
        raise ExpressionError("failed to decode base64 data")
    try:
        return _nfc(decoded.decode("utf-8"))
    except UnicodeDecodeError:
        raise ExpressionError("the result of decoding the provided string is not valid UTF-8") from None


def _base64encode(text: Any) -> str:
    return base64.b64encode(_arg(text, "string").encode()).decode()


def _coalesce(*values: Any) -> Any:
    try:
        result_type = unify([type_of(v) for v in values])
    except _NoUnification:
        raise ExpressionError("all arguments must have the same type") from None
    for value in values:
        value = convert(value, result_type)
        if value is None or (result_type == "string" and value == ""):
            continue
        return value
    raise ExpressionError("no non-null, non-empty-string arguments")


def _concat(*lists: Any) -> Any:
    for i, value in enumerate(lists):
        if value is None or not isinstance(value, list) or isinstance(value, CtySet):
            got = "null" if value is None else _friendly(type_of(value))
            raise ExpressionError(f"all arguments must be lists or tuples; argument {i + 1} is {got}")
    if all(isinstance(value, CtyList) for value in lists):
        try:
            element_type = unify([value.element_type for value in lists])
        except _NoUnification:
            element_type = None
        if element_type is not None:
            return CtyList([convert(item, element_type) for value in lists for item in value], element_type)
    return [item for value in lists for item in value]


def _contains(items: Any, value: Any) -> bool:
    if items is None:
        raise ExpressionError("cannot search a nil list or set")
    if not isinstance(items, list):
        raise ExpressionError("argument must be list, tuple, or set")
    if value is None:
        raise ExpressionError("argument must not be null")
    return any(equal(value, item) for item in items)


def _element(items: Any, index: Any) -> Any:
    position = _integer(index, "index")
    if position < 0:
        raise ExpressionError("cannot use element function with a negative index")
    if items is None or not isinstance(items, list) or isinstance(items, CtySet):
        raise ExpressionError(f"cannot read elements from {'null' if items is None else _friendly(type_of(items))}")
    if not items:
        raise ExpressionError("cannot use element function with an empty list")
    return items[position % len(items)]


def _join(separator: Any, *lists: Any) -> str:
    separator = _arg(separator, "string", "separator")
    parts: list[str] = []
    for i, value in enumerate(lists):
        if value is None:
            raise ExpressionError(f"argument {i + 2} must not be null")
        if not isinstance(value, list):
            raise ExpressionError(f"argument {i + 2}: a list of strings is required")
        for j, item in enumerate(value):
            if item is None:
                raise ExpressionError(f"element {j} of list {i + 1} is null; cannot concatenate null values")
            parts.append(_arg(item, "string", f"element {j} of list {i + 1}"))
    return _nfc(separator.join(parts))


def _jsondecode(text: Any) -> Any:
    return json_decode(_arg(text, "string"))


def _keys(mapping: Any) -> Any:
    mapping = _collection(mapping)
    if not isinstance(mapping, dict):
        raise ExpressionError("must have map or object type")
    names = sorted(mapping)
    return CtyList(names, "string") if isinstance(mapping, CtyMap) else names


def _values(mapping: Any) -> Any:
    mapping = _collection(mapping)
    if not isinstance(mapping, dict):
        raise ExpressionError("must have map or object type")
    items = [mapping[k] for k in sorted(mapping)]
    return CtyList(items, mapping.element_type) if isinstance(mapping, CtyMap) else items


def _length(value: Any) -> Number:
    value = _collection(value)
    if isinstance(value, str):
        return Number.of_int(len(_graphemes(value, "length()")))
    if isinstance(value, (list, dict)):
        return Number.of_int(len(value))
    raise ExpressionError(f"argument must be a string, a collection type, or a structural type, got {_friendly(type_of(value))}")


def _lookup(mapping: Any, key: Any, *default: Any) -> Any:
    mapping = _collection(mapping, "the map")
    if not isinstance(mapping, dict):
        raise ExpressionError("lookup() requires a map as the first argument")
    name = _arg(key, "string", "the key")
    if isinstance(mapping, CtyMap) and default:
        try:
            fallback = convert(default[0], mapping.element_type)
        except ExpressionError:
            raise ExpressionError("the default value must have the same type as the map elements") from None
    else:
        fallback = default[0] if default else None
    if name in mapping:
        return mapping[name]
    if default:
        return fallback
    raise ExpressionError(f"lookup failed to find key {name!r}")


def _max_min(largest: bool) -> Callable[..., Number]:
    def implementation(*numbers: Any) -> Number:
        if not numbers:
            raise ExpressionError("must pass at least one number")
        best: Number | None = None
        for i, value in enumerate(numbers):
            number = _arg(value, "number", f"argument {i + 1}")
            if best is None or number.compare(best) == (1 if largest else -1):
                best = number
        assert best is not None
        return best

    return implementation


def _merge(*maps: Any) -> Any:
    for value in maps:
        if value is not None and not isinstance(value, dict):
            if isinstance(value, list) and not value and None in maps:
                raise UnsupportedExpression("merge() of a null and an empty list is not reproduced locally")
            raise ExpressionError(f"arguments must be maps or objects, got {_friendly(type_of(value))}")
    merged: dict = {}
    for value in maps:
        merged.update(value or {})
    types = {type_of(value) for value in maps}
    if maps and None not in maps and len(types) == 1 and isinstance(maps[0], CtyMap):
        return CtyMap(merged, maps[0].element_type)
    return merged


def _replace(text: Any, search: Any, replacement: Any) -> str:
    text, search = _arg(text, "string", "str"), _arg(search, "string", "substr")
    replacement = _arg(replacement, "string", "replace")
    if len(search) > 1 and search.startswith("/") and search.endswith("/"):
        return _nfc(_go_replace_all(_go_regex(search[1:-1], text), text, replacement))
    return _nfc(text.replace(search, replacement))


def _split(separator: Any, text: Any) -> CtyList:
    separator, text = _arg(separator, "string", "separator"), _arg(text, "string", "str")
    if separator == "":
        parts = list(text)
    else:
        parts = text.split(separator)
    return CtyList([_nfc(p) for p in parts], "string")


def _substr(text: Any, offset: Any, length: Any) -> str:
    text = _arg(text, "string", "str")
    start, count = _integer(offset, "offset"), _integer(length, "length")
    text = _graphemes(text, "substr()")
    if start < 0:
        start = max(start + len(text), 0)
        if count == 0:  # what Terraform does: from a negative offset, length 0 is the rest
            count = -1
    elif count == 0:
        return ""
    rest = text[start:]
    return rest if count < 0 else rest[:count]


def _to_primitive(kind: str) -> Callable[[Any], Any]:
    def implementation(value: Any) -> Any:
        if value is None:
            return None
        try:
            return convert(value, kind)
        except ExpressionError:
            if isinstance(value, str) and kind == "bool":
                raise ExpressionError(f'cannot convert {value!r} to bool; only the strings "true" or "false" are allowed') from None
            if isinstance(value, str) and kind == "number":
                raise ExpressionError(f"cannot convert {value!r} to number; given string must be a decimal representation of a number") from None
            raise ExpressionError(f"cannot convert {_friendly(type_of(value))} to {kind}") from None

    return implementation


def _to_collection(kind: str) -> Callable[[Any], Any]:
    def implementation(value: Any) -> Any:
        if value is None:
            return None
        if (kind == "map") != isinstance(value, dict):
            raise ExpressionError(f"cannot convert {_friendly(type_of(value))} to {kind}")
        try:
            return convert(value, (kind, "dynamic"))
        except _NoUnification:
            raise ExpressionError(f"cannot convert {_friendly(type_of(value))} to {kind} of any single type") from None

    return implementation


def _trim(text: Any, cutset: Any) -> str:
    return _arg(text, "string", "str").strip(_arg(cutset, "string", "cutset"))


def _trimprefix(text: Any, prefix: Any) -> str:
    text, prefix = _arg(text, "string", "str"), _arg(prefix, "string", "prefix")
    return text[len(prefix):] if text.startswith(prefix) else text


def _trimsuffix(text: Any, suffix: Any) -> str:
    text, suffix = _arg(text, "string", "str"), _arg(suffix, "string", "suffix")
    return text[: -len(suffix)] if suffix and text.endswith(suffix) else text


def _trimspace(text: Any) -> str:
    text = _arg(text, "string", "str")
    start, end = 0, len(text)
    while start < end and text[start] in _GO_SPACE:
        start += 1
    while end > start and text[end - 1] in _GO_SPACE:
        end -= 1
    return text[start:end]


def _case(mapping: Callable[[str], str]) -> Callable[[Any], str]:
    def implementation(text: Any) -> str:
        return _nfc("".join(mapping(c) for c in _arg(text, "string", "str")))

    return implementation


def _title(text: Any) -> str:
    return _nfc(_go_title(_arg(text, "string", "str")))


def _identity(value: Any) -> Any:
    return value


def _jsonencode(value: Any) -> str:
    return json_encode(value)


FUNCTIONS: dict[str, Function] = {
    "abs": Function(_abs, 1, 1),
    "base64decode": Function(_base64decode, 1, 1),
    "base64encode": Function(_base64encode, 1, 1),
    "ceil": Function(_ceil_floor(True), 1, 1),
    "coalesce": Function(_coalesce, 0, None),
    "concat": Function(_concat, 1, None),
    "contains": Function(_contains, 2, 2),
    "element": Function(_element, 2, 2),
    "floor": Function(_ceil_floor(False), 1, 1),
    "format": Function(lambda spec, *args: _format(_arg(spec, "string", "format"), *args), 1, None),
    "join": Function(_join, 2, None),
    "jsondecode": Function(_jsondecode, 1, 1),
    "jsonencode": Function(_jsonencode, 1, 1),
    "keys": Function(_keys, 1, 1),
    "length": Function(_length, 1, 1),
    "lookup": Function(_lookup, 2, 3),
    "lower": Function(_case(_go_lower), 1, 1),
    "max": Function(_max_min(True), 0, None),
    "merge": Function(_merge, 0, None),
    "min": Function(_max_min(False), 0, None),
    "nonsensitive": Function(_identity, 1, 1),
    "replace": Function(_replace, 3, 3),
    "sensitive": Function(_identity, 1, 1),
    "split": Function(_split, 2, 2),
    "substr": Function(_substr, 3, 3),
    "title": Function(_title, 1, 1),
    "tobool": Function(_to_primitive("bool"), 1, 1),
    "tolist": Function(_to_collection("list"), 1, 1),
    "tomap": Function(_to_collection("map"), 1, 1),
    "tonumber": Function(_to_primitive("number"), 1, 1),
    "toset": Function(_to_collection("set"), 1, 1),
    "tostring": Function(_to_primitive("string"), 1, 1),
    "trim": Function(_trim, 2, 2),
    "trimprefix": Function(_trimprefix, 2, 2),
    "trimspace": Function(_trimspace, 1, 1),
    "trimsuffix": Function(_trimsuffix, 2, 2),
    "upper": Function(_case(_go_upper), 1, 1),
    "values": Function(_values, 1, 1),
}

#: Functions the evaluator itself implements (they evaluate their arguments lazily).
SPECIAL_FUNCTIONS = ("can", "try")

#: Operators, as the parser builds them: binary (HCL's precedence, lowest first), unary, and
#: the conditional.
BINARY_OPERATORS = tuple(op for level in _Parser.LEVELS for op in level)
UNARY_OPERATORS = ("!", "-")
CONDITIONAL_OPERATOR = "?:"


def parse_expression(text: str) -> Node:
    """The syntax tree of one expression (what sits inside ``${...}``)."""
    return _Parser(text).parse()
