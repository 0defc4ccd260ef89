"""VersionField: the version number of optimistic locking."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, TypeVar

from dynamodb.core.errors import ModelDefinitionError
from dynamodb.models.fields.scalars import IntegerField

if TYPE_CHECKING:
    from dynamodb.models.model import Model


T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)
M = TypeVar("M", bound="Model")


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
