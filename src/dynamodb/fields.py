"""The original dynamodb-py's import path: ``from dynamodb.fields import CharField, ...``.

``Attribute`` is the original's name for the field base class; it is :class:`Field`.
"""

from __future__ import annotations

from dynamodb.models.fields import *  # noqa: F403 - this module is the list of fields
from dynamodb.models.fields import Field
from dynamodb.models.fields import __all__ as _FIELDS
from dynamodb.models.fields.base import MISSING

Attribute = Field
"""The original dynamodb-py's name for the field base class."""

__all__ = [*_FIELDS, "MISSING", "Attribute"]
