"""DynamoDB Streams as typed changes: ``dynamodb.streams``.

Give a model ``__stream__ = "NEW_AND_OLD_IMAGES"``, create (or update) its
table, and read its changes::

    from dynamodb.streams import TableCheckpoints

    for change in Order.stream(checkpoints=TableCheckpoints("stream_checkpoints")):
        if change.kind == "modify" and "status" in change.changed:
            notify(change.new)

``read(Table(Order))`` (or a list of the models sharing a table) reads every
model's changes; ``parse_lambda_event`` turns a Lambda event into the same
:class:`Change` records, and ``batch_item_failures`` builds the answer of a
function that failed some of them.
"""

from __future__ import annotations

from dynamodb.core.leases import Checkpoints, MemoryCheckpoints, TableCheckpoints
from dynamodb.core.streams import STREAM_VIEWS
from dynamodb.models.streams import (
    KINDS,
    Change,
    ChangeStream,
    StreamOptions,
    batch_item_failures,
    handle_lambda_event,
    parse_lambda_event,
    read,
)

__all__ = [
    "KINDS",
    "STREAM_VIEWS",
    "Change",
    "ChangeStream",
    "Checkpoints",
    "MemoryCheckpoints",
    "StreamOptions",
    "TableCheckpoints",
    "batch_item_failures",
    "handle_lambda_event",
    "parse_lambda_event",
    "read",
]
