"""Fields that wrap another field and transform what it stores (encrypted, compressed).

The inner field validates, converts and encodes the value; the wrapper turns the
inner field's AttributeValue into what is stored (``wrap``) and back (``unwrap``).
The wrapper's value type is the inner field's, so ``EncryptedField(CharField())``
is a ``Field[str]``; like any field it takes a read type second
(``EncryptedField[str, str | None]`` for a field that may be unset). The stored
form is opaque to DynamoDB: conditions can only ask whether it exists, updates can
only set or remove it, and it can never be a key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, NoReturn

from dynamodb.core.codec import AttributeValue
from dynamodb.core.errors import InvalidArgument, ModelDefinitionError
from dynamodb.core.expressions import Condition, SizeOf
from dynamodb.core.updates import UpdateAction
from dynamodb.models.fields.base import MISSING, Decoder, Encoder, Field, T, V
from dynamodb.models.fields.containers import DictField, ListField
from dynamodb.models.fields.paths import NestedAttribute
from dynamodb.models.fields.temporal import TTLField
from dynamodb.models.fields.version import VersionField

__all__ = ["WrappingField", "check_wrapping_fields"]


class WrappingField(Field[T, V]):
    """Base of :class:`EncryptedField` and :class:`CompressedField` (see the module)."""

    opaque_as: ClassVar[str] = "wrapped"
    """How the stored form is named in refusals ("encrypted", "compressed")."""
    binds_item: ClassVar[bool] = False
    """Whether the stored form is bound to its item's key (encrypted at the item level)."""

    def __init__(self, inner: Field[T, Any], name: str | None = None, **options: Any) -> None:
        if not isinstance(inner, Field):
            raise ModelDefinitionError(
                f"{type(self).__name__} wraps a field (e.g. CharField()), not {inner!r}"
            )
        options.setdefault("required", inner.required)
        if options.get("default", MISSING) is MISSING:
            options["default"] = inner.default
        super().__init__(name or inner.name or None, **options)
        self.inner: Field[T, Any] = inner
        self.type_label = inner.type_label  # type: ignore[misc]

    def __set_name__(self, owner: type[Any], attr: str) -> None:
        super().__set_name__(owner, attr)
        self.inner.attr, self.inner.name, self.inner.owner = attr, self.name, owner

    # -- what the wrapper stores ------------------------------------------------

    def wrap(self, attribute: AttributeValue) -> AttributeValue:
        """The stored form of the inner field's AttributeValue."""
        return attribute

    def unwrap(self, attribute: AttributeValue) -> AttributeValue:
        """The inner field's AttributeValue from the stored form."""
        return attribute

    # -- the inner field does the rest ------------------------------------------

    def clean(self, value: Any, model_name: str | None = None) -> T | None:
        """The inner field's checks (and this field's own validator, if given)."""
        cleaned = self.inner.clean(value, model_name)
        if cleaned is not None and self.validator is not None:
            self._run_validator(cleaned, model_name)
        return cleaned

    def convert(self, value: Any) -> T:
        """The inner field's conversion."""
        return self.inner.convert(value)

    def check(self, value: T) -> None:
        """The inner field's constraints."""
        self.inner.check(value)

    def absent(self) -> T | None:
        """What the inner field reads for a missing attribute."""
        return self.inner.absent()

    def to_wire(self, value: T) -> AttributeValue | None:
        """The inner field's encoding, wrapped."""
        encoded = self.inner.to_wire(value)
        return None if encoded is None else self.wrap(encoded)

    def from_wire(self, attribute: AttributeValue) -> T:
        """The stored form unwrapped, read by the inner field."""
        if "NULL" in attribute:
            return self.inner.from_wire(attribute)
        return self.inner.from_wire(self.unwrap(attribute))

    def decode(self, attribute: AttributeValue) -> T:
        """The stored form unwrapped, decoded by the inner field."""
        return self.inner.decode(self.unwrap(attribute))

    def _fast_codec(self) -> tuple[Encoder, Decoder]:
        encode, decode = self.inner.fast_codec()
        wrap, unwrap = self.wrap, self.unwrap

        def encoder(value: Any) -> AttributeValue | None:
            encoded = encode(value)
            return None if encoded is None else wrap(encoded)

        def decoder(attribute: AttributeValue) -> Any:
            return decode(unwrap(attribute))

        return encoder, decoder

    def to_son(self, value: T) -> Any:
        """The inner field's JSON form (the plain value)."""
        return self.inner.to_son(value)

    def from_son(self, data: Any) -> T:
        """The inner field's reading of its JSON form."""
        return self.inner.from_son(data)

    def encode_update(self, value: Any) -> AttributeValue:
        """The value of a SET, checked by the inner field, wrapped."""
        return self.wrap(self.inner.encode_update(value))

    # -- what the stored form cannot do -------------------------------------------

    def _opaque(self, what: str) -> NoReturn:
        owner = self.owner.__name__ if self.owner is not None else "?"
        raise InvalidArgument(
            f"{owner}.{self.attr or self.name} is {self.opaque_as}: DynamoDB sees only its "
            f"stored bytes, so {what} cannot be sent; a condition may only test exists() or "
            "not_exists(), an update may only set() or remove() it"
        )

    def encode_operand(self, value: Any) -> AttributeValue:
        """Refused: the stored form cannot be compared."""
        self._opaque("a comparison with a value")

    def encode_member(self, value: Any) -> AttributeValue:
        """Refused: the stored form has no members."""
        self._opaque("contains() or a list append")

    def begins_with(self, prefix: Any) -> Condition:
        """Refused: the stored form cannot be compared."""
        self._opaque("begins_with()")

    def size(self) -> SizeOf:
        """Refused: the stored size is not the value's."""
        self._opaque("size()")

    def add(self, value: Any) -> UpdateAction:
        """Refused: DynamoDB cannot add to the stored form."""
        self._opaque("add()")

    def delete(self, values: Any) -> UpdateAction:
        """Refused: the stored form has no members."""
        self._opaque("delete()")

    def __getitem__(self, key: str | int) -> NestedAttribute:
        """Refused: the stored form has no nested paths."""
        self._opaque(f"a nested path ([{key!r}])")

    def __repr__(self) -> str:
        owner = self.owner.__name__ + "." if self.owner is not None else ""
        return (
            f"<{type(self).__name__}({type(self.inner).__name__}) {owner}{self.attr or self.name}>"
        )


def _chain(field: Field[Any]) -> Iterator[Field[Any]]:
    """``field`` and, while it wraps another, each field it wraps."""
    yield field
    while isinstance(field, WrappingField):
        field = field.inner
        yield field


def _nested_wrapping(field: Field[Any]) -> WrappingField[Any] | None:
    """The first wrapping field stored as a container's element inside ``field``
    (a list's or dict's ``of=``, at any depth), or None."""
    for link in _chain(field):
        element = link.of if isinstance(link, (ListField, DictField)) else None
        if element is None:
            continue
        if isinstance(element, WrappingField):
            return element
        found = _nested_wrapping(element)
        if found is not None:
            return found
    return None


def check_wrapping_fields(model: str, fields: Mapping[str, Field[Any]], *, is_map: bool) -> None:
    """ModelDefinitionError for a wrapping field used where its stored form cannot serve:
    a table or local index key, unique, a key-template part, (encrypted) in a map model,
    an element of a list or dict (at any depth), or around a field whose value DynamoDB
    must read (a VersionField's condition, a TTLField's expiry)."""
    for attr, field in fields.items():
        nested = _nested_wrapping(field)
        if nested is not None:
            kind = nested.opaque_as
            verb = "encrypt" if kind == "encrypted" else "compress"
            raise ModelDefinitionError(
                f"model {model}: field {attr} holds {kind} elements ({nested!r}), which a "
                f"list or dict cannot store: {verb} the whole container instead, e.g. "
                f"{type(nested).__name__}(ListField(...))"
            )
    wrapped = {attr: field for attr, field in fields.items() if isinstance(field, WrappingField)}
    for attr, field in wrapped.items():
        kind = field.opaque_as
        for candidate in _chain(field):
            if candidate.is_key or candidate.indexed:
                raise ModelDefinitionError(
                    f"model {model}: field {attr} is {kind}, so it cannot be a table or index "
                    "key (DynamoDB must read a key's value)"
                )
            if candidate.unique or candidate.template is not None:
                raise ModelDefinitionError(
                    f"model {model}: field {attr} is {kind}, so it cannot be unique or templated"
                )
            if isinstance(candidate, (VersionField, TTLField)):
                role = (
                    "the version of optimistic locking"
                    if isinstance(candidate, VersionField)
                    else "the expiry time of TTL"
                )
                raise ModelDefinitionError(
                    f"model {model}: field {attr} is {kind}, so it cannot hold {role} "
                    f"({type(candidate).__name__}): DynamoDB must read that value"
                )
        if is_map and field.binds_item:
            raise ModelDefinitionError(
                f"model {model}: field {attr} is encrypted, which a map model (stored inside "
                "another item) cannot be: encrypt the map field of the item instead"
            )
    for attr, templated in fields.items():
        if templated.template is None:
            continue
        for part in templated.template.names:
            part_field = fields.get(part)
            if part_field is not None and isinstance(part_field, WrappingField):
                raise ModelDefinitionError(
                    f"model {model}: field {attr}'s template {templated.template.source!r} uses "
                    f"{part}, which is {part_field.opaque_as}: its value would be written "
                    "into the key"
                )
