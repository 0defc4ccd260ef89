"""Lists, dicts, sets and nested models."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Set
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dynamodb.core.codec import AttributeValue, EncodeError, decode_value, encode_value
from dynamodb.core.compat import TypeVar
from dynamodb.core.errors import (
    FieldValidationError,
    InvalidArgument,
    ModelDefinitionError,
    UnknownField,
)
from dynamodb.core.expressions import Path
from dynamodb.models.fields.base import (
    Decoder,
    Encoder,
    Field,
    _bytes_from_son,
    _SizedField,
    _type_error,
)
from dynamodb.models.fields.paths import NestedAttribute, _extend

if TYPE_CHECKING:
    from dynamodb.models.model import Model  # noqa: F401 - the bound of M


M = TypeVar("M", bound="Model")

# What each field reads as (see scalars.py).
_List = TypeVar("_List", covariant=True, bound="list[Any] | None", default=list[Any])
_Dict = TypeVar("_Dict", covariant=True, bound="dict[str, Any] | None", default=dict[str, Any])
_Set = TypeVar("_Set", covariant=True, bound="set[Any] | None", default=set[Any])
_Map = TypeVar("_Map", covariant=True, default=M)


def _element_field(of: Any, owner: str) -> Field[Any] | None:
    """Turn ``of=`` (a field, a field class or a model class) into a field."""
    if of is None:
        return None
    if isinstance(of, Field):
        return of
    if isinstance(of, type) and issubclass(of, Field):
        return of()
    if isinstance(of, type) and hasattr(of, "_meta"):
        return MapField(of)
    raise ModelDefinitionError(f"{owner}(of=...) needs a field or a model class, not {of!r}")


def _decode_untyped_list(attribute: AttributeValue) -> list[Any]:
    return [decode_value(member) for member in attribute["L"]]


def _decode_untyped_map(attribute: AttributeValue) -> dict[str, Any]:
    return {key: decode_value(member) for key, member in attribute["M"].items()}


def _member_from_son(of: Field[Any] | None, data: Any) -> Any:
    """One element of a container's ``to_son()`` data, read by its ``of=`` field."""
    return data if of is None or data is None else of.from_son(data)


def _clean_member(of: Field[Any] | None, member: Any, label: str) -> Any:
    """A container's member cleaned by its ``of=`` field; a refusal names the member."""
    assert of is not None
    try:
        return of.clean(member)
    except FieldValidationError as error:
        raise ValueError(f"{label} {member!r}: {error.reason}") from None


class ListField(_SizedField[list[Any], _List]):
    """A list (``L``).

    Without ``of=`` it holds nested values (str, int, float, Decimal, bool, None,
    bytes, sets, lists, dicts). ``of=`` types every element: a field
    (``IntegerField()``), or a model class whose instances are stored as maps.
    """

    type_label = "a list"

    if TYPE_CHECKING:  # what assignments and the typed constructor take (no run-time cost)

        def __set__(self, obj: object, value: list[Any] | tuple[Any, ...] | None) -> None: ...

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
        return _clean_member(self.of, member, "element")

    def from_son(self, data: Any) -> list[Any]:
        """A list of the elements' ``to_son()`` data, each read by ``of=`` (when typed)."""
        if not isinstance(data, (list, tuple)):
            raise _type_error(self, data)
        return self.convert([_member_from_son(self.of, member) for member in data])

    def to_wire(self, value: list[Any]) -> AttributeValue:
        self._check_length(len(value))
        if self.of is None:
            return encode_value(value)
        encode = self._element_encoder
        return {"L": [encode(member) for member in value]}

    @functools.cached_property
    def _element_encoder(self) -> Encoder:
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

    def _fast_codec(self) -> tuple[Encoder, Decoder]:
        if self.of is None:
            return self.to_wire, _decode_untyped_list
        decode = self.of.fast_codec()[1]
        return self.to_wire, lambda attribute: [decode(member) for member in attribute["L"]]

    def _inline_codec(self) -> tuple[str | None, str | None]:
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
            raise InvalidArgument(f"ListField {self.attr}: index with an int, not {index!r}")
        return NestedAttribute(_extend(self.path, index), self.of, self)


class DictField(_SizedField[dict[str, Any], _Dict]):
    """A dict with string keys (``M``); ``of=`` types the values like ListField's."""

    type_label = "a dict"

    if TYPE_CHECKING:  # what assignments and the typed constructor take (no run-time cost)

        def __set__(self, obj: object, value: Mapping[str, Any] | None) -> None: ...

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
        return _clean_member(self.of, member, "value")

    def from_son(self, data: Any) -> dict[str, Any]:
        """A dict of the values' ``to_son()`` data, each read by ``of=`` (when typed)."""
        if not isinstance(data, Mapping):
            raise _type_error(self, data)
        return self.convert({key: _member_from_son(self.of, item) for key, item in data.items()})

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

    def _fast_codec(self) -> tuple[Encoder, Decoder]:
        if self.of is None:
            return self.to_wire, _decode_untyped_map
        decode = self.of.fast_codec()[1]
        return self.to_wire, lambda attribute: {
            key: decode(member) for key, member in attribute["M"].items()
        }

    def __getitem__(self, key: str | int) -> NestedAttribute:
        """``Test.doc["a"]``: a value in the map, for conditions."""
        if not isinstance(key, str):
            raise InvalidArgument(f"DictField {self.attr}: map keys are str, not {key!r}")
        return NestedAttribute(_extend(self.path, key), self.of, self)


_SET_TYPES: dict[type, str] = {str: "SS", int: "NS", float: "NS", Decimal: "NS", bytes: "BS"}


class SetField(_SizedField[set[Any], _Set]):
    """A set of strings, numbers or bytes (``SS``/``NS``/``BS``).

    ``of=`` (str, int, float, Decimal or bytes) fixes the member type; without
    it the members decide. DynamoDB cannot store an empty set, so an empty set
    is not written, and a missing attribute reads as an empty set.
    """

    type_label = "a set"

    if TYPE_CHECKING:  # what assignments and the typed constructor take (no run-time cost)

        def __set__(
            self, obj: object, value: Set[Any] | list[Any] | tuple[Any, ...] | None
        ) -> None: ...

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

    def from_son(self, data: Any) -> set[Any]:
        """The list ``to_son()`` writes to a set (``of=bytes``: members as base64 text)."""
        if self.of is bytes and isinstance(data, (list, tuple)):
            return self.convert([_bytes_from_son(member) for member in data])
        return self.convert(data)

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

    def _inline_codec(self) -> tuple[str | None, str | None]:
        if self.of is str:
            return None, 'set({raw}["SS"])'
        return None, None

    def decode(self, attribute: AttributeValue) -> set[Any]:
        kind = self.of
        if kind is None:
            return super().decode(attribute)
        if kind is str:
            return set(attribute["SS"])
        if kind is bytes:
            return {bytes(member) for member in attribute["BS"]}
        return {kind(member) for member in attribute["NS"]}  # int, float or Decimal

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


class MapField(Field[M, _Map]):
    """One nested model instance stored as a map (``M``)."""

    type_label = "a model instance"

    def __init__(self, model: type[M], name: str | None = None, **options: Any) -> None:
        if not (isinstance(model, type) and hasattr(model, "_meta")):
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

    def from_son(self, data: Any) -> M:
        """A dict of ``to_son()`` data to an instance (``Model.from_son``)."""
        if isinstance(data, Mapping):
            return self.model.from_son(data)
        return self.convert(data)

    def __getitem__(self, key: str | int) -> NestedAttribute:
        """``Customer.billing["city"]``: a field of the nested model, for conditions."""
        inner = self.model._meta.fields.get(key) if isinstance(key, str) else None
        if inner is None:
            raise UnknownField(
                f"MapField {self.attr}: {self.model.__name__} has no field {key!r}; "
                f"its fields are {sorted(self.model._meta.fields)}"
            )
        return NestedAttribute(Path((*self.path.elements, inner.name)), inner, self)
