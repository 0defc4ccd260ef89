"""Strings, numbers, booleans, bytes and UUIDs."""

from __future__ import annotations

import base64
import uuid
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import TYPE_CHECKING, Any, cast

from dynamodb.core.codec import AttributeValue, decode_number, encode_number
from dynamodb.core.compat import TypeVar
from dynamodb.models.fields.base import (
    Decoder,
    Encoder,
    Field,
    _bytes_from_son,
    _RangedField,
    _SizedField,
    _type_error,
)

T = TypeVar("T")
V = TypeVar("V", covariant=True)

# What each field reads as (a parameter with a default: ``CharField`` is ``CharField[str]``,
# ``CharField[str | None]`` reads ``str | None``).
_Str = TypeVar("_Str", covariant=True, bound="str | None", default=str)
_Int = TypeVar("_Int", covariant=True, bound="int | None", default=int)
_Float = TypeVar("_Float", covariant=True, bound="float | None", default=float)
_Decimal = TypeVar("_Decimal", covariant=True, bound="Decimal | None", default=Decimal)
_Bool = TypeVar("_Bool", covariant=True, bound="bool | None", default=bool)
_Bytes = TypeVar("_Bytes", covariant=True, bound="bytes | None", default=bytes)
_UUID = TypeVar("_UUID", covariant=True, bound="uuid.UUID | None", default=uuid.UUID)


# The fast encoders and decoders: they trust values checked when assigned.


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


class CharField(_SizedField[str, _Str]):
    """A string (``S``). Keys and index keys cannot be empty strings."""

    key_type = "S"
    type_label = "a str"
    empty_label = "an empty string"
    accepts = str

    def to_wire(self, value: str) -> AttributeValue:
        return {"S": value}

    def decode(self, attribute: AttributeValue) -> str:
        return cast(str, attribute["S"])

    def _fast_codec(self) -> tuple[Encoder, Decoder]:
        return _encode_s, itemgetter("S")

    def _inline_codec(self) -> tuple[str | None, str | None]:
        return '{{"S": {value}}}', '{raw}["S"]'

    def _member_encoder(self, slow: Encoder) -> Encoder:
        if not self._unconstrained():
            return slow

        def encode(member: Any) -> AttributeValue | None:
            return {"S": member} if type(member) is str else slow(member)

        return encode


class _NumberField(_RangedField[T, V]):
    key_type = "N"

    def check(self, value: T) -> None:
        encode_number(cast(Any, value))
        self._check_range(value)

    def to_wire(self, value: T) -> AttributeValue:
        return {"N": encode_number(cast(Any, value))}


class IntegerField(_NumberField[int, _Int]):
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

    def _fast_codec(self) -> tuple[Encoder, Decoder]:
        return _encode_int, _decode_int

    def _inline_codec(self) -> tuple[str | None, str | None]:
        return '{{"N": str({value})}}', 'int({raw}["N"])'

    def _member_encoder(self, slow: Encoder) -> Encoder:
        if not self._unconstrained():
            return slow

        def encode(member: Any) -> AttributeValue | None:
            if type(member) is int:
                text = str(member)
                if len(text) <= 38:  # DynamoDB's precision; longer ones take the slow path
                    return {"N": text}
            return slow(member)

        return encode


class FloatField(_NumberField[float, _Float]):
    """A float (``N``, written as its shortest repr); ints are accepted."""

    type_label = "a float"

    if TYPE_CHECKING:  # what assignments and the typed constructor take (no run-time cost)

        def __set__(self, obj: object, value: float | Decimal | None) -> None: ...

    def convert(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise _type_error(self, value)
        return float(value)

    def decode(self, attribute: AttributeValue) -> float:
        return float(attribute["N"])

    def _fast_codec(self) -> tuple[Encoder, Decoder]:
        return _encode_float, _decode_float

    def _inline_codec(self) -> tuple[str | None, str | None]:
        return '{{"N": repr({value})}}', 'float({raw}["N"])'


class DecimalField(_NumberField[Decimal, _Decimal]):
    """An exact Decimal (``N``, up to 38 digits); ints and floats are converted exactly."""

    type_label = "a Decimal"

    if TYPE_CHECKING:  # what assignments and the typed constructor take (no run-time cost)

        def __set__(self, obj: object, value: Decimal | float | None) -> None: ...

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


class BooleanField(Field[bool, _Bool]):
    """A bool (``BOOL``)."""

    type_label = "a bool"
    accepts = bool

    def to_wire(self, value: bool) -> AttributeValue:
        return {"BOOL": value}

    def _fast_codec(self) -> tuple[Encoder, Decoder]:
        return self.to_wire, itemgetter("BOOL")

    def _inline_codec(self) -> tuple[str | None, str | None]:
        return '{{"BOOL": {value}}}', '{raw}["BOOL"]'

    def decode(self, attribute: AttributeValue) -> bool:
        if "BOOL" in attribute:
            return bool(attribute["BOOL"])
        # Older data may hold booleans as numbers.
        return bool(decode_number(attribute["N"]))


class BinaryField(_SizedField[bytes, _Bytes]):
    """Bytes (``B``)."""

    key_type = "B"
    type_label = "bytes"

    if TYPE_CHECKING:  # what assignments and the typed constructor take (no run-time cost)

        def __set__(self, obj: object, value: bytes | bytearray | memoryview | None) -> None: ...

    def convert(self, value: Any) -> bytes:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise _type_error(self, value)
        return bytes(value)

    def to_wire(self, value: bytes) -> AttributeValue:
        return {"B": value}

    def from_son(self, data: Any) -> bytes:
        """Base64 text (what ``to_son`` writes) to bytes; bytes are taken as they are."""
        return self.convert(_bytes_from_son(data))

    def decode(self, attribute: AttributeValue) -> bytes:
        raw = attribute["B"]
        return raw if isinstance(raw, bytes) else base64.b64decode(raw)


class UUIDField(Field[uuid.UUID, _UUID]):
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
