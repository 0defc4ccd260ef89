"""A small, safe parser for condition text: ``status = "open" and total > 10``.

The command line's ``--where EXPR`` (and migrations that write their filter as
text) go through here: a tokenizer and a recursive-descent parser build the
library's own condition objects (:mod:`dynamodb.core.expressions`). Nothing is
ever evaluated as Python. Names are resolved by the caller (the model layer
looks them up among a model's fields), so a misspelt field is an error that
names it, before anything is sent.

The grammar (keywords in any case)::

    expr       := term ("or" term)*
    term       := factor ("and" factor)*
    factor     := "not" factor | "(" expr ")" | function | comparison
    comparison := path OP value                        OP: = == != <> < <= > >=
                | path "between" value "and" value
                | path "in" "(" value ("," value)* ")"
    function   := exists(path) | not_exists(path) | attribute_exists(path)
                | attribute_not_exists(path) | begins_with(path, value)
                | contains(path, value) | size(path) OP integer
    path       := name ("." name | "[" integer "]")*
    value      := "text" | 'text' | number | true | false | null

Numbers without a point or exponent are ints, the others Decimals.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from dynamodb.core.errors import InvalidValue, WhereSyntaxError
from dynamodb.core.expressions import Condition, SizeOf

__all__ = ["Operand", "parse_where"]


class Operand(Protocol):
    """What a name resolves to: a field, or a path inside one (conditions are built on it)."""

    def eq(self, value: Any) -> Condition: ...
    def ne(self, value: Any) -> Condition: ...
    def lt(self, value: Any) -> Condition: ...
    def lte(self, value: Any) -> Condition: ...
    def gt(self, value: Any) -> Condition: ...
    def gte(self, value: Any) -> Condition: ...
    def between(self, low: Any, high: Any) -> Condition: ...
    def begins_with(self, prefix: Any) -> Condition: ...
    def contains(self, member: Any) -> Condition: ...
    def is_in(self, *choices: Any) -> Condition: ...
    def exists(self) -> Condition: ...
    def not_exists(self) -> Condition: ...
    def size(self) -> SizeOf: ...
    def __getitem__(self, key: Any) -> Any: ...


Resolve = Callable[[str], Operand]
"""Turns a top-level name into an operand; raises (a typed error) for an unknown one."""

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<op>==|!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),.\[\]])
  | (?P<name>[A-Za-z_][A-Za-z0-9_\-#:]*)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "between", "in", "true", "false", "null"}
_OPS = {"=": "eq", "==": "eq", "!=": "ne", "<>": "ne", "<": "lt", "<=": "lte", ">": "gt"}
_OPS[">="] = "gte"
_FUNCTIONS = {
    "exists": "exists",
    "attribute_exists": "exists",
    "not_exists": "not_exists",
    "attribute_not_exists": "not_exists",
    "begins_with": "begins_with",
    "contains": "contains",
    "size": "size",
}
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # string, number, op, punct, name, keyword, end
    text: str
    at: int


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    at = 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            raise _error(text, at, f"unexpected character {text[at]!r}")
        kind = match.lastgroup or ""
        if kind != "space":
            word = match.group()
            if kind == "name" and word.lower() in _KEYWORDS:
                found.append(_Token("keyword", word.lower(), at))
            else:
                found.append(_Token(kind, word, at))
        at = match.end()
    found.append(_Token("end", "", len(text)))
    return found


def _error(text: str, at: int, problem: str) -> WhereSyntaxError:
    return WhereSyntaxError(f"cannot parse {text!r}: {problem} at position {at}")


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", lambda match: _ESCAPES.get(match.group(1), match.group(1)), body)


class _Parser:
    def __init__(self, text: str, resolve: Resolve) -> None:
        self.text = text
        self.resolve = resolve
        self.tokens = _tokens(text)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def fail(self, problem: str) -> WhereSyntaxError:
        token = self.current
        shown = "the end" if token.kind == "end" else repr(token.text)
        return _error(self.text, token.at, f"{problem}, found {shown}")

    def take(self, kind: str, text: str | None = None) -> _Token | None:
        token = self.current
        if token.kind == kind and (text is None or token.text == text):
            self.index += 1
            return token
        return None

    def expect(self, kind: str, text: str | None = None, what: str = "") -> _Token:
        token = self.take(kind, text)
        if token is None:
            raise self.fail(f"expected {what or text or kind}")
        return token

    def parse(self) -> Condition:
        if self.current.kind == "end":
            raise self.fail("expected a condition")
        condition = self.expression()
        if self.current.kind != "end":
            raise self.fail("expected 'and', 'or' or the end")
        return condition

    def expression(self) -> Condition:
        condition = self.term()
        while self.take("keyword", "or"):
            condition = condition | self.term()
        return condition

    def term(self) -> Condition:
        condition = self.factor()
        while self.take("keyword", "and"):
            condition = condition & self.factor()
        return condition

    def factor(self) -> Condition:
        if self.take("keyword", "not"):
            return ~self.factor()
        if self.take("punct", "("):
            condition = self.expression()
            self.expect("punct", ")", "')'")
            return condition
        token = self.current
        following = self.tokens[min(self.index + 1, len(self.tokens) - 1)]
        if token.kind == "name" and token.text.lower() in _FUNCTIONS and following.text == "(":
            return self.function()
        return self.comparison()

    def function(self) -> Condition:
        name = _FUNCTIONS[self.expect("name").text.lower()]
        self.expect("punct", "(", "'('")
        operand = self.path()
        if name in ("begins_with", "contains"):
            self.expect("punct", ",", "','")
            value = self.value()
        self.expect("punct", ")", "')'")
        if name == "exists":
            return operand.exists()
        if name == "not_exists":
            return operand.not_exists()
        if name == "begins_with":
            return operand.begins_with(value)
        if name == "contains":
            return operand.contains(value)
        op = self.expect("op", what="a comparison after size(...)")
        size = self.value()
        if isinstance(size, bool) or not isinstance(size, int):
            raise _error(self.text, op.at, "size(...) is compared with an integer")
        method: Callable[[int], Condition] = getattr(operand.size(), _OPS[op.text])
        return method(size)

    def comparison(self) -> Condition:
        operand = self.path()
        if self.take("keyword", "between"):
            low = self.value()
            self.expect("keyword", "and", "'and'")
            return operand.between(low, self.value())
        if self.take("keyword", "in"):
            self.expect("punct", "(", "'('")
            choices = [self.value()]
            while self.take("punct", ","):
                choices.append(self.value())
            self.expect("punct", ")", "')'")
            return operand.is_in(*choices)
        op = self.take("op")
        if op is None:
            raise self.fail("expected a comparison (=, <, between, in ...)")
        method: Callable[[Any], Condition] = getattr(operand, _OPS[op.text])
        return method(self.value())

    def path(self) -> Operand:
        token = self.expect("name", what="a field name")
        operand: Any = self.resolve(token.text)
        while True:
            if self.take("punct", "."):
                operand = operand[self.expect("name", what="a name after '.'").text]
            elif self.take("punct", "["):
                number = self.expect("number", what="a list index")
                if not number.text.isdigit():
                    raise _error(self.text, number.at, "a list index is a whole number")
                operand = operand[int(number.text)]
                self.expect("punct", "]", "']'")
            else:
                return operand  # type: ignore[no-any-return]

    def value(self) -> Any:
        token = self.current
        if self.take("string"):
            return _unquote(token.text)
        if self.take("number"):
            if re.fullmatch(r"-?\d+", token.text):
                return int(token.text)
            try:
                return Decimal(token.text)
            except InvalidOperation:  # pragma: no cover - the pattern admits numbers only
                raise _error(self.text, token.at, "not a number") from None
        if self.take("keyword", "true"):
            return True
        if self.take("keyword", "false"):
            return False
        if self.take("keyword", "null"):
            return None
        raise self.fail("expected a value (a quoted string, a number, true, false or null)")


def parse_where(text: str, resolve: Resolve) -> Condition:
    """The condition ``text`` describes; names are looked up with ``resolve``.

    Raises WhereSyntaxError (an InvalidValue) for text that does not parse, and
    whatever ``resolve`` or the fields raise for unknown names or bad values.
    """
    if not isinstance(text, str):
        raise InvalidValue(f"a where expression is text, not {type(text).__name__}")
    return _Parser(text, resolve).parse()
