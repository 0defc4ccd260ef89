"""Condition expressions as immutable values, and the placeholder allocator.

Conditions are built from fields (``Test.score.gt(5) & Test.name.begins_with("a")``)
and rendered through one :class:`Placeholders` per request, so every attribute
name goes out as ``#n0``-style placeholders: reserved words (``name``, ``date``)
and names with dots, dashes or spaces always work. ``bool(condition)`` raises,
because ``if Test.score.gt(5):`` is always a bug.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast, overload

from dynamodb.core.codec import AttributeValue
from dynamodb.core.errors import InvalidArgument, InvalidValue, NotACondition

__all__ = [
    "And",
    "AttributeExists",
    "AttributeNotExists",
    "BeginsWith",
    "Between",
    "Comparison",
    "Condition",
    "Contains",
    "In",
    "Not",
    "Or",
    "Path",
    "PathCondition",
    "Placeholders",
    "SizeOf",
    "and_all",
    "extend_condition",
    "parse_path",
    "require_condition",
]


PathElement = str | int


@dataclass(frozen=True, slots=True)
class Path:
    """A document path: an attribute name, then map keys (str) and list indexes (int)."""

    elements: tuple[PathElement, ...]

    @classmethod
    def of(cls, name: str, *more: PathElement) -> Path:
        return cls((name, *more))

    @property
    def attribute(self) -> str:
        """The top-level attribute name."""
        first = self.elements[0]
        assert isinstance(first, str)
        return first

    def __str__(self) -> str:
        text = ""
        for element in self.elements:
            text += f"[{element}]" if isinstance(element, int) else ("." if text else "") + element
        return text


_PATH_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]|(\.)")


def parse_path(text: str) -> Path:
    """``"doc.a[2].b"`` -> Path(("doc", "a", 2, "b")). Map keys holding dots need
    ``Test.doc["a.b"]`` instead."""
    elements: list[PathElement] = []
    position = 0
    expect_name = True
    while position < len(text):
        match = _PATH_STEP.match(text, position)
        if match is None:
            raise InvalidValue(f"cannot read the path {text!r} at {position}")
        name, index, _dot = match.groups()
        if name is not None:
            if not expect_name:
                raise InvalidValue(f"cannot read the path {text!r}: a '.' is missing at {position}")
            elements.append(name)
            expect_name = False
        elif index is not None:
            if not elements:
                raise InvalidValue(f"the path {text!r} must start with an attribute name")
            elements.append(int(index))
        else:
            if expect_name:
                raise InvalidValue(
                    f"cannot read the path {text!r}: a name is missing at {position}"
                )
            expect_name = True
        position = match.end()
    if not elements or expect_name:
        raise InvalidValue(f"cannot read the path {text!r}")
    return Path(tuple(elements))


class Placeholders:
    """Allocates ``#nK`` name and ``:vK`` value placeholders for one request."""

    __slots__ = ("_name_index", "_tag", "names", "values")

    def __init__(self, tag: str = "") -> None:
        """``tag`` goes into every placeholder (``#n<tag>0``), so that placeholders made for
        a second expression of a request already rendered cannot collide with its own."""
        self.names: dict[str, str] = {}
        self.values: dict[str, AttributeValue] = {}
        self._name_index: dict[str, str] = {}
        self._tag = tag

    def name(self, name: str) -> str:
        placeholder = self._name_index.get(name)
        if placeholder is None:
            placeholder = f"#n{self._tag}{len(self._name_index)}"
            self._name_index[name] = placeholder
            self.names[placeholder] = name
        return placeholder

    def path(self, path: Path) -> str:
        text = ""
        for element in path.elements:
            if isinstance(element, int):
                text += f"[{element}]"
            else:
                text += ("." if text else "") + self.name(element)
        return text

    def projection(self, entries: Iterable[str | Path]) -> str:
        """A ProjectionExpression of attribute names and document paths."""
        return ", ".join(
            self.path(entry) if isinstance(entry, Path) else self.name(entry) for entry in entries
        )

    def value(self, value: AttributeValue) -> str:
        placeholder = f":v{self._tag}{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def apply(self, request: dict[str, Any]) -> dict[str, Any]:
        """Add ExpressionAttributeNames/Values to ``request`` when any were used (merged
        with those it holds)."""
        if self.names:
            request["ExpressionAttributeNames"] = {
                **request.get("ExpressionAttributeNames", {}),
                **self.names,
            }
        if self.values:
            request["ExpressionAttributeValues"] = {
                **request.get("ExpressionAttributeValues", {}),
                **self.values,
            }
        return request


def extend_condition(request: dict[str, Any], condition: Condition, tag: str = "x") -> None:
    """AND ``condition`` into a rendered request's ConditionExpression (in place)."""
    placeholders = Placeholders(tag)
    text = condition.render(placeholders)
    existing = request.get("ConditionExpression")
    request["ConditionExpression"] = f"({existing}) AND ({text})" if existing else text
    placeholders.apply(request)


class Condition:
    """Base of all conditions: combine with ``&``, ``|`` and ``~``."""

    __slots__ = ()

    def render(self, placeholders: Placeholders) -> str:
        raise NotImplementedError

    def paths(self) -> Iterable[Path]:
        """Every path this condition reads (index selection uses it)."""
        raise NotImplementedError

    def __and__(self, other: Condition) -> Condition:
        if not isinstance(other, Condition):
            return NotImplemented
        return And(_flatten(And, (self, other)))

    def __or__(self, other: Condition) -> Condition:
        if not isinstance(other, Condition):
            return NotImplemented
        return Or(_flatten(Or, (self, other)))

    def __invert__(self) -> Condition:
        return Not(self)

    def __bool__(self) -> bool:
        raise InvalidArgument(
            "a condition has no truth value: combine conditions with & | ~ "
            "instead of and / or / not, and pass them to where() or condition="
        )


def _flatten(kind: type[And] | type[Or], parts: Iterable[Condition]) -> tuple[Condition, ...]:
    flat: list[Condition] = []
    for part in parts:
        if type(part) is kind:
            flat.extend(part.parts)
        else:
            flat.append(part)
    return tuple(flat)


def require_condition(value: object, where: str, model: str = "Model") -> Condition:
    """``value`` if it is a condition; else NotACondition naming ``where`` and what it got
    (``model`` names the model in the examples the message gives)."""
    if isinstance(value, Condition):
        return value
    hint = ""
    if isinstance(value, bool):
        hint = (
            "; a bool comes from comparing plain values, such as an item's attribute: "
            f"compare the model's field instead ({model}.field == value)"
        )
    raise NotACondition(
        f"{where} takes conditions such as {model}.field == value or {model}.field.eq(value) "
        f"(combined with & | ~), not {value!r} ({type(value).__name__}){hint}"
    )


def and_all(conditions: Sequence[Condition]) -> Condition | None:
    """AND a list of conditions together (None for an empty list)."""
    if not conditions:
        return None
    if len(conditions) == 1:
        return conditions[0]
    return And(_flatten(And, conditions))


_MAX_IN_CHOICES = 100
_OPERATORS = {"eq": "=", "ne": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


@dataclass(frozen=True, slots=True)
class PathCondition(Condition):
    """A condition on one path (most of them): ``paths()`` is that path."""

    path: Path

    def paths(self) -> Iterable[Path]:
        return (self.path,)


@dataclass(frozen=True, slots=True)
class Comparison(PathCondition):
    """``path <op> value`` with op one of eq, ne, lt, lte, gt, gte."""

    operator: str
    value: AttributeValue

    def render(self, placeholders: Placeholders) -> str:
        return (
            f"{placeholders.path(self.path)} {_OPERATORS[self.operator]} "
            f"{placeholders.value(self.value)}"
        )


@dataclass(frozen=True, slots=True)
class Between(PathCondition):
    """``path BETWEEN low AND high`` (both ends included)."""

    low: AttributeValue
    high: AttributeValue

    def render(self, placeholders: Placeholders) -> str:
        return (
            f"{placeholders.path(self.path)} BETWEEN {placeholders.value(self.low)} "
            f"AND {placeholders.value(self.high)}"
        )


@dataclass(frozen=True, slots=True)
class BeginsWith(PathCondition):
    """``begins_with(path, prefix)``."""

    prefix: AttributeValue

    def render(self, placeholders: Placeholders) -> str:
        return f"begins_with({placeholders.path(self.path)}, {placeholders.value(self.prefix)})"


@dataclass(frozen=True, slots=True)
class Contains(PathCondition):
    """``contains(path, member)``: a substring, or a member of a set or list."""

    member: AttributeValue

    def render(self, placeholders: Placeholders) -> str:
        return f"contains({placeholders.path(self.path)}, {placeholders.value(self.member)})"


@dataclass(frozen=True, slots=True)
class In(PathCondition):
    """``path IN (v1, v2, ...)``."""

    choices: tuple[AttributeValue, ...]

    def render(self, placeholders: Placeholders) -> str:
        listed = ", ".join(placeholders.value(choice) for choice in self.choices)
        return f"{placeholders.path(self.path)} IN ({listed})"


@dataclass(frozen=True, slots=True)
class AttributeExists(PathCondition):
    """``attribute_exists(path)``."""

    def render(self, placeholders: Placeholders) -> str:
        return f"attribute_exists({placeholders.path(self.path)})"


@dataclass(frozen=True, slots=True)
class AttributeNotExists(PathCondition):
    """``attribute_not_exists(path)``."""

    def render(self, placeholders: Placeholders) -> str:
        return f"attribute_not_exists({placeholders.path(self.path)})"


@dataclass(frozen=True, slots=True)
class SizeComparison(PathCondition):
    """``size(path) <op> n``."""

    operator: str
    value: AttributeValue

    def render(self, placeholders: Placeholders) -> str:
        return (
            f"size({placeholders.path(self.path)}) {_OPERATORS[self.operator]} "
            f"{placeholders.value(self.value)}"
        )


@dataclass(frozen=True, slots=True)
class And(Condition):
    """All parts hold."""

    parts: tuple[Condition, ...]

    def render(self, placeholders: Placeholders) -> str:
        return " AND ".join(f"({part.render(placeholders)})" for part in self.parts)

    def paths(self) -> Iterable[Path]:
        return [path for part in self.parts for path in part.paths()]


@dataclass(frozen=True, slots=True)
class Or(Condition):
    """At least one part holds."""

    parts: tuple[Condition, ...]

    def render(self, placeholders: Placeholders) -> str:
        return " OR ".join(f"({part.render(placeholders)})" for part in self.parts)

    def paths(self) -> Iterable[Path]:
        return [path for part in self.parts for path in part.paths()]


@dataclass(frozen=True, slots=True)
class Not(Condition):
    """The part does not hold."""

    part: Condition

    def render(self, placeholders: Placeholders) -> str:
        return f"NOT ({self.part.render(placeholders)})"

    def paths(self) -> Iterable[Path]:
        return self.part.paths()


def _number(value: int) -> AttributeValue:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgument(f"size() compares with a non-negative int, not {value!r}")
    return {"N": str(value)}


class Operators:
    """Python's comparison operators as conditions, on fields, paths and ``size()``.

    ``Issue.status == "open"`` is ``Issue.status.eq("open")``, and ``!=``, ``<``,
    ``<=``, ``>``, ``>=`` are ``ne``, ``lt``, ``lte``, ``gt``, ``gte`` (as in
    PynamoDB and SQLAlchemy); the value may stand on either side. Between two
    fields or paths, ``==`` and ``!=`` are identity, as for any Python object, so
    fields work in lists, sets, ``in`` tests and as dict keys (they hash by
    identity); ordering two of them is a TypeError.
    """

    __slots__ = ()

    def _compare(self, operator: str, value: Any) -> Condition:
        if isinstance(value, Operators):
            return NotImplemented  # type: ignore[no-any-return]
        return cast(Condition, getattr(self, operator)(value))

    @overload  # type: ignore[override]
    def __eq__(self, other: Operators) -> bool: ...  # type: ignore[overload-overlap]

    @overload
    def __eq__(self, other: object) -> Condition: ...

    def __eq__(self, other: object) -> Condition | bool:
        if isinstance(other, Operators):
            return self is other
        return self._compare("eq", other)

    @overload  # type: ignore[override]
    def __ne__(self, other: Operators) -> bool: ...  # type: ignore[overload-overlap]

    @overload
    def __ne__(self, other: object) -> Condition: ...

    def __ne__(self, other: object) -> Condition | bool:
        if isinstance(other, Operators):
            return self is not other
        return self._compare("ne", other)

    def __lt__(self, other: Any) -> Condition:
        return self._compare("lt", other)

    def __le__(self, other: Any) -> Condition:
        return self._compare("lte", other)

    def __gt__(self, other: Any) -> Condition:
        return self._compare("gt", other)

    def __ge__(self, other: Any) -> Condition:
        return self._compare("gte", other)

    __hash__ = object.__hash__


@dataclass(frozen=True, slots=True, eq=False)
class SizeOf(Operators):
    """``size(path)``, compared with ints: ``Test.tags.size().gt(2)``, ``Test.tags.size() > 2``."""

    path: Path

    def eq(self, value: int) -> Condition:
        return SizeComparison(self.path, "eq", _number(value))

    def ne(self, value: int) -> Condition:
        return SizeComparison(self.path, "ne", _number(value))

    def lt(self, value: int) -> Condition:
        return SizeComparison(self.path, "lt", _number(value))

    def lte(self, value: int) -> Condition:
        return SizeComparison(self.path, "lte", _number(value))

    def gt(self, value: int) -> Condition:
        return SizeComparison(self.path, "gt", _number(value))

    def gte(self, value: int) -> Condition:
        return SizeComparison(self.path, "gte", _number(value))


class ConditionBuilder(Operators):
    """Mixin for fields: the comparison methods that build conditions.

    Subclasses provide ``path`` and ``encode_operand(value)``; ``encode_member``
    encodes one member for ``contains`` (the element type of a list or set).
    The operators ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` build the same
    conditions as ``eq`` ... ``gte`` (see :class:`Operators`).
    """

    __slots__ = ()

    @property
    def path(self) -> Path:
        """The document path the conditions (and updates) refer to."""
        raise NotImplementedError

    def encode_operand(self, value: Any) -> AttributeValue:
        """Encode a value compared with, or added to, this path: only its type is checked."""
        raise NotImplementedError

    def encode_member(self, value: Any) -> AttributeValue:
        """Encode one element (of a list or set) for ``contains()`` and ``list_append()``.

        By default a member is of the path's own type (``contains()``'s substring).
        """
        return self.encode_operand(value)

    def eq(self, value: Any) -> Condition:
        """``attribute = value``."""
        return Comparison(self.path, "eq", self.encode_operand(value))

    def ne(self, value: Any) -> Condition:
        """``attribute <> value``."""
        return Comparison(self.path, "ne", self.encode_operand(value))

    def lt(self, value: Any) -> Condition:
        """``attribute < value``."""
        return Comparison(self.path, "lt", self.encode_operand(value))

    def lte(self, value: Any) -> Condition:
        """``attribute <= value``."""
        return Comparison(self.path, "lte", self.encode_operand(value))

    def gt(self, value: Any) -> Condition:
        """``attribute > value``."""
        return Comparison(self.path, "gt", self.encode_operand(value))

    def gte(self, value: Any) -> Condition:
        """``attribute >= value``."""
        return Comparison(self.path, "gte", self.encode_operand(value))

    def between(self, low: Any, high: Any) -> Condition:
        """``low <= attribute <= high``."""
        return Between(self.path, self.encode_operand(low), self.encode_operand(high))

    def begins_with(self, prefix: Any) -> Condition:
        """The string or binary value starts with ``prefix``."""
        if isinstance(prefix, str):
            return BeginsWith(self.path, {"S": prefix})
        if isinstance(prefix, (bytes, bytearray)):
            return BeginsWith(self.path, {"B": bytes(prefix)})
        return BeginsWith(self.path, self.encode_operand(prefix))

    def contains(self, member: Any) -> Condition:
        """A substring of a string, or a member of a set or list."""
        return Contains(self.path, self.encode_member(member))

    def is_in(self, *choices: Any) -> Condition:
        """The value is one of ``choices`` (given as arguments or one iterable)."""
        if (
            len(choices) == 1
            and isinstance(choices[0], Iterable)
            and not isinstance(choices[0], (str, bytes, bytearray, dict))
        ):
            choices = tuple(choices[0])
        if not choices:
            raise InvalidValue(f"{self.path}: is_in() needs at least one choice")
        if len(choices) > _MAX_IN_CHOICES:
            raise InvalidValue(f"{self.path}: DynamoDB's IN takes at most {_MAX_IN_CHOICES} values")
        return In(self.path, tuple(self.encode_operand(choice) for choice in choices))

    in_ = is_in

    def exists(self) -> Condition:
        """The attribute is present."""
        return AttributeExists(self.path)

    def not_exists(self) -> Condition:
        """The attribute is absent."""
        return AttributeNotExists(self.path)

    def size(self) -> SizeOf:
        """``size(attribute)``, to compare: ``Test.tags.size().gte(2)``."""
        return SizeOf(self.path)
