"""The Field base class, its sized and ranged bases, and the helpers all kinds share."""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import enum
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, Generic, cast, overload

from dynamodb.core.codec import AttributeValue, EncodeError, decode_value, encode_value
from dynamodb.core.compat import Self, TypeVar
from dynamodb.core.errors import (
    FieldValidationError,
    InvalidArgument,
    ModelDefinitionError,
    UnknownField,
)
from dynamodb.core.expressions import Path
from dynamodb.core.templates import BoundTemplate, KeyTemplate
from dynamodb.models.fields.paths import NestedAttribute, UpdateBuilder

T = TypeVar("T")
R = TypeVar("R")
V = TypeVar("V", covariant=True, default=T)
"""What a field reads as on an instance: by default its value type (``CharField[str | None]``
reads ``str | None``)."""


class _Missing(enum.Enum):
    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing.MISSING
"""Marks "no default given" (None is a legitimate default)."""

Validator = Callable[[Any], object]
"""Called with each new value: returning False or raising ValueError refuses it."""
Encoder = Callable[[Any], "AttributeValue | None"]
"""A value to its AttributeValue (None: the attribute is left out)."""
Decoder = Callable[[AttributeValue], Any]
"""An AttributeValue to its value."""

_INDEX_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_.-]")

_WIRE_METHODS = ("convert", "to_wire", "decode", "from_wire")
"""The methods a class's fast path copies (see :meth:`Field.fast_codec`)."""


class Field(UpdateBuilder, Generic[T, V]):
    """Base of all fields: ``Field[T]`` holds values of type ``T``.

    On the class a field is itself (``Test.score``, for conditions); on an instance
    it reads as ``V``, which defaults to ``T``. Each field class takes ``V`` as its
    own parameter, for fields that may be unset: ``CharField[str | None]`` reads
    ``str | None`` (``MapField[Address, Address | None]``); type checkers only.

    ``name`` is the attribute name in DynamoDB (default: the Python name).
    ``default`` is a value (mutable ones are copied per instance) or a callable
    called per instance. ``required`` makes writes refuse a missing value.
    ``validator`` is called with each new value and may return False or raise
    ValueError to refuse it. ``hash_key``/``range_key`` make the field part of
    the table's key. ``indexed=True`` adds a local secondary index on this field
    (projecting the keys only, or the attributes in ``projections``; pass
    ``projections="ALL"`` for all).

    **Writing a field type.** Subclass the field whose stored form you want
    (``CharField`` for ``S``, ``IntegerField`` for ``N`` ...), or ``Field[T]``
    for a new Python type, and override what differs:

    - ``convert(value) -> T``: the assigned value as the field's Python type;
      raise TypeError or ValueError to refuse it. It runs on assignment, in the
      constructor, for defaults, and for the values of updates and conditions.
    - ``check(value)``: constraints beyond the type; raise ValueError. Call
      ``super().check(value)`` to keep the base's (lengths, ranges, no empty key).
    - ``to_wire(value) -> AttributeValue``: a converted value to what DynamoDB
      stores, e.g. ``{"S": ...}``; it is what writes, updates and conditions send.
    - ``decode(attribute) -> T``: a stored AttributeValue back to the value.
      Read it by its tag (``attribute["S"]``), so that a form it does not know
      raises: the item is then read again through ``from_wire``, which reads
      ``{"NULL": True}`` as None (override ``from_wire`` to read NULL otherwise).
    - ``to_son(value)``: the value for ``item.to_son()``, something ``json.dumps``
      takes (the default handles str, numbers, bytes, dates, sets ...).
    - ``from_son(data) -> T``: the inverse of ``to_son``, for ``Model.from_son()``
      (the default is ``convert``); override it with ``to_son``.
    - ``key_type``: ``"S"``, ``"N"`` or ``"B"``, the tag ``to_wire`` writes, when
      the field may be a table or index key; None when it may not.

    Refusals become FieldValidationError naming the model and the field. A
    subclass that overrides ``convert``, ``to_wire``, ``decode`` or ``from_wire``
    is read and written through those methods: the faster encoders the library's
    own classes hand the model's codec are not used for it. For example::

        class Lower(CharField):  # a string stored lower-cased
            def to_wire(self, value: str) -> AttributeValue:
                return {"S": value.lower()}
    """

    key_type: str | None = None
    """'S', 'N' or 'B' when the field can be a table or index key."""
    type_label: ClassVar[str] = "a value"
    accepts: ClassVar[type | tuple[type, ...] | None] = None
    """The Python types the default :meth:`convert` takes as they are (None: any value)."""

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
        template: str | None = None,
        unique: bool = False,
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
        self.template: KeyTemplate | None = (
            KeyTemplate.parse(template, f"field {name or '?'}") if template is not None else None
        )
        self.bound_template: BoundTemplate | None = None
        """The template bound to the model's part fields (set by the model's metaclass)."""
        self.part_fields: dict[str, Field[Any]] = {}
        """A templated field's parts by name (set by the model's metaclass)."""
        self.dependents: tuple[Field[Any], ...] = ()
        """Templated fields of the model that this field is a part of."""
        self.unique = bool(unique)
        self.origin: Field[Any] = self
        """The declaration this field is (a subclass holds copies of inherited fields)."""
        if doc is not None:
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
    def __get__(self, obj: object, owner: type[Any] | None = None) -> V: ...

    def __get__(self, obj: object | None, owner: type[Any] | None = None) -> Self | V:
        if obj is None:
            return self
        return cast(V, obj._data.get(self.attr))  # type: ignore[attr-defined]

    def __set__(self, obj: object, value: T | None) -> None:
        if self.template is not None:
            raise self.templated_error(value, type(obj).__name__)
        data = obj._data  # type: ignore[attr-defined]
        data[self.attr] = self.clean(value, type(obj).__name__)
        for dependent in self.dependents:
            data[dependent.attr] = dependent.render(data, type(obj).__name__)

    def templated_error(self, value: Any, model_name: str | None = None) -> FieldValidationError:
        """The error for assigning a templated field by hand."""
        assert self.template is not None
        parts = ", ".join(self.template.names) or "nothing: it is a constant"
        return self.invalid(
            value,
            f"is built from its template {self.template.source!r}; set its parts ({parts}) instead",
            model_name,
        )

    def render(self, data: Mapping[str, Any], model_name: str | None = None) -> Any:
        """This templated field's value from the parts in ``data`` (None while a part is None)."""
        bound = self.bound_template
        assert bound is not None
        texts: dict[str, str] = {}
        for name, part in self.part_fields.items():
            value = data.get(name)
            if value is None:
                return None
            encoded = part.to_wire(value)
            if encoded is None:
                return None
            try:
                texts[name] = bound.text(name, encoded)
            except (TypeError, ValueError) as error:
                raise part.invalid(
                    value,
                    f"cannot fill {self.attr}'s template {bound.template.source!r}: {error}",
                    model_name,
                ) from None
        return bound.template.render(texts)

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
        """Return ``value`` as this field's type, or raise ValueError/TypeError.

        By default a value must be an instance of ``accepts`` (when set) and is kept as is.
        """
        if self.accepts is not None and not isinstance(value, self.accepts):
            raise _type_error(self, value)
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
        """Decode a stored AttributeValue (:meth:`from_wire` reads NULL before calling this)."""
        return cast(T, decode_value(attribute))

    # -- the fast path ------------------------------------------------------------
    #
    # A library class with something faster than its own methods overrides the
    # hooks _fast_codec, _inline_codec and _member_encoder, which copy what its
    # _WIRE_METHODS do. The public methods use a hook only when the field's class
    # has the same methods as the class that defines the hook: a subclass that
    # overrides one (a user's own field type) gets the generic path, which calls it.

    def fast_codec(self) -> tuple[Encoder, Decoder]:
        """An (encode, decode) pair for the model's per-class codec.

        The encoder may trust a value that was checked when it was assigned
        (scalars cannot change after that); containers re-check their contents.
        The decoder may raise on anything unusual (NULL, legacy types): the model
        then decodes that item through :meth:`from_wire`. A field class that
        overrides ``convert``, ``to_wire``, ``decode`` or ``from_wire`` gets the
        generic pair made of its own methods.
        """
        if self._hook_applies("_fast_codec"):
            return self._fast_codec()
        return Field._fast_codec(self)

    def _fast_codec(self) -> tuple[Encoder, Decoder]:
        # The generic pair: from_wire only where a subclass changed it (decode is faster).
        decode = self.decode if type(self).from_wire is Field.from_wire else self.from_wire
        return self.to_wire, decode

    def inline_codec(self) -> tuple[str | None, str | None]:
        """Python expressions the per-class codec may inline instead of calling
        ``fast_codec``'s functions: an encoder over ``{value}`` and a decoder over
        ``{raw}`` (None: call the function). Same trust rules as ``fast_codec``.
        """
        if self._hook_applies("_inline_codec"):
            return self._inline_codec()
        return None, None

    def _inline_codec(self) -> tuple[str | None, str | None]:
        return None, None

    def member_encoder(self, slow: Encoder) -> Encoder:
        """How a container encodes one element of this field's type, checking it.

        ``slow`` is the container's full check-and-encode of one element. Fields
        without limits or a validator return a faster function that takes the
        common exact types straight and hands anything else to ``slow``; a field
        class that overrides ``check`` or a wire method gets ``slow``.
        """
        if self._hook_applies("_member_encoder", (*_WIRE_METHODS, "check")):
            return self._member_encoder(slow)
        return slow

    def _member_encoder(self, slow: Encoder) -> Encoder:
        return slow

    def _hook_applies(self, hook: str, methods: tuple[str, ...] = _WIRE_METHODS) -> bool:
        """Whether this field's class has the ``methods`` of the class defining ``hook``."""
        cls = type(self)
        owner = next(klass for klass in cls.__mro__ if hook in vars(klass))
        return all(getattr(cls, name) is getattr(owner, name) for name in methods)

    def _unconstrained(self) -> bool:
        limits = ("minimum", "maximum", "min_length", "max_length")
        return self.validator is None and all(getattr(self, name, None) is None for name in limits)

    def to_son(self, value: T) -> Any:
        """A value ``json.dumps`` accepts."""
        return _son(value)

    def from_son(self, data: Any) -> T:
        """The value ``data`` stands for, as :meth:`to_son` wrote it (its inverse).

        By default :meth:`convert`, which takes str, numbers and bools as they are;
        raise TypeError or ValueError to refuse ``data``.
        """
        return self.convert(data)

    def read_son(self, data: Any) -> T | None:
        """:meth:`from_son` of ``data`` (None stays None); a refusal is a
        FieldValidationError naming the model and the field (an unknown key of a
        nested model's data stays an UnknownField)."""
        if data is None:
            return None
        return self._refusing(data, self.from_son, data, (FieldValidationError, UnknownField))

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
        converted = self._refusing(value, self.convert, value)
        return self._wire_or_refuse(value, converted)

    def _refusing(
        self,
        value: Any,
        step: Callable[[Any], R],
        argument: Any,
        keep: tuple[type[Exception], ...] = (FieldValidationError,),
    ) -> R:
        """``step(argument)``, its refusal of ``value`` raised as a FieldValidationError
        (errors of the ``keep`` classes, which name what they refuse, as they are)."""
        try:
            return step(argument)
        except keep:
            raise
        except (EncodeError, TypeError, ValueError, OverflowError) as error:
            raise self.invalid(value, str(error)) from None

    def _wire_or_refuse(self, value: Any, converted: T) -> AttributeValue:
        encoded = self._refusing(value, self.to_wire, converted)
        if encoded is None:
            raise self.invalid(value, "is empty, and DynamoDB cannot store an empty set here")
        return encoded

    @property
    def path(self) -> Path:
        """The field's document path: its attribute name."""
        return Path((self.name,))

    def __getitem__(self, key: str | int) -> NestedAttribute:
        """A nested path (only lists, maps and nested models have them)."""
        raise InvalidArgument(f"{type(self).__name__} {self.attr or self.name} has no nested paths")

    def _root_field(self) -> Field[Any]:
        return self

    @property
    def is_key(self) -> bool:
        """Whether the field is the table's hash key or range key."""
        return self.hash_key or self.range_key

    def local_index_name(self) -> str:
        """The name of the local secondary index that ``indexed=True`` creates."""
        if self.index_name:
            return self.index_name
        return _INDEX_NAME_CHARS.sub("_", self.name) + "_index"

    def __repr__(self) -> str:
        owner = self.owner.__name__ + "." if self.owner is not None else ""
        return f"<{type(self).__name__} {owner}{self.attr or self.name}>"


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


def _bytes_from_son(data: Any) -> Any:
    """Base64 text (how :func:`_son` writes bytes) to bytes; anything else as it is."""
    if not isinstance(data, str):
        return data
    try:
        return base64.b64decode(data, validate=True)
    except binascii.Error:
        raise ValueError(f"{data!r} is not base64 text") from None


def _sort_key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


def _type_error(field: Field[Any], value: Any) -> TypeError:
    return TypeError(f"expected {field.type_label}, got {type(value).__name__}")


class _SizedField(Field[T, V]):
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

    empty_label: ClassVar[str] = "empty"
    """How an empty value is named when a key refuses it."""

    def check(self, value: T) -> None:
        """Lengths within ``min_length`` / ``max_length``; keys (``S``, ``B``) never empty."""
        size = len(value)  # type: ignore[arg-type]
        self._check_length(size)
        if not size and self.key_type is not None and (self.is_key or self.index_key):
            raise ValueError(f"a key (of the table or an index) cannot be {self.empty_label}")

    def _check_length(self, size: int) -> None:
        if self.min_length is not None and size < self.min_length:
            raise ValueError(f"length {size} is below min_length {self.min_length}")
        if self.max_length is not None and size > self.max_length:
            raise ValueError(f"length {size} is above max_length {self.max_length}")


class _RangedField(Field[T, V]):
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
