"""The original dynamodb-py's import path: ``from dynamodb.fields import CharField, ...``.

``Attribute`` is the original's name for the field base class; it is :class:`Field`.
"""

from __future__ import annotations

from dynamodb.models.fields import (
    MISSING,
    BinaryField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    DictField,
    EnumField,
    Field,
    FloatField,
    IntegerField,
    JSONField,
    ListField,
    MapField,
    NestedAttribute,
    SetField,
    TimeDeltaField,
    UUIDField,
    VersionField,
)

Attribute = Field
"""The original dynamodb-py's name for the field base class."""

__all__ = [
    "MISSING",
    "Attribute",
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
