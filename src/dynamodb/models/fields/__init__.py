"""Typed fields: descriptors that validate, and convert to and from the wire.

A field is a generic descriptor ``Field[T]``: on the class it is the field
itself (``Test.score.gt(5)``), on an instance it is the value, a ``T`` (or the
read type its annotation gives, ``CharField[str | None]``).
Values are checked when assigned; containers (whose contents can change in
place) are checked again when encoded for a write. One module per kind:
:mod:`.base` (``Field``), :mod:`.scalars`, :mod:`.temporal`, :mod:`.containers`,
:mod:`.special`, :mod:`.version`, :mod:`.wrapped` (:mod:`.encrypted`,
:mod:`.compressed`), and :mod:`.paths` (nested paths and update actions).
"""

from __future__ import annotations

from dynamodb.models.fields.base import Field
from dynamodb.models.fields.compressed import CompressedField
from dynamodb.models.fields.containers import DictField, ListField, MapField, SetField
from dynamodb.models.fields.encrypted import EncryptedField
from dynamodb.models.fields.paths import NestedAttribute
from dynamodb.models.fields.scalars import (
    BinaryField,
    BooleanField,
    CharField,
    DecimalField,
    FloatField,
    IntegerField,
    UUIDField,
)
from dynamodb.models.fields.special import EnumField, JSONField
from dynamodb.models.fields.temporal import DateField, DateTimeField, TimeDeltaField, TTLField
from dynamodb.models.fields.version import VersionField

__all__ = [
    "BinaryField",
    "BooleanField",
    "CharField",
    "CompressedField",
    "DateField",
    "DateTimeField",
    "DecimalField",
    "DictField",
    "EncryptedField",
    "EnumField",
    "Field",
    "FloatField",
    "IntegerField",
    "JSONField",
    "ListField",
    "MapField",
    "NestedAttribute",
    "SetField",
    "TTLField",
    "TimeDeltaField",
    "UUIDField",
    "VersionField",
]
