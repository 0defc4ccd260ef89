"""The original import path of the error classes: ``from dynamodb.exceptions import ...``.

Every error the library raises derives from :class:`DynamoDBError`; they are
defined in :mod:`dynamodb.core.errors` and re-exported here unchanged.
"""

from __future__ import annotations

from dynamodb.core.errors import *  # noqa: F403 - this module is the list of errors
from dynamodb.core.errors import __all__ as __all__
