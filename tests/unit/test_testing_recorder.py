"""``dynamodb.testing.record``: each request as a test asks about it.

The requests come from the library's own calls (queries, batches, transactions)
through a MockTransport, so the recorder is checked against what the library
really sends; the answers are the handler's.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest

import dynamodb
from dynamodb import (
    CharField,
    ConditionalCheckFailed,
    Connection,
    IntegerField,
    MockTransport,
    Model,
)
from dynamodb.testing import Call, Recording, record

Params = dict[str, Any]
TABLE = "unit_recorded_orders"


class Order(Model):
    __table_name__ = TABLE
    __secondary_indexes__ = {  # noqa: RUF012
        "by_status": {"hash_key": "status", "range_key": "total"},
    }

    customer = CharField(hash_key=True)
    order_id = CharField(range_key=True)
    status = CharField(default="open")
    total = IntegerField(default=0)


def stored(customer: str, order_id: str, total: int = 0) -> Params:
    return {
        "customer": {"S": customer},
        "order_id": {"S": order_id},
        "status": {"S": "open"},
        "total": {"N": str(total)},
    }


def answers(operation: str, params: Params) -> Params:
    """Found items for reads (from the keys asked), nothing for writes."""
    if operation in ("Query", "Scan"):
        items = [stored("ada", "1", 5), stored("ada", "2", 9)]
        return {"Items": items, "Count": len(items), "ScannedCount": 3}
    if operation == "GetItem":
        key = params["Key"]
        return {"Item": stored(key["customer"]["S"], key["order_id"]["S"])} if key else {}
    if operation == "BatchGetItem":
        keys = params["RequestItems"][TABLE]["Keys"]
        return {
            "Responses": {
                TABLE: [stored(k["customer"]["S"], k["order_id"]["S"]) for k in keys[:-1]]
            }
        }
    if operation == "TransactGetItems":
        return {"Responses": [{"Item": stored("ada", "1")}, {}]}
    if operation == "PutItem" and "ConditionExpression" in params:
        raise ConditionalCheckFailed("The conditional request failed", operation=operation)
    return {}


@pytest.fixture
def connection() -> Connection:
    return Connection(transport=MockTransport(answers))


def test_a_query_page_is_one_query_with_its_index_conditions_and_items(
    connection: Connection,
) -> None:
    with record() as calls:
        found, _ = (
            Order.query()
            .where(Order.status == "open", Order.total.gt(3), Order.customer.begins_with("a"))
            .limit(10)
            .using(connection)
            .get_items()
        )
    assert isinstance(calls, Recording)
    assert calls.operations() == ["Query"]
    [query] = calls
    assert query.table == TABLE
    assert query.tables == (TABLE,)
    assert query.index == "by_status"
    assert query.key_condition == "(status = 'open') AND (total > 3)"
    assert query.filter == "begins_with(customer, 'a')"
    assert query.items == len(found) == 2
    assert query.answered
    assert query.error is None


def test_reads_count_what_they_returned_and_writes_what_they_carried(
    connection: Connection,
) -> None:
    keys = [{"customer": "ada", "order_id": str(n)} for n in range(5)]
    with record() as calls:
        Order.get(customer="ada", order_id="1", connection=connection)
        Order.create(customer="ada", order_id="9", connection=connection)
        Order.batch_write([{**key, "total": 1} for key in keys], connection=connection)
        Order.batch_get(*keys, connection=connection)
        Order.scan().using(connection).all()
        with dynamodb.transaction(connection=connection) as tx:
            tx.put(Order(customer="bob", order_id="1"))
            tx.put(Order(customer="bob", order_id="2"))
        dynamodb.transact_get(
            [(Order, {"customer": "ada", "order_id": "1"}), (Order, keys[1])],
            connection=connection,
        )
    counted = [(c.operation, c.items) for c in calls]
    assert counted == [
        ("GetItem", 1),
        ("PutItem", 1),
        ("BatchWriteItem", 5),
        ("BatchGetItem", 4),
        ("Scan", 2),
        ("TransactWriteItems", 2),
        ("TransactGetItems", 1),
    ]
    assert [c.operation for c in calls.of("GetItem", "Scan")] == ["GetItem", "Scan"]
    assert calls[1:3] == [calls[1], calls[2]]


def test_a_failed_call_keeps_its_error_and_its_condition(connection: Connection) -> None:
    with record() as calls, pytest.raises(ConditionalCheckFailed):
        Order.create(customer="ada", order_id="1", overwrite=False, connection=connection)
    [put] = calls
    assert isinstance(put.error, ConditionalCheckFailed)
    assert not put.answered
    assert put.response is None
    assert put.condition == "attribute_not_exists(customer)"
    assert put.items == 1


def test_the_request_is_kept_as_sent(connection: Connection) -> None:
    params: Params = {"TableName": TABLE, "Key": {"customer": {"S": "a"}, "order_id": {"S": "1"}}}
    with record() as calls:
        connection.send("GetItem", params)
    params["Key"]["customer"]["S"] = "changed afterwards"
    assert calls[0].params["Key"]["customer"] == {"S": "a"}


def test_unprocessed_counts_what_a_batch_answer_left() -> None:
    left = {"UnprocessedItems": {TABLE: [{"PutRequest": {"Item": stored("a", "1")}}]}}
    write = Call("BatchWriteItem", {"RequestItems": {TABLE: []}})
    write.response = left
    read = Call("BatchGetItem", {"RequestItems": {}})
    read.response = {"UnprocessedKeys": {TABLE: {"Keys": [{}, {}], "ConsistentRead": True}}}
    assert (write.unprocessed, read.unprocessed, Call("Query", {}).unprocessed) == (1, 2, 0)


def test_expressions_are_written_out_and_a_value_that_is_not_one_is_shown_as_sent() -> None:
    query = Call(
        "Query",
        {
            "TableName": TABLE,
            "KeyConditionExpression": "#n0 = :v0 AND #n1.#n2 BETWEEN :v1 AND :v2",
            "FilterExpression": "size(#n3) > :bad OR :missing",
            "ExpressionAttributeNames": {"#n0": "id", "#n1": "doc", "#n2": "at", "#n3": "tags"},
            "ExpressionAttributeValues": {
                ":v0": {"S": "a:b #c"},
                ":v1": {"N": "1.5"},
                ":v2": {"N": "3"},
                ":bad": {"X": "?"},
            },
        },
    )
    assert query.key_condition == "id = 'a:b #c' AND doc.at BETWEEN 1.5 AND 3"
    assert query.filter == "size(tags) > {'X': '?'} OR :missing"
    assert (query.index, query.condition, query.items) == (None, None, 0)


def test_threads_and_tasks_of_the_block_are_recorded_and_blocks_nest(
    connection: Connection,
) -> None:
    keys = [{"customer": "ada", "order_id": str(n)} for n in range(250)]

    async def read() -> None:
        await Order.aget(customer="ada", order_id="1", connection=connection)

    with record() as outer:
        Order.batch_write(keys, concurrency=4, connection=connection)  # ten chunks on threads
        with record() as inner:
            asyncio.run(read())
    assert outer.operations() == ["BatchWriteItem"] * 10 + ["GetItem"]
    assert inner.operations() == ["GetItem"]
    assert sum(c.items for c in outer.of("BatchWriteItem")) == 250
    outer.clear()
    assert len(outer) == 0
    connection.send("GetItem", {"TableName": TABLE, "Key": {}})
    assert len(outer) == 0  # after the block: nothing more is listed


def test_importing_the_toolkit_needs_neither_pytest_nor_moto() -> None:
    probe = (
        "import sys, dynamodb; assert 'dynamodb.testing' not in sys.modules; "
        "import dynamodb.testing; print(sorted({'pytest', 'moto'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"
