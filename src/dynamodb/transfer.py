"""``dynamodb.transfer``: export tables to files and import them (DynamoDB JSON, JSON, CSV).

``export_items(connection, "orders", open("orders.jsonl", "w"))`` writes
DynamoDB's S3 export format; see :mod:`dynamodb.models.transfer`. Not imported
by ``import dynamodb``.
"""

from __future__ import annotations

from dynamodb.models.transfer import *  # noqa: F403 - this module is their public path
from dynamodb.models.transfer import __all__ as __all__
