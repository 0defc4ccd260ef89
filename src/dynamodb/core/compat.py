"""Names that moved into ``typing`` after Python 3.10."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from typing import Self, Unpack, dataclass_transform
else:  # pragma: no cover - exercised on Python 3.10 only
    from typing_extensions import Self, Unpack, dataclass_transform

if sys.version_info >= (3, 13):
    from typing import TypeVar
else:  # TypeVar defaults (PEP 696): the read types of fields, Field[T, V = T]
    from typing_extensions import TypeVar

__all__ = ["Self", "TypeVar", "Unpack", "dataclass_transform"]
