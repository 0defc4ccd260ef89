"""Typed fields: descriptors that validate, and convert to and from the wire.

A field is a generic descriptor ``Field[T]``: on the class it is the field
itself (``Test.score.gt(5)``), on an instance it is the value, a ``T``.
Values are checked when assigned; containers (whose contents can change in
place) are checked again when encoded for a write.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import enum
import functools
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast, overload

from ._compat import Self
from .codec import (
    AttributeValue,
    EncodeError,
    decode_number,
    decode_value,
    encode_number,
    encode_value,
)
from .exceptions import FieldValidationError, ModelDefinitionError
from .expressions import ConditionBuilder, Path, parse_path
from .updates import UpdateAction

if TYPE_CHECKING:
    from .model import Model

__all__ = [
    "MISSING",
    "BinaryField",
    "BooleanField",
    "CharField",
    "DateField",
    "DateTimeField",
    "DecimalField",
    "DictField",
    "EnumField",
    "Field",
    "FloatField",
    "IntegerField",
    "JSONField",
    "ListField",
    "MapField",
    "NestedAttribute",
    "SetField",
    "TimeDeltaField",
    "UUIDField",
    "VersionField",
]

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)
M = TypeVar("M", bound="Model")


class _Missing(enum.Enum):
    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing.MISSING
"""Marks "no default given" (None is a legitimate default)."""

Validator = Callable[[Any], object]
Encoder = Callable[[Any], "AttributeValue | None"]
Decoder = Callable[[AttributeValue], Any]

_INDEX_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_.-]")


class UpdateBuilder:
    """Mixin for fields and nested paths: the update actions they build.

    ``Test.score.add(1)``, ``Test.doc["a"].set(2)``, ``Test.ids.list_append([3])``,
    ``Test.tags.delete({"x"})``, ``Test.title.remove()``; pass them to
    ``item.update(...)``. Values are checked by the field before anything is sent.
    """

    __slots__ = ()

    @property
    def path(self) -> Path:
        raise NotImplementedError

    def encode_operand(self, value: Any) -> AttributeValue:
        raise NotImplementedError

    def encode_update(self, value: Any) -> AttributeValue:
        raise NotImplementedError

    def encode_member(self, value: Any) -> AttributeValue:
        # Same default as ConditionBuilder's (this mixin comes first in the MRO):
        # a scalar field's member, e.g. contains()'s substring, is its own type.
        return self.encode_operand(value)

    def __getitem__(self, key: str | int) -> NestedAttribute:
        raise NotImplementedError

    def _root_field(self) -> Field[Any]:
        """The model field this path starts at."""
        raise NotImplementedError

    def _at(self, path: str | None) -> UpdateBuilder:
        if path is None:
            return self
        steps = parse_path(path)
        if steps.elements[0] != self.path.elements[0] or len(steps.elements) < 2:
            raise ValueError(f"path {path!r} must start with {self.path} and go inside it")
        target: UpdateBuilder = self
        for step in steps.elements[len(self.path.elements) :]:
            target = target[step]
        return target

    def set(
        self, value: Any, *, path: str | None = None, if_not_exists: bool = False
    ) -> UpdateAction:
        """SET the value (``if_not_exists=True``: only where the attribute is missing)."""
        target = self._at(path)
        at_top = len(target.path.elements) == 1
        if at_top and (value is None or (isinstance(value, (set, frozenset)) and not value)):
            # A missing attribute is how DynamoDB stores None and the empty set.
            return UpdateAction(target.path, "remove", None, target._root_field())
        encoded = target.encode_update(value)
        kind = "set_if_not_exists" if if_not_exists else "set"
        return UpdateAction(target.path, kind, encoded, target._root_field())

    @overload
    def remove(self, *, indexes: None = None) -> UpdateAction: ...

    @overload
    def remove(self, *, indexes: Iterable[int]) -> tuple[UpdateAction, ...]: ...

    def remove(
        self, *, indexes: Iterable[int] | None = None
    ) -> UpdateAction | tuple[UpdateAction, ...]:
        """REMOVE the attribute, or (``indexes=[...]``) those list elements."""
        if indexes is None:
            return UpdateAction(self.path, "remove", None, self._root_field())
        return tuple(
            UpdateAction(self[index].path, "remove", None, self._root_field())
            for index in sorted(set(indexes))
        )

    def add(self, value: Any) -> UpdateAction:
        """Atomically add a number (or, at the top level, members to a set).

        The amount is checked for its type only: ``minimum``/``maximum`` and the
        validator are about stored values, not about the change.
        """
        encoded = self.encode_operand(value)
        top_level = len(self.path.elements) == 1
        if "N" in encoded:
            kind = "add" if top_level else "increment"
            return UpdateAction(self.path, kind, encoded, self._root_field())
        if top_level and encoded.keys() & {"SS", "NS", "BS"}:
            return UpdateAction(self.path, "add", encoded, self._root_field())
        raise TypeError(f"{self.path}: add() takes a number (or a non-empty set, at the top level)")

    def delete(self, values: Any) -> UpdateAction:
        """DELETE members from a set attribute."""
        encoded = self.encode_operand(values)
        if len(self.path.elements) != 1 or not encoded.keys() & {"SS", "NS", "BS"}:
            raise TypeError(f"{self.path}: delete() removes members of a top-level set")
        return UpdateAction(self.path, "delete", encoded, self._root_field())

    def list_append(self, values: Iterable[Any]) -> UpdateAction:
        """Append values to a list (an absent list counts as empty)."""
        return UpdateAction(self.path, "append", {"L": self._members(values)}, self._root_field())

    def list_prepend(self, values: Iterable[Any]) -> UpdateAction:
        """Put values at the front of a list."""
        return UpdateAction(self.path, "prepend", {"L": self._members(values)}, self._root_field())

    def _members(self, values: Iterable[Any]) -> list[AttributeValue]:
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise TypeError(f"{self.path}: give a list of values, not {values!r}")
        return [self.encode_member(value) for value in values]


class Field(UpdateBuilder, ConditionBuilder, Generic[T]):
    """Base of all fields.

    ``name`` is the attribute name in DynamoDB (default: the Python name).
    ``default`` is a value (mutable ones are copied per instance) or a callable
    called per instance. ``required`` makes writes refuse a missing value.
    ``validator`` is called with each new value and may return False or raise
    ValueError to refuse it. ``hash_key``/``range_key`` make the field part of
    the table's key. ``indexed=True`` adds a local secondary index on this field
    (projecting the keys only, or the attributes in ``projections``; pass
    ``projections="ALL"`` for all).
    """

    key_type: str | None = None
    """'S', 'N' or 'B' when the field can be a table or index key."""
    type_label: ClassVar[str] = "a value"

    def __init__(
        self,
        name: str | None = None,
        *,
        hash_key: bool = False,
        range_key: bool = False,
        default: Any = MISSING,
        required: bool = False,
        validator: Validator | None = None,
        indexed: bool = False,
        projections: Iterable[str] | str | None = None,
        index_name: str | None = None,
        doc: str | None = None,
    ) -> None:
        if name is not None and (not isinstance(name, str) or not name):
            raise ModelDefinitionError(f"a field's name must be a non-empty string, not {name!r}")
        self.name: str = name or ""
        self.attr: str = ""
        self.owner: type[Any] | None = None
        self.hash_key = hash_key
        self.range_key = range_key
        self.default = default
        self.required = required or hash_key or range_key
        self.validator = validator
        self.indexed = indexed
        self.projections = projections
        self.index_name = index_name
        self.index_key = False  # set by the schema when an index uses this field as a key
        self.__doc__ = doc

    # -- descriptor protocol -------------------------------------------------

    def __set_name__(self, owner: type[Any], attr: str) -> None:
        self.attr = attr
        if not self.name:
            self.name = attr
        self.owner = owner

    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None) -> Self: ...

    @overload
    def __get__(self, obj: object, owner: type[Any] | None = None) -> T: ...

    def __get__(self, obj: object | None, owner: type[Any] | None = None) -> Self | T:
        if obj is None:
            return self
        return cast(T, obj._data.get(self.attr))  # type: ignore[attr-defined]

    def __set__(self, obj: object, value: T | None) -> None:
        obj._data[self.attr] = self.clean(value, type(obj).__name__)  # type: ignore[attr-defined]

    # -- validation -----------------------------------------------------------

    def clean(self, value: Any, model_name: str | None = None) -> T | None:
        """Convert and check ``value``; raise FieldValidationError naming the field."""
        if value is None:
            return None
        try:
            converted = self.convert(value)
            self.check(converted)
        except (EncodeError, TypeError, ValueError, OverflowError) as error:
            if isinstance(error, FieldValidationError):
                raise
            raise self.invalid(value, str(error), model_name) from None
        if self.validator is not None:
            self._run_validator(converted, model_name)
        return converted

    def _run_validator(self, value: T, model_name: str | None) -> None:
        assert self.validator is not None
        try:
            verdict = self.validator(value)
        except (TypeError, ValueError) as error:
            raise self.invalid(value, str(error) or "refused by validator", model_name) from None
        if verdict is False:
            raise self.invalid(value, "refused by validator", model_name)

    def invalid(
        self, value: Any, reason: str, model_name: str | None = None
    ) -> FieldValidationError:
        """The FieldValidationError for ``value`` on this field."""
        owner = model_name or (self.owner.__name__ if self.owner is not None else "?")
        return FieldValidationError(owner, self.attr or self.name, value, reason)

    def convert(self, value: Any) -> T:
        """Return ``value`` as this field's type, or raise ValueError/TypeError."""
        return cast(T, value)

    def check(self, value: T) -> None:
        """Check constraints beyond the type (lengths, ranges)."""

    def absent(self) -> T | None:
        """The value of an attribute missing from a stored item."""
        return None

    def make_default(self) -> T | None:
        """A fresh default value for a new instance (None when there is none)."""
        default = self.default
        if default is MISSING:
            return None
        if callable(default):
            return self.clean(default())
        return self.clean(copy.deepcopy(default))

    # -- wire ---------------------------------------------------------------

    def to_wire(self, value: T) -> AttributeValue | None:
        """Encode a clean value; None means the attribute is left out."""
        return encode_value(value)

    def from_wire(self, attribute: AttributeValue) -> T:
        """Decode an AttributeValue read from DynamoDB."""
        if "NULL" in attribute:
            return cast(T, None)
        return self.decode(attribute)

    def decode(self, attribute: AttributeValue) -> T:
        return cast(T, decode_value(attribute))

    def fast_codec(self) -> tuple[Encoder, Decoder]:
        """An (encode, decode) pair for the model's per-class codec.

        The encoder may trust a value that was checked when it was assigned
        (scalars cannot change after that); containers re-check their contents.
        The decoder may raise on anything unusual (NULL, legacy types): the model
        then decodes that item through :meth:`from_wire`.
        """
        return self.to_wire, self.decode

    def member_encoder(self, slow: Encoder) -> Encoder:
        """How a container encodes one element of this field's type, checking it.

        ``slow`` is the container's full check-and-encode of one element. Fields
        without limits or a validator return a faster function that takes the
        common exact types straight and hands anything else to ``slow``.
        """
        return slow

    def _unconstrained(self) -> bool:
        limits = ("minimum", "maximum", "min_length", "max_length")
        return self.validator is None and all(getattr(self, name, None) is None for name in limits)

    def inline_codec(self) -> tuple[str | None, str | None]:
        """Python expressions the per-class codec may inline instead of calling
        ``fast_codec``'s functions: an encoder over ``{value}`` and a decoder over
        ``{raw}`` (None: call the function). Same trust rules as ``fast_codec``.
        """
        return None, None

    def to_son(self, value: T) -> Any:
        """A value ``json.dumps`` accepts."""
        return _son(value)

    def encode_update(self, value: Any) -> AttributeValue:
        """Encode a value written by an update action: every check of the field applies."""
        cleaned = self.clean(value)
        if cleaned is None:
            return {"NULL": True}
        return self._wire_or_refuse(value, cleaned)

    def encode_operand(self, value: Any) -> AttributeValue:
        """Encode a value compared with this field in a condition.

        Only the type is checked (and converted): a condition may compare with
        values the field would not store, e.g. below its ``minimum``.
        """
        if value is None:
            return {"NULL": True}
        try:
            converted = self.convert(value)
        except (EncodeError, TypeError, ValueError, OverflowError) as error:
            if isinstance(error, FieldValidationError):
                raise
            raise self.invalid(value, str(error)) from None
        return self._wire_or_refuse(value, converted)

    def _wire_or_refuse(self, value: Any, converted: T) -> AttributeValue:
        try:
            encoded = self.to_wire(converted)
        except (EncodeError, TypeError, ValueError, OverflowError) as error:
            if isinstance(error, FieldValidationError):
                raise
            raise self.invalid(value, str(error)) from None
        if encoded is None:
            raise self.invalid(value, "is empty, and DynamoDB cannot store an empty set here")
        return encoded

    @property
    def path(self) -> Path:
        return Path((self.name,))

    def __getitem__(self, key: str | int) -> NestedAttribute:
        """A nested path (only lists, maps and nested models have them)."""
        raise TypeError(f"{type(self).__name__} {self.attr or self.name} has no nested paths")

    def _root_field(self) -> Field[Any]:
        return self

    @property
    def is_key(self) -> bool:
        return self.hash_key or self.range_key

    def local_index_name(self) -> str:
        """The name of the local secondary index that ``indexed=True`` creates."""
        if self.index_name:
            return self.index_name
        return _INDEX_NAME_CHARS.sub("_", self.name) + "_index"

    def __repr__(self) -> str:
        owner = self.owner.__name__ + "." if self.owner is not None else ""
        return f"<{type(self).__name__} {owner}{self.attr or self.name}>"


def _encode_s(value: str) -> AttributeValue:
    return {"S": value}


def _encode_int(value: int) -> AttributeValue:
    return {"N": str(value)}


def _decode_int(attribute: AttributeValue) -> int:
    return int(attribute["N"])


def _encode_float(value: float) -> AttributeValue:
    return {"N": repr(value)}


def _decode_float(attribute: AttributeValue) -> float:
    return float(attribute["N"])


def _decode_untyped_list(attribute: AttributeValue) -> list[Any]:
    return [decode_value(member) for member in attribute["L"]]


def _decode_untyped_map(attribute: AttributeValue) -> dict[str, Any]:
    return {key: decode_value(member) for key, member in attribute["M"].items()}


def _encode_utc_datetime(value: dt.datetime) -> AttributeValue:
    return {"S": value.isoformat(timespec="microseconds")}


def _son(value: Any) -> Any:
    """Turn a decoded value into JSON-compatible data."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {str(key): _son(member) for key, member in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((_son(member) for member in value), key=_sort_key)
    if isinstance(value, (list, tuple)):
        return [_son(member) for member in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return _son(value.value)
    to_son = getattr(value, "to_son", None)
    if to_son is not None:
        return to_son()
    return str(value)


def _sort_key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


def _type_error(field: Field[Any], value: Any) -> TypeError:
    return TypeError(f"expected {field.type_label}, got {type(value).__name__}")


class _SizedField(Field[T]):
    """Fields with ``min_length`` / ``max_length``: strings, bytes and containers."""

    def __init__(
        self,
        name: str | None = None,
        *,
        min_length: int | None = None,
        max_length: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(name, **options)
        self.min_length = min_length
        self.max_length = max_length

    def _check_length(self, size: int) -> None:
        if self.min_length is not None and size < self.min_length:
            raise ValueError(f"length {size} is below min_length {self.min_length}")
        if self.max_length is not None and size > self.max_length:
            raise ValueError(f"length {size} is above max_length {self.max_length}")


class _RangedField(Field[T]):
    """Fields with ``minimum`` / ``maximum``: numbers, dates, times, durations.

    The bounds follow the values' own rule (a naive datetime bound is UTC, an int
    bound of a FloatField is a float), so they compare with the values.
    """

    def __init__(
        self, name: str | None = None, *, minimum: Any = None, maximum: Any = None, **options: Any
    ) -> None:
        super().__init__(name, **options)
        self.minimum = None if minimum is None else self.convert(minimum)
        self.maximum = None if maximum is None else self.convert(maximum)

    def _check_range(self, value: Any) -> None:
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"below minimum {self.minimum!r}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"above maximum {self.maximum!r}")


class CharField(_SizedField[str]):
    """A string (``S``). Keys and index keys cannot be empty strings."""

    key_type = "S"
    type_label = "a str"

    def convert(self, value: Any) -> str:
        if not isinstance(value, str):
            raise _type_error(self, value)
        return value

    def check(self, value: str) -> None:
        self._check_length(len(value))
        if not value and (self.is_key or self.index_key):
            raise ValueError("a key (of the table or an index) cannot be an empty string")

    def to_wire(self, value: str) -> AttributeValue:
        return {"S": value}

    def decode(self, attribute: AttributeValue) -> str:
        return cast(str, attribute["S"])

    def fast_codec(self) -> tuple[Encoder, Decoder]:
        return _encode_s, itemgetter("S")

    def inline_codec(self) -> tuple[str | None, str | None]:
        return '{{"S": {value}}}', '{raw}["S"]'

    def member_encoder(self, slow: Encoder) -> Encoder:
        if not self._unconstrained():
            return slow

        def encode(member: Any) -> AttributeValue | None:
            return {"S": member} if type(member) is str else slow(member)

        return encode


class _NumberField(_RangedField[T]):
    key_type = "N"

    def check(self, value: T) -> None:
        encode_number(cast(Any, value))
        self._check_range(value)

    def to_wire(self, value: T) -> AttributeValue:
        return {"N": encode_number(cast(Any, value))}


class IntegerField(_NumberField[int]):
    """An int (``N``); bools are refused."""

    type_label = "an int"

    def convert(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, Decimal) and value == value.to_integral_value():
                return int(value)
            raise _type_error(self, value)
        return int(value)

    def decode(self, attribute: AttributeValue) -> int:
        text = attribute["N"]
        try:
            return int(text)
        except ValueError:
            number = Decimal(text)
            if number != number.to_integral_value():
                raise ValueError(f"{text} is not a whole number") from None
            return int(number)

    def fast_codec(self) -> tuple[Encoder, Decoder]:
        return _encode_int, _decode_int

    def inline_codec(self) -> tuple[str | None, str | None]:
        return '{{"N": str({value})}}', 'int({raw}["N"])'

    def member_encoder(self, slow: Encoder) -> Encoder:
        if not self._unconstrained():
            return slow

        def encode(member: Any) -> AttributeValue | None:
            if type(member) is int:
                text = str(member)
                if len(text) <= 38:  # DynamoDB's precision; longer ones take the slow path
                    return {"N": text}
            return slow(member)

        return encode


class VersionField(IntegerField):
    """Optimistic locking: a version number, at most one per model.

    Every write of an item read at version n is conditional on the stored
    version still being n, and stores n + 1; a lost race raises
    :class:`~dynamodb.exceptions.VersionConflict`. New items start at 1.
    """

    type_label = "an int version"

    def __init__(self, name: str | None = None, **options: Any) -> None:
        for option in ("hash_key", "range_key", "default", "required"):
            if options.get(option):
                raise ModelDefinitionError(f"VersionField does not take {option}=")
        super().__init__(name, minimum=0, **options)


class FloatField(_NumberField[float]):
    """A float (``N``, written as its shortest repr); ints are accepted."""

    type_label = "a float"

    def convert(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise _type_error(self, value)
        return float(value)

    def decode(self, attribute: AttributeValue) -> float:
        return float(attribute["N"])

    def fast_codec(self) -> tuple[Encoder, Decoder]:
        return _encode_float, _decode_float

    def inline_codec(self) -> tuple[str | None, str | None]:
        return '{{"N": repr({value})}}', 'float({raw}["N"])'


class DecimalField(_NumberField[Decimal]):
    """An exact Decimal (``N``, up to 38 digits); ints and floats are converted exactly."""

    type_label = "a Decimal"

    def convert(self, value: Any) -> Decimal:
        if isinstance(value, Decimal):
            return value
        if isinstance(value, bool):
            raise _type_error(self, value)
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, float):
            return Decimal(repr(value))
        if isinstance(value, str):
            try:
                return Decimal(value)
            except InvalidOperation:
                raise ValueError(f"{value!r} is not a decimal number") from None
        raise _type_error(self, value)

    def decode(self, attribute: AttributeValue) -> Decimal:
        return Decimal(attribute["N"])


class BooleanField(Field[bool]):
    """A bool (``BOOL``)."""

    type_label = "a bool"

    def convert(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise _type_error(self, value)
        return value

    def to_wire(self, value: bool) -> AttributeValue:
        return {"BOOL": value}

    def fast_codec(self) -> tuple[Encoder, Decoder]:
        return self.to_wire, itemgetter("BOOL")

    def inline_codec(self) -> tuple[str | None, str | None]:
        return '{{"BOOL": {value}}}', '{raw}["BOOL"]'

    def decode(self, attribute: AttributeValue) -> bool:
        if "BOOL" in attribute:
            return bool(attribute["BOOL"])
        # Older data may hold booleans as numbers.
        return bool(decode_number(attribute["N"]))


class DateTimeField(_RangedField[dt.datetime]):
    """A datetime stored as an ISO 8601 string in UTC, so strings sort by time.

    Naive datetimes are taken as UTC; reads give timezone-aware datetimes.
    The stored form always has microseconds: ``2024-05-01T12:00:00.000000+00:00``.
    """

    key_type = "S"
    type_label = "a datetime"

    def convert(self, value: Any) -> dt.datetime:
        if not isinstance(value, dt.datetime):
            raise _type_error(self, value)
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)

    def check(self, value: dt.datetime) -> None:
        self._check_range(value)

    def to_wire(self, value: dt.datetime) -> AttributeValue:
        return {"S": value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")}

    def decode(self, attribute: AttributeValue) -> dt.datetime:
        text = attribute["S"]
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            from dateutil import parser

            parsed = parser.isoparse(text)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=dt.timezone.utc)
        if parsed.tzinfo is dt.timezone.utc:
            return parsed
        return parsed.astimezone(dt.timezone.utc)

    def to_son(self, value: dt.datetime) -> Any:
        return value.isoformat()

    def fast_codec(self) -> tuple[Encoder, Decoder]:
        # Assigned values were converted to UTC already.
        return _encode_utc_datetime, self.decode

    def inline_codec(self) -> tuple[str | None, str | None]:
        return '{{"S": {value}.isoformat(timespec="microseconds")}}', None


class DateField(_RangedField[dt.date]):
    """A date stored as ``YYYY-MM-DD``. A datetime is refused (it would lose its time)."""

    key_type = "S"
    type_label = "a date"

    def convert(self, value: Any) -> dt.date:
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise _type_error(self, value)
        return value

    def check(self, value: dt.date) -> None:
        self._check_range(value)

    def to_wire(self, value: dt.date) -> AttributeValue:
        return {"S": value.isoformat()}

    def decode(self, attribute: AttributeValue) -> dt.date:
        return dt.date.fromisoformat(attribute["S"])


_MICROSECONDS = Decimal(1_000_000)


class TimeDeltaField(_RangedField[dt.timedelta]):
    """A timedelta stored as a number of seconds, microseconds kept exactly."""

    key_type = "N"
    type_label = "a timedelta"

    def convert(self, value: Any) -> dt.timedelta:
        if not isinstance(value, dt.timedelta):
            raise _type_error(self, value)
        return value

    def check(self, value: dt.timedelta) -> None:
        self._check_range(value)

    def to_wire(self, value: dt.timedelta) -> AttributeValue:
        micro = value // dt.timedelta(microseconds=1)
        return {"N": str(Decimal(micro) / _MICROSECONDS)}

    def decode(self, attribute: AttributeValue) -> dt.timedelta:
        micro = Decimal(attribute["N"]) * _MICROSECONDS
        return dt.timedelta(microseconds=int(micro))

    def to_son(self, value: dt.timedelta) -> Any:
        return value.total_seconds()


class BinaryField(_SizedField[bytes]):
    """Bytes (``B``)."""

    key_type = "B"
    type_label = "bytes"

    def convert(self, value: Any) -> bytes:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise _type_error(self, value)
        return bytes(value)

    def check(self, value: bytes) -> None:
        self._check_length(len(value))
        if not value and (self.is_key or self.index_key):
            raise ValueError("a key (of the table or an index) cannot be empty")

    def to_wire(self, value: bytes) -> AttributeValue:
        return {"B": value}

    def decode(self, attribute: AttributeValue) -> bytes:
        raw = attribute["B"]
        return raw if isinstance(raw, bytes) else base64.b64decode(raw)


class UUIDField(Field[uuid.UUID]):
    """A UUID stored as its canonical string; strings are parsed."""

    key_type = "S"
    type_label = "a UUID"

    def convert(self, value: Any) -> uuid.UUID:
        if isinstance(value, uuid.UUID):
            return value
        if isinstance(value, str):
            return uuid.UUID(value)
        raise _type_error(self, value)

    def to_wire(self, value: uuid.UUID) -> AttributeValue:
        return {"S": str(value)}

    def decode(self, attribute: AttributeValue) -> uuid.UUID:
        return uuid.UUID(attribute["S"])


class EnumField(Field[E]):
    """An Enum member, stored as its value (a str or an int). Raw values are accepted."""

    type_label = "an enum member"

    def __init__(self, enum_type: type[E], name: str | None = None, **options: Any) -> None:
        if not (isinstance(enum_type, type) and issubclass(enum_type, enum.Enum)):
            raise ModelDefinitionError(f"EnumField needs an Enum class, not {enum_type!r}")
        kinds = {type(member.value) for member in enum_type}
        if kinds <= {str}:
            self.key_type = "S"
        elif kinds <= {int}:
            self.key_type = "N"
        else:
            raise ModelDefinitionError(
                f"EnumField({enum_type.__name__}): member values must be all str or all int"
            )
        super().__init__(name, **options)
        self.enum_type = enum_type

    def convert(self, value: Any) -> E:
        if isinstance(value, self.enum_type):
            return value
        try:
            return self.enum_type(value)
        except ValueError:
            allowed = ", ".join(repr(member.value) for member in self.enum_type)
            raise ValueError(f"not a {self.enum_type.__name__} (one of {allowed})") from None

    def to_wire(self, value: E) -> AttributeValue:
        raw = value.value
        return {"S": raw} if self.key_type == "S" else {"N": str(raw)}

    def decode(self, attribute: AttributeValue) -> E:
        if "S" in attribute:
            return self.enum_type(attribute["S"])
        return self.enum_type(int(attribute["N"]))


class JSONField(Field[Any]):
    """Any JSON-serialisable value, stored as a compact JSON string (``S``)."""

    type_label = "JSON data"

    def convert(self, value: Any) -> Any:
        json.dumps(value, allow_nan=False)
        return value

    def to_wire(self, value: Any) -> AttributeValue:
        return {"S": json.dumps(value, separators=(",", ":"), allow_nan=False)}

    def decode(self, attribute: AttributeValue) -> Any:
        return json.loads(attribute["S"])


# -- containers ----------------------------------------------------------------


def _element_field(of: Any, owner: str) -> Field[Any] | None:
    """Turn ``of=`` (a field, a field class or a model class) into a field."""
    if of is None:
        return None
    if isinstance(of, Field):
        return of
    if isinstance(of, type) and issubclass(of, Field):
        return of()
    if isinstance(of, type) and hasattr(of, "_fields"):
        return MapField(of)
    raise ModelDefinitionError(f"{owner}(of=...) needs a field or a model class, not {of!r}")


class ListField(_SizedField[list[Any]]):
    """A list (``L``).

    Without ``of=`` it holds nested values (str, int, float, Decimal, bool, None,
    bytes, sets, lists, dicts). ``of=`` types every element: a field
    (``IntegerField()``), or a model class whose instances are stored as maps.
    """

    type_label = "a list"

    def __init__(self, name: str | None = None, *, of: Any = None, **options: Any) -> None:
        super().__init__(name, **options)
        self.of = _element_field(of, "ListField")

    def __set_name__(self, owner: type[Any], attr: str) -> None:
        super().__set_name__(owner, attr)
        if self.of is not None and not self.of.attr:
            self.of.attr = f"{attr}[]"

    def convert(self, value: Any) -> list[Any]:
        if not isinstance(value, (list, tuple)):
            raise _type_error(self, value)
        if self.of is None:
            encode_value(value)
            return list(value)
        return [self._clean_element(member) for member in value]

    def _clean_element(self, member: Any) -> Any:
        assert self.of is not None
        try:
            return self.of.clean(member)
        except FieldValidationError as error:
            raise ValueError(f"element {member!r}: {error.reason}") from None

    def check(self, value: list[Any]) -> None:
        self._check_length(len(value))

    def to_wire(self, value: list[Any]) -> AttributeValue:
        self._check_length(len(value))
        if self.of is None:
            return encode_value(value)
        encode = self._member_encoder
        return {"L": [encode(member) for member in value]}

    @functools.cached_property
    def _member_encoder(self) -> Encoder:
        assert self.of is not None
        return self.of.member_encoder(self._encode_element)

    def _encode_element(self, member: Any) -> AttributeValue:
        assert self.of is not None
        cleaned = self._clean_element(member)
        if cleaned is None:
            return {"NULL": True}
        return self.of.to_wire(cleaned) or {"NULL": True}

    def decode(self, attribute: AttributeValue) -> list[Any]:
        if self.of is None:
            return super().decode(attribute)
        return [self.of.from_wire(member) for member in attribute["L"]]

    def fast_codec(self) -> tuple[Encoder, Decoder]:
        if self.of is None:
            return self.to_wire, _decode_untyped_list
        decode = self.of.fast_codec()[1]
        return self.to_wire, lambda attribute: [decode(member) for member in attribute["L"]]

    def inline_codec(self) -> tuple[str | None, str | None]:
        element = self.of.inline_codec()[1] if self.of is not None else None
        decode = None
        if element is not None:
            decode = "[" + element.format(raw="member") + ' for member in {raw}["L"]]'
        return None, decode

    def encode_member(self, value: Any) -> AttributeValue:
        if self.of is None:
            try:
                return encode_value(value)
            except EncodeError as error:
                raise self.invalid(value, str(error)) from None
        try:
            return self._encode_element(value)
        except ValueError as error:
            if isinstance(error, FieldValidationError):
                raise
            raise self.invalid(value, str(error)) from None

    def __getitem__(self, index: str | int) -> NestedAttribute:
        """``Test.ids[0]``: an element, for conditions."""
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"ListField {self.attr}: index with an int, not {index!r}")
        return NestedAttribute(_extend(self.path, index), self.of, self)


class DictField(_SizedField[dict[str, Any]]):
    """A dict with string keys (``M``); ``of=`` types the values like ListField's."""

    type_label = "a dict"

    def __init__(self, name: str | None = None, *, of: Any = None, **options: Any) -> None:
        super().__init__(name, **options)
        self.of = _element_field(of, "DictField")

    def convert(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise _type_error(self, value)
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"keys must be str, got {type(key).__name__}")
        if self.of is None:
            encode_value(dict(value))
            return dict(value)
        return {key: self._clean_value(member) for key, member in value.items()}

    def _clean_value(self, member: Any) -> Any:
        assert self.of is not None
        try:
            return self.of.clean(member)
        except FieldValidationError as error:
            raise ValueError(f"value {member!r}: {error.reason}") from None

    def check(self, value: dict[str, Any]) -> None:
        self._check_length(len(value))

    def to_wire(self, value: dict[str, Any]) -> AttributeValue:
        self._check_length(len(value))
        if self.of is None:
            return encode_value(value)
        encoded: dict[str, AttributeValue] = {}
        for key, member in value.items():
            cleaned = self._clean_value(member)
            encoded[key] = (
                {"NULL": True} if cleaned is None else self.of.to_wire(cleaned) or {"NULL": True}
            )
        return {"M": encoded}

    def decode(self, attribute: AttributeValue) -> dict[str, Any]:
        if self.of is None:
            return super().decode(attribute)
        return {key: self.of.from_wire(member) for key, member in attribute["M"].items()}

    def fast_codec(self) -> tuple[Encoder, Decoder]:
        if self.of is None:
            return self.to_wire, _decode_untyped_map
        decode = self.of.fast_codec()[1]
        return self.to_wire, lambda attribute: {
            key: decode(member) for key, member in attribute["M"].items()
        }

    def __getitem__(self, key: str | int) -> NestedAttribute:
        """``Test.doc["a"]``: a value in the map, for conditions."""
        if not isinstance(key, str):
            raise TypeError(f"DictField {self.attr}: map keys are str, not {key!r}")
        return NestedAttribute(_extend(self.path, key), self.of, self)


_SET_TYPES: dict[type, str] = {str: "SS", int: "NS", float: "NS", Decimal: "NS", bytes: "BS"}


class SetField(_SizedField[set[Any]]):
    """A set of strings, numbers or bytes (``SS``/``NS``/``BS``).

    ``of=`` (str, int, float, Decimal or bytes) fixes the member type; without
    it the members decide. DynamoDB cannot store an empty set, so an empty set
    is not written, and a missing attribute reads as an empty set.
    """

    type_label = "a set"

    def __init__(self, name: str | None = None, *, of: type | None = None, **options: Any) -> None:
        if of is not None and of not in _SET_TYPES:
            raise ModelDefinitionError(
                f"SetField(of=...) takes str, int, float, Decimal or bytes, not {of!r}"
            )
        options.setdefault("default", set)
        super().__init__(name, **options)
        self.of = of

    def convert(self, value: Any) -> set[Any]:
        members = self._members_of(value)
        if members:
            encode_value(members)
        return members

    def _members_of(self, value: Any) -> set[Any]:
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise _type_error(self, value)
        members = set(value)
        if self.of is not None:
            members = {self._convert_member(member) for member in members}
        return members

    def _convert_member(self, member: Any) -> Any:
        of = self.of
        assert of is not None
        if of is float and isinstance(member, int) and not isinstance(member, bool):
            return float(member)
        if of is Decimal and isinstance(member, (int, float)) and not isinstance(member, bool):
            return Decimal(repr(member)) if isinstance(member, float) else Decimal(member)
        if of is bytes and isinstance(member, (bytearray, memoryview)):
            return bytes(member)
        if not isinstance(member, of) or isinstance(member, bool):
            raise TypeError(f"members must be {of.__name__}, got {type(member).__name__}")
        return member

    def check(self, value: set[Any]) -> None:
        self._check_length(len(value))

    def to_wire(self, value: set[Any]) -> AttributeValue | None:
        if (
            self._plain_strings
            and type(value) is set
            and value
            and all(type(member) is str for member in value)
        ):
            # The common case, checked cheaply: a set of plain strings.
            return {"SS": sorted(value)}
        # Members may have been added in place since assignment: convert again;
        # encoding checks them.
        members = self._members_of(value) if self.of is not None else value
        self._check_length(len(members))
        if not members:
            return None
        return encode_value(members)

    def from_wire(self, attribute: AttributeValue) -> set[Any]:
        if "NULL" in attribute:
            return set()
        return self.decode(attribute)

    def absent(self) -> set[Any]:
        return set()

    @functools.cached_property
    def _plain_strings(self) -> bool:
        return self.of is str and self._unconstrained()

    def inline_codec(self) -> tuple[str | None, str | None]:
        if self.of is str:
            return None, 'set({raw}["SS"])'
        return None, None

    def decode(self, attribute: AttributeValue) -> set[Any]:
        if self.of is None or self.of is Decimal:
            decoded = super().decode(attribute)
            if self.of is Decimal:
                return {Decimal(member) for member in attribute["NS"]}
            return decoded
        if self.of is str:
            return set(attribute["SS"])
        if self.of is bytes:
            return {bytes(member) for member in attribute["BS"]}
        kind = self.of
        return {kind(member) for member in attribute["NS"]}

    def encode_member(self, value: Any) -> AttributeValue:
        try:
            member = self._convert_member(value) if self.of is not None else value
            encoded = encode_value({member})
        except (EncodeError, TypeError) as error:
            raise self.invalid(value, str(error)) from None
        return {tag[0]: members[0] for tag, members in encoded.items()}

    def make_default(self) -> set[Any] | None:
        made = super().make_default()
        return set() if made is None else made


class MapField(Field[M]):
    """One nested model instance stored as a map (``M``)."""

    type_label = "a model instance"

    def __init__(self, model: type[M], name: str | None = None, **options: Any) -> None:
        if not (isinstance(model, type) and hasattr(model, "_fields")):
            raise ModelDefinitionError(f"MapField needs a model class, not {model!r}")
        super().__init__(name, **options)
        self.model = model

    def convert(self, value: Any) -> M:
        if isinstance(value, self.model):
            return value
        if isinstance(value, Mapping):
            return self.model(**value)
        raise TypeError(f"expected a {self.model.__name__} or a dict, got {type(value).__name__}")

    def to_wire(self, value: M) -> AttributeValue:
        return {"M": value._to_wire_map()}

    def decode(self, attribute: AttributeValue) -> M:
        return self.model._from_wire(attribute["M"])

    def to_son(self, value: M) -> Any:
        return value.to_son()

    def __getitem__(self, key: str | int) -> NestedAttribute:
        """``Customer.billing["city"]``: a field of the nested model, for conditions."""
        inner = self.model._fields.get(key) if isinstance(key, str) else None
        if inner is None:
            raise TypeError(f"MapField {self.attr}: {self.model.__name__} has no field {key!r}")
        return NestedAttribute(Path((*self.path.elements, inner.name)), inner, self)


class NestedAttribute(UpdateBuilder, ConditionBuilder):
    """A path inside a list, map or nested model: ``Test.doc["a"]``, ``Test.ids[0]``.

    Build conditions (``Test.doc["a"].gt(1)``) and updates (``Test.doc["a"].set(2)``)
    on it like on a field. Values are encoded by the element's field when the
    container is typed (``of=``), else as untyped nested values.
    """

    __slots__ = ("_element", "_path", "_root")

    def __init__(self, path: Path, element: Field[Any] | None, root: Field[Any]) -> None:
        self._path = path
        self._element = element
        self._root = root

    @property
    def path(self) -> Path:
        return self._path

    def _root_field(self) -> Field[Any]:
        return self._root

    def _untyped(self, value: Any) -> AttributeValue:
        try:
            return encode_value(value)
        except EncodeError as error:
            raise self._root.invalid(value, f"at {self._path}: {error}") from None

    def encode_operand(self, value: Any) -> AttributeValue:
        if self._element is not None:
            try:
                return self._element.encode_operand(value)
            except FieldValidationError as error:  # name the model's field, not the element's
                raise self._root.invalid(value, f"at {self._path}: {error.reason}") from None
        return self._untyped(value)

    def encode_update(self, value: Any) -> AttributeValue:
        if self._element is not None:
            try:
                return self._element.encode_update(value)
            except FieldValidationError as error:  # name the model's field, not the element's
                raise self._root.invalid(value, f"at {self._path}: {error.reason}") from None
        return self._untyped(value)

    def encode_member(self, value: Any) -> AttributeValue:
        if self._element is not None:
            return self._element.encode_member(value)
        return self._untyped(value)

    def __getitem__(self, key: str | int) -> NestedAttribute:
        if self._element is not None:
            return self._element[key]._rebase(self._path, self._root)
        return NestedAttribute(_extend(self._path, key), None, self._root)

    def _rebase(self, base: Path, root: Field[Any]) -> NestedAttribute:
        return NestedAttribute(Path(base.elements + self._path.elements[1:]), self._element, root)

    def __repr__(self) -> str:
        return f"<NestedAttribute {self._path}>"


def _extend(path: Path, key: str | int) -> Path:
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise TypeError(
            f"{path}: a path step is a map key (str) or a list index (int), not {key!r}"
        )
    if isinstance(key, int) and key < 0:
        raise ValueError(f"{path}: list indexes in DynamoDB paths are >= 0, not {key}")
    return Path((*path.elements, key))
