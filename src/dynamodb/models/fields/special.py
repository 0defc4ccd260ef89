"""Enums and JSON documents."""

from __future__ import annotations

import enum
import json
from typing import Any

from dynamodb.core.codec import AttributeValue
from dynamodb.core.compat import TypeVar
from dynamodb.core.errors import ModelDefinitionError
from dynamodb.models.fields.base import Field

E = TypeVar("E", bound=enum.Enum)
_Enum = TypeVar("_Enum", covariant=True, default=E)
"""What an EnumField reads as (``EnumField[Color, Color | None]``; see scalars.py)."""


class EnumField(Field[E, _Enum]):
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
