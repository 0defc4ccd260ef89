"""Two field types of the kind a user writes, shared by the unit and integration tests.

``Lower`` and ``Cents`` subclass library fields that hand the per-class codec
faster encoders and decoders of their own; the tests check that the
overridden methods run instead.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dynamodb import CharField, IntegerField
from dynamodb.core.codec import AttributeValue

__all__ = ["CENT", "Cents", "Lower"]

CENT = Decimal("0.01")


class Lower(CharField):
    """Strings stored lower-cased, so lookups ignore case (overrides ``to_wire`` only)."""

    def to_wire(self, value: str) -> AttributeValue:
        return {"S": value.lower()}


class Cents(IntegerField):
    """Decimal dollars in Python, whole cents in DynamoDB (``convert``, ``to_wire``, ``decode``).

    The Python type changes (IntegerField is a ``Field[int]``), so the methods
    are typed ``Any``; a field type with a new Python type would rather subclass
    ``Field[Decimal]`` and set ``key_type = "N"``.
    """

    type_label = "an amount in dollars"

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise TypeError(f"expected dollars as an int or a Decimal, got {type(value).__name__}")
        dollars = Decimal(value)
        if dollars != dollars.quantize(CENT):
            raise ValueError("has a fraction of a cent")
        return dollars

    def to_wire(self, value: Any) -> AttributeValue:
        return {"N": str(int(value * 100))}

    def decode(self, attribute: AttributeValue) -> Any:
        return Decimal(attribute["N"]) / 100
