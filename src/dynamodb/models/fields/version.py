"""VersionField: the version number of optimistic locking."""

from __future__ import annotations

from typing import Any

from dynamodb.core.errors import ModelDefinitionError
from dynamodb.models.fields.base import MISSING
from dynamodb.models.fields.scalars import IntegerField

_KEY = "a key never changes, and the version changes with every write"
_UNSET = "a new item has no version until its first write stores 1"
_BOUNDS = "versions start at 1 and each write adds 1"

_REFUSED: dict[str, tuple[object, str]] = {
    "hash_key": (False, _KEY),
    "range_key": (False, _KEY),
    "default": (MISSING, _UNSET),
    "required": (False, _UNSET),
    "validator": (None, "writes set the version without calling a validator"),
    "minimum": (None, _BOUNDS),
    "maximum": (None, _BOUNDS),
}
"""The options a VersionField refuses: (the value that means "not given", why)."""


class VersionField(IntegerField):
    """Optimistic locking: a version number, at most one per model.

    Every write of an item read at version n is conditional on the stored
    version still being n, and stores n + 1; a lost race raises
    :class:`~dynamodb.exceptions.VersionConflict`. New items start at 1.
    It takes ``name``, ``doc`` and the index options; any other option (a key,
    a default, ``required``, a validator, bounds) raises ModelDefinitionError,
    whatever its value, unless it is the value that means "not given".
    """

    type_label = "an int version"

    def __init__(self, name: str | None = None, **options: Any) -> None:
        for option, (unset, reason) in _REFUSED.items():
            if options.pop(option, unset) is not unset:
                raise ModelDefinitionError(f"VersionField does not take {option}= ({reason})")
        super().__init__(name, minimum=0, **options)
