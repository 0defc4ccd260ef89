"""Pure builders and flows for single items and tables.

Nothing here does I/O: functions build request dicts, and flows (generators,
see :mod:`dynamodb.core.flow`) yield them and read the responses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dynamodb.core.codec import Item
from dynamodb.core.errors import ResourceInUse, ResourceNotFound, SchemaMismatch, WaitTimeout
from dynamodb.core.expressions import Path, Placeholders
from dynamodb.core.flow import Flow, call, sleep

if TYPE_CHECKING:
    from dynamodb.models.schema import TableSchema

__all__ = [
    "ITEM_OPERATIONS",
    "WaitPolicy",
    "count_items",
    "create_table",
    "delete_table",
    "describe_table",
    "ensure_table",
    "get_item_request",
    "update_table",
    "wait_until_active",
    "wait_until_gone",
]


# -- items ----------------------------------------------------------------------

ITEM_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
"""The API operations that read or write items (the data plane, PartiQL aside)."""


def get_item_request(
    table: str,
    key: Item,
    consistent: bool = False,
    attributes: Iterable[str | Path] | None = None,
) -> dict[str, Any]:
    """A GetItem request, reading only ``attributes`` (names or document paths) when given."""
    request: dict[str, Any] = {"TableName": table, "Key": key}
    if consistent:
        request["ConsistentRead"] = True
    if attributes is not None:
        placeholders = Placeholders()
        request["ProjectionExpression"] = placeholders.projection(attributes)
        placeholders.apply(request)
    return request


def count_items(table: str, consistent: bool = False) -> Flow[int]:
    """Count every item exactly with a paged ``Select=COUNT`` scan."""
    request: dict[str, Any] = {"TableName": table, "Select": "COUNT"}
    if consistent:
        request["ConsistentRead"] = True
    total = 0
    while True:
        response = yield from call("Scan", request)
        total += int(response.get("Count", 0))
        last = response.get("LastEvaluatedKey")
        if not last:
            return total
        request = {**request, "ExclusiveStartKey": last}


# -- tables ---------------------------------------------------------------------


class WaitPolicy:
    """How table waits poll: first delay, growth, largest delay, total budget (seconds)."""

    __slots__ = ("first", "growth", "largest", "timeout")

    def __init__(
        self, first: float = 0.05, growth: float = 2.0, largest: float = 2.0, timeout: float = 600.0
    ) -> None:
        self.first = first
        self.growth = growth
        self.largest = largest
        self.timeout = timeout

    def delays(self) -> Iterable[float]:
        """Successive delays, stopping once their sum would pass the timeout."""
        delay, waited = self.first, 0.0
        while waited + delay <= self.timeout:
            yield delay
            waited += delay
            delay = min(delay * self.growth, self.largest)


def describe_table(table: str) -> Flow[dict[str, Any]]:
    """DescribeTable; the ``Table`` part of the answer."""
    response = yield from call("DescribeTable", {"TableName": table})
    description: dict[str, Any] = response["Table"]
    return description


def _is_active(description: dict[str, Any]) -> bool:
    if description.get("TableStatus") != "ACTIVE":
        return False
    return all(
        index.get("IndexStatus", "ACTIVE") == "ACTIVE"
        for index in description.get("GlobalSecondaryIndexes", [])
    )


def wait_until_active(table: str, policy: WaitPolicy | None = None) -> Flow[dict[str, Any]]:
    """Poll until the table and all its global indexes are ACTIVE."""
    policy = policy or WaitPolicy()
    for delay in policy.delays():
        try:
            description = yield from describe_table(table)
        except ResourceNotFound:
            # Just after CreateTable, some endpoints do not list the table yet.
            description = {}
        if _is_active(description):
            return description
        yield from sleep(delay)
    raise WaitTimeout(f"table {table} was not ACTIVE after {policy.timeout} s")


def wait_until_gone(table: str, policy: WaitPolicy | None = None) -> Flow[None]:
    """Poll until DescribeTable says the table does not exist."""
    policy = policy or WaitPolicy()
    for delay in policy.delays():
        try:
            yield from describe_table(table)
        except ResourceNotFound:
            return
        yield from sleep(delay)
    raise WaitTimeout(f"table {table} still existed after {policy.timeout} s")


def create_table(
    schema: TableSchema, wait: bool = True, policy: WaitPolicy | None = None
) -> Flow[dict[str, Any]]:
    """CreateTable, then (by default) wait until it is ACTIVE; the description."""
    response = yield from call("CreateTable", schema.create_table_request())
    if not wait and schema.ttl_attribute is None:
        description: dict[str, Any] = response["TableDescription"]
        return description
    description = yield from wait_until_active(schema.table_name, policy)
    if schema.ttl_attribute is not None:
        yield from enable_ttl(schema.table_name, schema.ttl_attribute)
    return description


def describe_ttl(table: str) -> Flow[dict[str, Any]]:
    """DescribeTimeToLive's TimeToLiveDescription (``TimeToLiveStatus``, ``AttributeName``)."""
    response = yield from call("DescribeTimeToLive", {"TableName": table})
    description: dict[str, Any] = response.get("TimeToLiveDescription", {})
    return description


def enable_ttl(table: str, attribute: str) -> Flow[None]:
    """Turn Time to Live on for ``attribute``, unless it is on for it already.

    A table's TTL attribute cannot be switched while TTL is on (AWS also allows one
    change an hour): SchemaMismatch says so.
    """
    current = yield from describe_ttl(table)
    status = current.get("TimeToLiveStatus", "DISABLED")
    if status in ("ENABLED", "ENABLING"):
        if current.get("AttributeName") == attribute:
            return
        raise SchemaMismatch(
            f"table {table}: Time to Live is on for {current.get('AttributeName')!r}, the "
            f"model's TTLField is {attribute!r}; turn it off first (AWS allows one change "
            "an hour)"
        )
    specification = {"Enabled": True, "AttributeName": attribute}
    yield from call(
        "UpdateTimeToLive", {"TableName": table, "TimeToLiveSpecification": specification}
    )


def delete_table(
    table: str, wait: bool = True, missing_ok: bool = False, policy: WaitPolicy | None = None
) -> Flow[bool]:
    """DeleteTable, then (by default) wait until it is gone; False if it did not exist."""
    try:
        yield from call("DeleteTable", {"TableName": table})
    except ResourceNotFound:
        if missing_ok:
            return False
        raise
    if wait:
        yield from wait_until_gone(table, policy)
    return True


def ensure_table(
    schema: TableSchema, force: bool = False, policy: WaitPolicy | None = None
) -> Flow[dict[str, Any]]:
    """Create the table; ``force`` drops an existing one first, else it is left alone."""
    if force:
        yield from delete_table(schema.table_name, missing_ok=True, policy=policy)
    try:
        return (yield from create_table(schema, policy=policy))
    except ResourceInUse:
        if force:
            raise
        return (yield from wait_until_active(schema.table_name, policy))


def update_table(schema: TableSchema, policy: WaitPolicy | None = None) -> Flow[dict[str, Any]]:
    """Make the table match the schema (capacity, billing, global indexes)."""
    description = yield from wait_until_active(schema.table_name, policy)
    for request in schema.update_table_requests(description):
        yield from call("UpdateTable", request)
        description = yield from wait_until_active(schema.table_name, policy)
    if schema.ttl_attribute is not None:
        yield from enable_ttl(schema.table_name, schema.ttl_attribute)
    return description
