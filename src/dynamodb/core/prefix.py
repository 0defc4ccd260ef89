"""Table-name prefixes: the names a connection sends get its prefix, the ones it reads lose it.

``Connection(table_prefix="dev_")`` runs every flow through :func:`with_table_prefix`,
at the edge, just before the transport: a flow asks for table ``Test`` and DynamoDB
sees ``dev_Test``. Everything above the edge (the model layer, retries, the naming of
missing tables) keeps working with the names the models declare, so the rewriting is
done in one place, for every transport.

Sent, the prefix is added to: ``TableName`` (table operations, item operations,
queries, scans, TTL, ListStreams ...), the keys of ``RequestItems`` (BatchGetItem,
BatchWriteItem), each ``TransactItems`` action's ``TableName`` (TransactWriteItems,
TransactGetItems), and ListTables' ``ExclusiveStartTableName``.

Received, it is removed from: ``TableName`` in ``TableDescription``, ``Table``,
``StreamDescription``, ``TableAutoScalingDescription``, ``ConsumedCapacity`` (one, or a
list) and ``Streams``; the keys of ``Responses``, ``UnprocessedItems``,
``UnprocessedKeys`` and (batch writes, transactions) ``ItemCollectionMetrics``; and
ListTables' ``TableNames`` and ``LastEvaluatedTableName``. ListTables and ListStreams
list only the tables (streams) that carry the prefix.

Not rewritten: ARNs (``TableArn``, ``LatestStreamArn``, ``StreamArn``: DescribeStream
and the like take them as DynamoDB gave them), the text of PartiQL statements, and
error messages (a ResourceNotFound's message names the prefixed table).
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from dynamodb.core.errors import InvalidValue
from dynamodb.core.flow import Flow, Request, Step, relay

__all__ = ["check_prefix", "prefixed_request", "unprefixed_response", "with_table_prefix"]

T = TypeVar("T")

_NAME_CHARACTERS = re.compile(r"[A-Za-z0-9_.-]*")
_MAX_PREFIX = 254  # a table name is at most 255 characters, and the model adds one at least

_DESCRIPTIONS = ("TableDescription", "Table", "StreamDescription", "TableAutoScalingDescription")
"""Answer members that describe one table by its ``TableName``."""

_BY_TABLE = ("Responses", "UnprocessedItems", "UnprocessedKeys")
"""Answer members keyed by table name (when dicts: TransactGetItems' Responses is a list)."""

_METRICS_BY_TABLE = frozenset({"BatchWriteItem", "TransactWriteItems"})
"""The operations whose ``ItemCollectionMetrics`` is keyed by table (an item write's is not)."""

_NAMING = frozenset(
    (*_DESCRIPTIONS, *_BY_TABLE, "ConsumedCapacity", "ItemCollectionMetrics", "Streams")
)
"""Every answer member that may hold a table name: an answer with none is given back as is."""


def check_prefix(prefix: object) -> str:
    """``prefix`` if it can start DynamoDB table names, else InvalidValue.

    A table name is 3 to 255 characters of letters, digits, ``_``, ``-`` and ``.``,
    so a prefix is a ``str`` of those characters (``""``: no prefix), at most 254 long.
    """
    if not isinstance(prefix, str):
        raise InvalidValue(
            f"table_prefix is a str (letters, digits, '_', '-', '.'): {prefix!r} is a "
            f"{type(prefix).__name__}"
        )
    if not _NAME_CHARACTERS.fullmatch(prefix):
        wrong = sorted({char for char in prefix if not _NAME_CHARACTERS.fullmatch(char)})
        raise InvalidValue(
            f"table_prefix {prefix!r} holds {''.join(wrong)!r}: DynamoDB table names take "
            "only letters, digits, '_', '-' and '.'"
        )
    if len(prefix) > _MAX_PREFIX:
        raise InvalidValue(
            f"table_prefix is {len(prefix)} characters long: a table name is at most 255, "
            f"so a prefix at most {_MAX_PREFIX}"
        )
    return prefix


def with_table_prefix(flow: Flow[T], prefix: str) -> Flow[T]:
    """``flow``, with ``prefix`` added to the table names it sends and removed from
    the ones it reads (``flow`` itself when ``prefix`` is ``""``).

    The flow's own requests are not changed: it (and what wraps it, such as the
    naming of missing tables) sees the names it gave. Errors reach it as DynamoDB
    raised them. ListTables may take several requests: pages that hold none of
    the prefix's tables are read through (see :func:`_list_tables`).
    """
    if not prefix:
        return flow

    def handle(step: Step) -> Flow[Any]:
        if not isinstance(step, Request):  # a sleep, or user code: nothing to rewrite
            return (yield step)
        if step.operation == "ListTables":
            return (yield from _list_tables(step, prefix))
        params = prefixed_request(step.operation, step.params, prefix)
        response = yield Request(step.operation, params, step.idempotent)
        return unprefixed_response(step.operation, response, prefix)

    return relay(flow, handle)


def prefixed_request(operation: str, params: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The parameters of ``operation`` with ``prefix`` added to every table name.

    ``params`` is not changed; the new dict shares what it does not rewrite.
    """
    sent = dict(params)
    name = params.get("TableName")
    if isinstance(name, str):
        sent["TableName"] = prefix + name
    start = params.get("ExclusiveStartTableName")
    if operation == "ListTables" and isinstance(start, str):
        sent["ExclusiveStartTableName"] = prefix + start
    items = params.get("RequestItems")
    if isinstance(items, dict):
        sent["RequestItems"] = {prefix + table: value for table, value in items.items()}
    actions = params.get("TransactItems")
    if isinstance(actions, list):
        sent["TransactItems"] = [_prefixed_action(action, prefix) for action in actions]
    return sent


def _prefixed_action(action: Any, prefix: str) -> Any:
    """A TransactItems entry, ``{"Put": {"TableName": ..., ...}}``, with its table prefixed."""
    if not isinstance(action, dict):
        return action
    return {
        kind: (
            {**body, "TableName": prefix + body["TableName"]}
            if isinstance(body, dict) and isinstance(body.get("TableName"), str)
            else body
        )
        for kind, body in action.items()
    }


def unprefixed_response(operation: str, response: dict[str, Any], prefix: str) -> dict[str, Any]:
    """DynamoDB's answer to ``operation`` with ``prefix`` removed from its table names.

    Names without the prefix are left as they are. ``response`` is not changed
    (it is returned itself when nothing in it names a table); the new dict shares
    what it does not rewrite. ListStreams' ``Streams`` keeps
    only the streams of tables with the prefix. ListTables is not for this
    function: :func:`with_table_prefix` pages through the other tables' names.
    """
    if response.keys().isdisjoint(_NAMING):
        return response  # most item answers: nothing names a table
    answer = dict(response)
    for member in _DESCRIPTIONS:
        if isinstance(response.get(member), dict):
            answer[member] = _unprefixed_name(response[member], prefix)
    capacity = response.get("ConsumedCapacity")
    if isinstance(capacity, dict):
        answer["ConsumedCapacity"] = _unprefixed_name(capacity, prefix)
    elif isinstance(capacity, list):
        answer["ConsumedCapacity"] = [_unprefixed_name(entry, prefix) for entry in capacity]
    members = _BY_TABLE + (("ItemCollectionMetrics",) if operation in _METRICS_BY_TABLE else ())
    for member in members:
        by_table = response.get(member)
        if isinstance(by_table, dict):
            answer[member] = {_strip(table, prefix): value for table, value in by_table.items()}
    streams = response.get("Streams")
    if isinstance(streams, list):
        answer["Streams"] = [
            _unprefixed_name(stream, prefix) for stream in streams if _ours(stream, prefix)
        ]
    return answer


def _list_tables(step: Request, prefix: str) -> Flow[dict[str, Any]]:
    """ListTables as seen through ``prefix``: the tables that carry it, without it.

    ``ExclusiveStartTableName`` and ``LastEvaluatedTableName`` are unprefixed names,
    so a caller pages as usual. A page that DynamoDB ends on another table (or
    fills with other tables) is followed by the next one, until a page ends on a
    table with the prefix, the list ends, or ``Limit`` tables with the prefix
    were found; at most ``Limit`` are returned.
    """
    params = prefixed_request(step.operation, step.params, prefix)
    limit = params.get("Limit")
    found: list[str] = []
    while True:
        response = yield Request(step.operation, params, step.idempotent)
        found.extend(
            name
            for name in response.get("TableNames") or ()
            if isinstance(name, str) and name.startswith(prefix)
        )
        last = response.get("LastEvaluatedTableName")
        if isinstance(limit, int) and 0 < limit <= len(found):
            if len(found) > limit or last is not None:
                last = found[limit - 1]  # the next page starts after the last one returned
            found = found[:limit]
        if not isinstance(last, str) or last.startswith(prefix):
            break
        params = {**params, "ExclusiveStartTableName": last}
    answer = {
        key: value
        for key, value in response.items()
        if key not in ("TableNames", "LastEvaluatedTableName")
    }
    answer["TableNames"] = [name[len(prefix) :] for name in found]
    if isinstance(last, str):
        answer["LastEvaluatedTableName"] = last[len(prefix) :]
    return answer


def _strip(name: str, prefix: str) -> str:
    return name[len(prefix) :] if isinstance(name, str) and name.startswith(prefix) else name


def _ours(entry: Any, prefix: str) -> bool:
    name = entry.get("TableName") if isinstance(entry, dict) else None
    return not isinstance(name, str) or name.startswith(prefix)


def _unprefixed_name(entry: Any, prefix: str) -> Any:
    """``entry`` (a dict with a ``TableName``) with the prefix removed from that name."""
    if not isinstance(entry, dict) or not isinstance(entry.get("TableName"), str):
        return entry
    return {**entry, "TableName": _strip(entry["TableName"], prefix)}
