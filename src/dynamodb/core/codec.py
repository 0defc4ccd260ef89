"""Python values <-> DynamoDB AttributeValues, for untyped (nested) data.

Typed fields (:mod:`dynamodb.fields`) convert their own values; this module
handles what has no field to say its type: the contents of ``ListField``,
``DictField`` and ``SetField`` values, and the raw keys of cursors.

Numbers keep their exactness. Ints go out as their digits, floats as their
shortest ``repr``, Decimals as written. On the way back a number without a
fraction or exponent is an ``int``; one that a float reproduces exactly (its
shortest repr is the same decimal) is a ``float``; anything else (more digits
than a float holds) is a ``Decimal``. So ``1`` never comes back as ``1.0``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "AttributeValue",
    "EncodeError",
    "Item",
    "check_number",
    "decode_number",
    "decode_value",
    "encode_number",
    "encode_value",
    "wire_equal",
]

AttributeValue = dict[str, Any]
"""One DynamoDB AttributeValue: ``{"S": "x"}``, ``{"N": "1"}``, ``{"M": {...}}`` ..."""
Item = dict[str, AttributeValue]
"""An item or a key on the wire: attribute name to AttributeValue."""

# DynamoDB's number limits: 38 significant digits, magnitude 1E-130 .. <1E+126.
_MAX_DIGITS = 38
_MIN_ADJUSTED_EXPONENT = -130
_MAX_ADJUSTED_EXPONENT = 125


class EncodeError(ValueError):
    """A value cannot be stored in DynamoDB; fields turn it into FieldValidationError."""


def check_number(text: str) -> str:
    """Return ``text`` if DynamoDB can store it as a number, else raise EncodeError."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise EncodeError(f"{text!r} is not a number") from None
    if not number.is_finite():
        raise EncodeError("DynamoDB cannot store NaN or infinity")
    if number:
        # Count digits without normalize(): it rounds to the context's 28 digits.
        significant = "".join(map(str, number.as_tuple().digits)).rstrip("0")
        if len(significant) > _MAX_DIGITS:
            raise EncodeError(f"a number has at most {_MAX_DIGITS} significant digits")
        adjusted = number.adjusted()
        if not _MIN_ADJUSTED_EXPONENT <= adjusted <= _MAX_ADJUSTED_EXPONENT:
            raise EncodeError("a number's magnitude must be between 1E-130 and 1E+126")
    return text


def encode_number(value: int | float | Decimal) -> str:
    """The wire text of a number, checked against DynamoDB's limits."""
    if type(value) is int:
        text = str(value)
        # Fast path: an int of at most 38 digits always fits.
        if len(text) <= _MAX_DIGITS:
            return text
        return check_number(text)
    if type(value) is float:
        if not math.isfinite(value):
            raise EncodeError("DynamoDB cannot store NaN or infinity")
        text = repr(value)
        if value and not 1e-130 <= abs(value) < 1e126:
            raise EncodeError("a number's magnitude must be between 1E-130 and 1E+126")
        return text
    return check_number(str(value))


def decode_number(text: str) -> int | float | Decimal:
    """The Python number for a wire number, by the rule in the module docstring."""
    if text.isdigit() or ("." not in text and "e" not in text and "E" not in text):
        return int(text)
    as_float = float(text)
    if repr(as_float) == text:  # the common case, and cheap to check
        return as_float
    if math.isfinite(as_float) and Decimal(repr(as_float)) == Decimal(text):
        return as_float
    return Decimal(text)


def _encode_set(value: set[Any] | frozenset[Any]) -> AttributeValue:
    if not value:
        raise EncodeError("DynamoDB cannot store an empty set inside a list or map")
    kinds = {_set_kind(member) for member in value}
    if len(kinds) != 1:
        raise EncodeError("a set must hold only strings, only numbers or only bytes")
    kind = kinds.pop()
    if kind == "SS":
        return {"SS": sorted(value)}
    if kind == "NS":
        # Equal numbers of different types ({1, Decimal("1.0")}) are one member.
        unique = {Decimal(text): text for text in map(encode_number, value)}
        return {"NS": list(unique.values())}
    return {"BS": [bytes(member) for member in value]}


def _set_kind(member: Any) -> str:
    if isinstance(member, str):
        return "SS"
    if isinstance(member, (int, float, Decimal)) and not isinstance(member, bool):
        return "NS"
    if isinstance(member, (bytes, bytearray, memoryview)):
        return "BS"
    raise EncodeError(f"a set cannot hold {type(member).__name__} values")


def _encode_map(value: Mapping[Any, Any]) -> AttributeValue:
    encoded: dict[str, AttributeValue] = {}
    for key, member in value.items():
        if not isinstance(key, str):
            raise EncodeError(f"map keys must be strings, not {type(key).__name__}")
        if not key:
            raise EncodeError("DynamoDB cannot store an empty map key")
        encoded[key] = encode_value(member)
    return {"M": encoded}


def _encode_bytes(value: Any) -> AttributeValue:
    return {"B": bytes(value)}


_ENCODERS: dict[type, Callable[[Any], AttributeValue]] = {
    str: lambda value: {"S": value},
    bool: lambda value: {"BOOL": value},
    int: lambda value: {"N": encode_number(value)},
    float: lambda value: {"N": encode_number(value)},
    Decimal: lambda value: {"N": encode_number(value)},
    type(None): lambda value: {"NULL": True},
    bytes: _encode_bytes,
    bytearray: _encode_bytes,
    memoryview: _encode_bytes,
    list: lambda value: {"L": [encode_value(member) for member in value]},
    tuple: lambda value: {"L": [encode_value(member) for member in value]},
    dict: _encode_map,
    set: _encode_set,
    frozenset: _encode_set,
}


def encode_value(value: Any) -> AttributeValue:
    """Encode a nested value (str, number, bool, None, bytes, list, dict, set)."""
    kind = type(value)
    # The common kinds first, inline: this runs for every nested value written.
    if kind is str:
        return {"S": value}
    if kind is int:
        text = str(value)
        return {"N": text if len(text) <= _MAX_DIGITS else check_number(text)}
    encoder = _ENCODERS.get(kind)
    if encoder is not None:
        return encoder(value)
    to_map = getattr(value, "_to_wire_map", None)
    if to_map is not None:
        # A model instance nested in untyped data is stored as its map.
        return {"M": to_map()}
    for kind, fallback in _ENCODERS.items():
        if kind is not type(None) and isinstance(value, kind):
            return fallback(value)
    raise EncodeError(
        f"cannot store a {type(value).__name__} in an untyped list or map; "
        "use a typed field (ListField(of=...)) or JSONField"
    )


def _decode_set_numbers(values: list[str]) -> set[Any]:
    return {decode_number(text) for text in values}


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "S": lambda raw: raw,
    "N": decode_number,
    "BOOL": bool,
    "NULL": lambda raw: None,
    "B": lambda raw: raw if isinstance(raw, bytes) else bytes(raw),
    "L": lambda raw: [decode_value(member) for member in raw],
    "M": lambda raw: {key: decode_value(member) for key, member in raw.items()},
    "SS": set,
    "NS": _decode_set_numbers,
    "BS": lambda raw: {bytes(member) for member in raw},
}


def wire_equal(first: AttributeValue, second: AttributeValue) -> bool:
    """Whether two AttributeValues hold the same value (sets unordered, numbers by value)."""
    if first.keys() != second.keys():
        return False
    for tag, left in first.items():
        right = second[tag]
        if tag == "N":
            return bool(Decimal(left) == Decimal(right))
        if tag in ("SS", "BS"):
            return set(left) == set(right)
        if tag == "NS":
            return {Decimal(member) for member in left} == {Decimal(member) for member in right}
        if tag == "L":
            return len(left) == len(right) and all(map(wire_equal, left, right))
        if tag == "M":
            return left.keys() == right.keys() and all(
                wire_equal(member, right[key]) for key, member in left.items()
            )
        return bool(left == right)
    return True


def decode_value(attribute: AttributeValue) -> Any:
    """Decode an AttributeValue into plain Python values."""
    # The common tags first, tested inline: this runs for every nested value read.
    if "S" in attribute:
        return attribute["S"]
    if "N" in attribute:
        return decode_number(attribute["N"])
    if "M" in attribute:
        return {key: decode_value(member) for key, member in attribute["M"].items()}
    if "L" in attribute:
        return [decode_value(member) for member in attribute["L"]]
    for tag, raw in attribute.items():
        return _DECODERS[tag](raw)
    raise EncodeError("an AttributeValue must have exactly one type tag")
